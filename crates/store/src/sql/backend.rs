//! What a database backend provides: connections and transactions that run a [`Query`], and the
//! few pieces of SQL that truly differ between engines. Everything else is written once in the
//! sibling modules.

use std::fmt::Debug;

use async_trait::async_trait;

use super::value::{Query, Row};
use crate::ids::{AccountId, Millis};
use crate::{StoreError, WorkNotices};

type R<T> = Result<T, StoreError>;

/// One connection (or one open transaction) of a backend, and its dialect (each driver's
/// values, and their defaults, are `driver::Driver`'s).
#[async_trait]
pub(crate) trait Conn: Send {
    /// Appended to a `SELECT` whose answer a transaction then acts on (is the job still this
    /// worker's? still a draft?): where writers run concurrently the rows are locked until
    /// commit, so writers on other nodes wait for that decision.
    const ROW_LOCK: &'static str;
    /// Appended to the queue's `SELECT`s so many workers claim different rows at once.
    const SKIP_LOCKED: &'static str;
    /// Run before counting the queue's depth in a transaction that may add to it, so the bound
    /// is exact across nodes.
    const QUEUE_BOUND_LOCK: Option<&'static str>;
    /// Run in a transaction that queues work, to wake idle workers in other processes on commit.
    const NOTIFY_WORK: Option<&'static str>;
    /// Put before `VALUES` when inserting rows with their ids into an identity column.
    const KEEP_IDS: &'static str;
    /// Moves `{table}`'s id generator past the ids a copy inserted (where it does not follow
    /// by itself).
    const RESET_ID_SEQUENCE: Option<&'static str>;

    /// Runs a statement; the number of rows it changed.
    async fn execute(&mut self, q: Query) -> R<u64>;

    /// Runs a query; every row.
    async fn fetch_all(&mut self, q: Query) -> R<Vec<Row>>;

    /// Creates or replaces a preset in one statement; true when it was created. The one upsert
    /// whose "was it new?" answer each engine gives differently.
    async fn upsert_preset(&mut self, preset: PresetWrite<'_>) -> R<bool>;

    async fn fetch_optional(&mut self, q: Query) -> R<Option<Row>> {
        Ok(self.fetch_all(q).await?.into_iter().next())
    }

    async fn fetch_one(&mut self, q: Query) -> R<Row> {
        self.fetch_optional(q)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a query that returns one row returned none".into()))
    }

    /// Runs `sql` if the dialect has it (the optional statements above).
    async fn execute_opt(&mut self, sql: Option<&'static str>) -> R<()> {
        if let Some(sql) = sql {
            self.execute(super::value::query(sql)).await?;
        }
        Ok(())
    }
}

/// A preset to create or replace.
#[derive(Debug)]
pub(crate) struct PresetWrite<'a> {
    pub account: AccountId,
    pub name: &'a str,
    /// The parameters' JSON.
    pub params: String,
    pub now: Millis,
}

/// A database: a pool of [`Conn`]s.
#[async_trait]
pub(crate) trait Backend: Send + Sync + Debug + 'static {
    type Conn: Conn;

    /// A pooled connection, outside any transaction.
    async fn conn(&self) -> R<Self::Conn>;

    /// A write transaction (SQLite: taking the write lock up front).
    async fn begin(&self) -> R<Self::Conn>;

    /// Commits a transaction from [`Backend::begin`]. Dropping one instead rolls it back.
    async fn commit(conn: Self::Conn) -> R<()>;

    /// Notices that another process queued work; `None` where the backend has none.
    async fn work_notices(&self) -> R<Option<Box<dyn WorkNotices>>> {
        Ok(None)
    }
}
