//! The values that cross between the shared queries and a backend's driver: a query is SQL text
//! with `$N` placeholders (both SQLite and PostgreSQL bind those) plus typed arguments, and a
//! row comes back as named [`Value`]s. Every column of the schema is text, a 64-bit integer, a
//! double or a boolean, so four kinds cover every statement; the backend converts them to and
//! from its own driver types in one place (`sqlite.rs`, `postgres/mod.rs`).

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;

use crate::blob::BlobKey;
use crate::ids::{AccountId, AssetId, DeliveryId, JobId, KeyId, VideoId};
use crate::StoreError;

type R<T> = Result<T, StoreError>;

/// One bound argument. `None` is a typed NULL (PostgreSQL wants to know the type).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
}

/// SQL text and its arguments, in placeholder order.
#[derive(Clone, Debug)]
pub(crate) struct Query {
    pub sql: Cow<'static, str>,
    pub args: Vec<Arg>,
}

/// A statement to bind arguments to: `query("... $1 ...").bind(x)`.
pub(crate) fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

impl Query {
    pub fn bind(mut self, value: impl IntoArg) -> Self {
        self.args.push(value.into_arg());
        self
    }
}

/// What a Rust value binds as.
pub(crate) trait IntoArg {
    fn into_arg(self) -> Arg;
}

impl IntoArg for Arg {
    fn into_arg(self) -> Arg {
        self
    }
}
impl IntoArg for i64 {
    fn into_arg(self) -> Arg {
        Arg::Int(Some(self))
    }
}
impl IntoArg for Option<i64> {
    fn into_arg(self) -> Arg {
        Arg::Int(self)
    }
}
impl IntoArg for f64 {
    fn into_arg(self) -> Arg {
        Arg::Real(Some(self))
    }
}
impl IntoArg for bool {
    fn into_arg(self) -> Arg {
        Arg::Bool(Some(self))
    }
}
impl IntoArg for String {
    fn into_arg(self) -> Arg {
        Arg::Text(Some(self))
    }
}
impl IntoArg for &str {
    fn into_arg(self) -> Arg {
        Arg::Text(Some(self.to_owned()))
    }
}
impl IntoArg for &String {
    fn into_arg(self) -> Arg {
        Arg::Text(Some(self.clone()))
    }
}
impl IntoArg for Option<String> {
    fn into_arg(self) -> Arg {
        Arg::Text(self)
    }
}
impl IntoArg for Option<&str> {
    fn into_arg(self) -> Arg {
        Arg::Text(self.map(str::to_owned))
    }
}
impl IntoArg for &BlobKey {
    fn into_arg(self) -> Arg {
        Arg::Text(Some(self.as_str().to_owned()))
    }
}
impl IntoArg for Option<&BlobKey> {
    fn into_arg(self) -> Arg {
        Arg::Text(self.map(|k| k.as_str().to_owned()))
    }
}

/// Ids are stored as their hyphenated text.
macro_rules! id_args {
    ($($id:ty),*) => {$(
        impl IntoArg for $id {
            fn into_arg(self) -> Arg {
                Arg::Text(Some(self.to_string()))
            }
        }
        impl IntoArg for Option<$id> {
            fn into_arg(self) -> Arg {
                Arg::Text(self.map(|id| id.to_string()))
            }
        }
    )*};
}
id_args!(AccountId, AssetId, DeliveryId, JobId, KeyId, VideoId);

/// One value read back.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
}

/// A row: column names (shared by every row of one result) and values.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    pub fn new(names: Arc<[String]>, values: Vec<Value>) -> Self {
        Self { names, values }
    }

    pub fn values(self) -> Vec<Value> {
        self.values
    }

    fn value(&self, name: &str) -> R<&Value> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("no column {name:?} in the row")))
    }

    /// The column `name` as `T`.
    pub fn get<T: FromValue>(&self, name: &str) -> R<T> {
        T::from_value(self.value(name)?)
            .map_err(|why| StoreError::Corrupt(format!("column {name:?}: {why}")))
    }

    /// The first column, for single-value queries.
    pub fn first<T: FromValue>(&self) -> R<T> {
        let v = self
            .values
            .first()
            .ok_or_else(|| StoreError::Corrupt("an empty row".into()))?;
        T::from_value(v).map_err(StoreError::Corrupt)
    }

    /// A stored id or name (job kind, scope, ledger reason) parsed into its type: a corrupt row
    /// is an error here rather than a bad value further on.
    pub fn parsed<T: FromStr>(&self, name: &str) -> R<T> {
        let s: String = self.get(name)?;
        parse(&s, name)
    }

    pub fn parsed_opt<T: FromStr>(&self, name: &str) -> R<Option<T>> {
        let s: Option<String> = self.get(name)?;
        s.map(|s| parse(&s, name)).transpose()
    }

    /// A JSON document stored as text.
    pub fn json(&self, name: &str) -> R<serde_json::Value> {
        let s: String = self.get(name)?;
        serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))
    }

    pub fn json_opt(&self, name: &str) -> R<Option<serde_json::Value>> {
        let s: Option<String> = self.get(name)?;
        s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{name}: {e}"))))
            .transpose()
    }
}

fn parse<T: FromStr>(s: &str, column: &str) -> R<T> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad {column} {s:?}")))
}

/// What a stored value reads back as.
pub(crate) trait FromValue: Sized {
    fn from_value(v: &Value) -> Result<Self, String>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => Ok(*i),
            Value::Bool(b) => Ok(*b as i64),
            other => Err(format!("expected an integer, found {other:?}")),
        }
    }
}

impl FromValue for f64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Real(f) => Ok(*f),
            // SQLite stores a REAL with no fraction as an integer.
            Value::Int(i) => Ok(*i as f64),
            other => Err(format!("expected a number, found {other:?}")),
        }
    }
}

impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Bool(b) => Ok(*b),
            // SQLite has no boolean type: TRUE is 1.
            Value::Int(i) => Ok(*i != 0),
            other => Err(format!("expected a boolean, found {other:?}")),
        }
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => Err(format!("expected text, found {other:?}")),
        }
    }
}

impl FromValue for BlobKey {
    fn from_value(v: &Value) -> Result<Self, String> {
        BlobKey::parse(&String::from_value(v)?).map_err(|e| e.to_string())
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, Value)]) -> Row {
        let names: Arc<[String]> = pairs.iter().map(|(n, _)| n.to_string()).collect();
        Row::new(names, pairs.iter().map(|(_, v)| v.clone()).collect())
    }

    #[test]
    fn reads_each_kind_and_nulls() {
        let r = row(&[
            ("n", Value::Int(7)),
            ("b", Value::Int(1)),
            ("t", Value::Text("x".into())),
            ("z", Value::Null),
        ]);
        assert_eq!(r.get::<i64>("n").unwrap(), 7);
        assert!(r.get::<bool>("b").unwrap());
        assert_eq!(r.get::<f64>("n").unwrap(), 7.0);
        assert_eq!(r.get::<String>("t").unwrap(), "x");
        assert_eq!(r.get::<Option<String>>("z").unwrap(), None);
        assert!(r.get::<String>("z").is_err(), "a NULL is not text");
        assert!(r.get::<i64>("t").is_err(), "text is not an integer");
        assert!(r.get::<i64>("missing").is_err());
    }

    #[test]
    fn a_corrupt_id_is_an_error_not_a_default() {
        let r = row(&[("id", Value::Text("not-a-uuid".into()))]);
        let err = r.parsed::<JobId>("id").unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    }
}
