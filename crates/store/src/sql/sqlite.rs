//! The embedded backend: one SQLite file in WAL mode, so `cutout serve` needs no other service.
//! What differs from PostgreSQL: opening with pragmas, write transactions that take the write
//! lock up front (so it keeps `Conn`'s default dialect: no row locks or notices, one writer at a
//! time), and how the preset upsert tells "created" from "replaced".

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row as _, TypeInfo, ValueRef};

use super::backend::PresetWrite;
use super::driver::{Db, DbConn, Driver};
use super::value::{query, Row, Value};
use super::{Conn, SqlRepo};
use crate::StoreError;

type R<T> = Result<T, StoreError>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite implementation of every repository trait.
pub type SqliteRepo = SqlRepo<Db<sqlx::Sqlite>>;

impl SqlRepo<Db<sqlx::Sqlite>> {
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
        Ok(Self::new(Db::new(pool)))
    }
}

#[async_trait]
impl Driver for sqlx::Sqlite {
    /// SQLite's default deferred transactions fail with SQLITE_BUSY when two readers both try
    /// to upgrade; `BEGIN IMMEDIATE` takes the write lock first.
    const BEGIN: Option<&'static str> = Some("BEGIN IMMEDIATE");

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    /// SQLite types values, not columns: each value is read as what it holds.
    fn decode(names: &Arc<[String]>, row: &SqliteRow) -> R<Row> {
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

    /// Callers hold a write transaction, so the update-then-insert cannot interleave.
    async fn upsert_preset(conn: &mut DbConn<Self>, p: PresetWrite<'_>) -> R<bool> {
        let updated = conn
            .execute(
                query(
                    "UPDATE presets SET params = $1, updated_at = $2 \
                     WHERE account_id = $3 AND name = $4",
                )
                .bind(p.params.clone())
                .bind(p.now)
                .bind(p.account)
                .bind(p.name),
            )
            .await?;
        if updated == 0 {
            let q = query(
                "INSERT INTO presets (account_id, name, params, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            );
            conn.execute(q.bind(p.account).bind(p.name).bind(p.params).bind(p.now))
                .await?;
        }
        Ok(updated == 0)
    }
}
