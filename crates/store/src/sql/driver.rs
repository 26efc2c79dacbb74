//! The sqlx side of a [`super::Conn`], written once for both drivers: a pooled connection or an
//! open transaction, binding a [`Query`]'s arguments, and reading rows' column names. Only the
//! decoding of values (SQLite types values, PostgreSQL types columns) is each backend's own.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Column, Database, Encode, Executor, IntoArguments, Row as _, Transaction, Type};

use super::value::{Arg, Query, Row};
use crate::StoreError;

type R<T> = Result<T, StoreError>;

/// A pooled connection, or an open transaction (committed by [`DbConn::commit`], rolled back
/// when dropped).
pub enum DbConn<DB: Database> {
    Pooled(PoolConnection<DB>),
    Tx(Transaction<'static, DB>),
}

impl<DB: Database> DbConn<DB> {
    pub(crate) fn raw(&mut self) -> &mut DB::Connection {
        match self {
            Self::Pooled(c) => c,
            Self::Tx(t) => t,
        }
    }

    pub(crate) async fn commit(self) -> R<()> {
        if let Self::Tx(t) = self {
            t.commit().await?;
        }
        Ok(())
    }
}

/// The query with its arguments bound, as the driver's own types.
pub(crate) fn bind<'q, DB: Database>(q: &'q Query) -> sqlx::query::Query<'q, DB, DB::Arguments<'q>>
where
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<bool>: Encode<'q, DB> + Type<DB>,
{
    let mut out = sqlx::query(&q.sql);
    for arg in &q.args {
        out = match arg.clone() {
            Arg::Int(v) => out.bind(v),
            Arg::Real(v) => out.bind(v),
            Arg::Text(v) => out.bind(v),
            Arg::Bool(v) => out.bind(v),
        };
    }
    out
}

/// Runs `q` and converts every row with `decode`, the rows sharing one list of column names.
pub(crate) async fn fetch_rows<DB: Database>(
    conn: &mut DB::Connection,
    q: &Query,
    decode: fn(&Arc<[String]>, &DB::Row) -> R<Row>,
) -> R<Vec<Row>>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<f64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<bool>: Encode<'q, DB> + Type<DB>,
{
    let found = bind::<DB>(q).fetch_all(conn).await?;
    let Some(first) = found.first() else {
        return Ok(Vec::new());
    };
    let names: Arc<[String]> = first
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    found.iter().map(|r| decode(&names, r)).collect()
}
