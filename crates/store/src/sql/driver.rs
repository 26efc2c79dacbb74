//! [`Backend`] and [`Conn`] implemented once over sqlx, for any [`Driver`]: a pool, a pooled
//! connection or an open transaction, binding a [`Query`]'s arguments and reading rows' column
//! names. A driver (`sqlite.rs`, `postgres/mod.rs`) says only what differs: how a write
//! transaction starts, its dialect, decoding values (SQLite types values, PostgreSQL types
//! columns), and the preset upsert.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::{Column, Database, Encode, Executor, IntoArguments, Pool, Row as _, Transaction, Type};

use super::backend::{Backend, Conn, PresetWrite};
use super::value::{Arg, Query, Row};
use crate::{StoreError, WorkNotices};

type R<T> = Result<T, StoreError>;

/// What one sqlx driver adds to the shared code. The dialect constants mean what [`Conn`]'s
/// say. The defaults are an engine whose write transactions run one at a time in one process
/// (SQLite): nothing to lock, nobody to notify; a driver overrides what it needs.
#[async_trait]
pub(crate) trait Driver: Database {
    /// The statement that opens a write transaction, where it is not plain `BEGIN`.
    const BEGIN: Option<&'static str> = None;
    const ROW_LOCK: &'static str = "";
    const SKIP_LOCKED: &'static str = "";
    const QUEUE_BOUND_LOCK: Option<&'static str> = None;
    const NOTIFY_WORK: Option<&'static str> = None;
    const KEEP_IDS: &'static str = "";
    const RESET_ID_SEQUENCE: Option<&'static str> = None;

    fn rows_affected(done: &Self::QueryResult) -> u64;

    /// One row as [`Value`](super::value::Value)s, named by `names`.
    fn decode(names: &Arc<[String]>, row: &Self::Row) -> R<Row>;

    /// [`Conn::upsert_preset`].
    async fn upsert_preset(conn: &mut DbConn<Self>, preset: PresetWrite<'_>) -> R<bool>;

    /// [`Backend::work_notices`].
    async fn work_notices(_pool: &Pool<Self>) -> R<Option<Box<dyn WorkNotices>>> {
        Ok(None)
    }
}

/// A database of driver `DB`: its pool.
#[derive(Debug)]
pub struct Db<DB: Database> {
    pool: Pool<DB>,
}

impl<DB: Database> Db<DB> {
    pub(crate) fn new(pool: Pool<DB>) -> Self {
        Self { pool }
    }
}

impl<DB: Database> Clone for Db<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
        }
    }
}

/// A pooled connection, or an open transaction (rolled back when dropped uncommitted).
pub enum DbConn<DB: Database> {
    Pooled(PoolConnection<DB>),
    Tx(Transaction<'static, DB>),
}

impl<DB: Database> DbConn<DB> {
    fn raw(&mut self) -> &mut DB::Connection {
        match self {
            Self::Pooled(c) => c,
            Self::Tx(t) => t,
        }
    }
}

#[async_trait]
impl<DB: Driver> Backend for Db<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<f64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<bool>: Encode<'q, DB> + Type<DB>,
{
    type Conn = DbConn<DB>;

    async fn conn(&self) -> R<DbConn<DB>> {
        Ok(DbConn::Pooled(self.pool.acquire().await?))
    }

    async fn begin(&self) -> R<DbConn<DB>> {
        let tx = match DB::BEGIN {
            Some(begin) => self.pool.begin_with(begin).await?,
            None => self.pool.begin().await?,
        };
        Ok(DbConn::Tx(tx))
    }

    async fn commit(conn: DbConn<DB>) -> R<()> {
        if let DbConn::Tx(t) = conn {
            t.commit().await?;
        }
        Ok(())
    }

    async fn work_notices(&self) -> R<Option<Box<dyn WorkNotices>>> {
        DB::work_notices(&self.pool).await
    }
}

#[async_trait]
impl<DB: Driver> Conn for DbConn<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<f64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<bool>: Encode<'q, DB> + Type<DB>,
{
    const ROW_LOCK: &'static str = DB::ROW_LOCK;
    const SKIP_LOCKED: &'static str = DB::SKIP_LOCKED;
    const QUEUE_BOUND_LOCK: Option<&'static str> = DB::QUEUE_BOUND_LOCK;
    const NOTIFY_WORK: Option<&'static str> = DB::NOTIFY_WORK;
    const KEEP_IDS: &'static str = DB::KEEP_IDS;
    const RESET_ID_SEQUENCE: Option<&'static str> = DB::RESET_ID_SEQUENCE;

    async fn execute(&mut self, q: Query) -> R<u64> {
        let done = bind::<DB>(&q).execute(self.raw()).await?;
        Ok(DB::rows_affected(&done))
    }

    async fn fetch_all(&mut self, q: Query) -> R<Vec<Row>> {
        let found = bind::<DB>(&q).fetch_all(self.raw()).await?;
        let Some(first) = found.first() else {
            return Ok(Vec::new());
        };
        let names: Arc<[String]> = first
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        found.iter().map(|r| DB::decode(&names, r)).collect()
    }

    async fn upsert_preset(&mut self, preset: PresetWrite<'_>) -> R<bool> {
        DB::upsert_preset(self, preset).await
    }
}

/// The query with its arguments bound, as the driver's own types.
fn bind<'q, DB: Database>(q: &'q Query) -> sqlx::query::Query<'q, DB, DB::Arguments<'q>>
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
