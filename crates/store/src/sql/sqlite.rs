//! The embedded backend: one SQLite file in WAL mode, so `cutout serve` needs no other service.
//! What differs from PostgreSQL: opening with pragmas, write transactions that take the write
//! lock up front, no row locks or notices (one writer at a time), `MIN` as the scalar minimum,
//! and how the preset upsert tells "created" from "replaced".

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row as _, SqlitePool, TypeInfo, ValueRef};

use super::driver::{self, DbConn};
use super::value::{query, Query, Row, Value};
use super::{Backend, Conn, SqlRepo};
use crate::ids::{AccountId, Millis};
use crate::StoreError;

type R<T> = Result<T, StoreError>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite implementation of every repository trait.
pub type SqliteRepo = SqlRepo<Sqlite>;

/// An SQLite database file.
#[derive(Clone, Debug)]
pub struct Sqlite {
    pool: SqlitePool,
}

impl SqlRepo<Sqlite> {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path, max_connections: u32) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await?;
        }
        let opts = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL is durable against process crashes (the crash test kills the server);
            // only a power loss can drop the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(2))
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self::new(Sqlite { pool }))
    }
}

/// A pooled connection or an open transaction.
pub type SqliteConn = DbConn<sqlx::Sqlite>;

#[async_trait]
impl Backend for Sqlite {
    type Conn = SqliteConn;

    async fn conn(&self) -> R<SqliteConn> {
        Ok(DbConn::Pooled(self.pool.acquire().await?))
    }

    /// SQLite's default deferred transactions fail with SQLITE_BUSY when two readers both try
    /// to upgrade; `BEGIN IMMEDIATE` takes the write lock first.
    async fn begin(&self) -> R<SqliteConn> {
        Ok(DbConn::Tx(self.pool.begin_with("BEGIN IMMEDIATE").await?))
    }

    async fn commit(conn: SqliteConn) -> R<()> {
        conn.commit().await
    }
}

/// SQLite types values, not columns: each value is read as what it holds.
fn row(names: &Arc<[String]>, row: &SqliteRow) -> R<Row> {
    let mut values = Vec::with_capacity(names.len());
    for i in 0..names.len() {
        let raw = row.try_get_raw(i)?;
        let kind = raw.type_info().name().to_owned();
        values.push(if raw.is_null() {
            Value::Null
        } else {
            match kind.as_str() {
                "INTEGER" | "BOOLEAN" => Value::Int(row.try_get(i)?),
                "REAL" => Value::Real(row.try_get(i)?),
                _ => Value::Text(row.try_get(i)?),
            }
        });
    }
    Ok(Row::new(names.clone(), values))
}

#[async_trait]
impl Conn for SqliteConn {
    const ROW_LOCK: &'static str = "";
    const SKIP_LOCKED: &'static str = "";
    const LEAST: &'static str = "MIN";
    const QUEUE_BOUND_LOCK: Option<&'static str> = None;
    const NOTIFY_WORK: Option<&'static str> = None;
    const KEEP_IDS: &'static str = "";
    const RESET_ID_SEQUENCE: Option<&'static str> = None;

    async fn execute(&mut self, q: Query) -> R<u64> {
        Ok(driver::bind::<sqlx::Sqlite>(&q)
            .execute(self.raw())
            .await?
            .rows_affected())
    }

    async fn fetch_all(&mut self, q: Query) -> R<Vec<Row>> {
        driver::fetch_rows::<sqlx::Sqlite>(self.raw(), &q, row).await
    }

    /// Callers hold a write transaction, so the update-then-insert cannot interleave.
    async fn upsert_preset(
        &mut self,
        account: AccountId,
        name: &str,
        params: String,
        now: Millis,
    ) -> R<bool> {
        let updated = self
            .execute(
                query(
                    "UPDATE presets SET params = $1, updated_at = $2 \
                     WHERE account_id = $3 AND name = $4",
                )
                .bind(params.clone())
                .bind(now)
                .bind(account)
                .bind(name),
            )
            .await?;
        if updated == 0 {
            let q = query(
                "INSERT INTO presets (account_id, name, params, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            );
            self.execute(q.bind(account).bind(name).bind(params).bind(now))
                .await?;
        }
        Ok(updated == 0)
    }
}
