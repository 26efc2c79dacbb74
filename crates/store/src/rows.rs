//! Reading stored text back into typed values, the same way for every database backend: a
//! corrupt row is an error here rather than a bad value further on.

use std::str::FromStr;

use crate::StoreError;

pub(crate) fn parse_id<T: FromStr>(s: &str, what: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad {what} id {s:?}")))
}

/// A stored name (job kind, scope, ledger reason) back into its enum.
pub(crate) fn parse_name<T: FromStr>(s: &str, what: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown {what} {s:?}")))
}

pub(crate) fn parse_json(s: Option<String>) -> Result<Option<serde_json::Value>, StoreError> {
    s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}
