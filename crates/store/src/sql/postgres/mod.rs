//! The scale-out backend: one PostgreSQL database shared by every API node and worker process.
//! What differs from SQLite: rows a transaction decides on are locked (`FOR UPDATE`), claims
//! skip rows other workers hold (`SKIP LOCKED`), the queue bound is counted under an advisory
//! lock, whatever queues work sends `NOTIFY cutout_jobs` in its transaction so idle workers wake
//! at once (their poll is the fallback), and the schema is changed only by `cutout migrate`: a
//! node refuses to start on a schema older than its own.

pub mod testing;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgListener, PgPoolOptions, PgQueryResult, PgRow};
use sqlx::{Column, PgPool, Row as _, TypeInfo, ValueRef};

use super::backend::PresetWrite;
use super::driver::{Db, DbConn, Driver};
use super::value::{query, Row, Value};
use super::{Conn, SqlRepo};
use crate::{StoreError, WorkNotices};

type R<T> = Result<T, StoreError>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The channel `NOTIFY` wakes workers on.
const CHANNEL: &str = "cutout_jobs";

/// The PostgreSQL implementation of every repository trait.
pub type PgRepo = SqlRepo<Db<sqlx::Postgres>>;

/// What to do about the schema when opening.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// Apply pending migrations (`cutout migrate`, and tests).
    Migrate,
    /// Refuse to start unless every migration this build knows is applied.
    Require,
}

impl SqlRepo<Db<sqlx::Postgres>> {
    /// Connects to `url` (`postgres://user@host:port/db`).
    pub async fn open(url: &str, max_connections: u32, schema: Schema) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            // A node that loses the database answers 503 on /readyz rather than hanging.
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        match schema {
            Schema::Migrate => MIGRATOR.run(&pool).await?,
            Schema::Require => require_schema(&pool).await?,
        }
        Ok(Self::new(Db::new(pool)))
    }
}

/// Fails with a message naming `cutout migrate` when a migration is missing.
async fn require_schema(pool: &PgPool) -> Result<(), StoreError> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    let missing: Vec<i64> = MIGRATOR
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(StoreError::Config(format!(
        "the database schema is older than this build (missing migrations {missing:?}); \
         run `cutout migrate` once, then start the nodes"
    )))
}

#[async_trait]
impl Driver for sqlx::Postgres {
    const ROW_LOCK: &'static str = "FOR UPDATE";
    const SKIP_LOCKED: &'static str = "FOR UPDATE SKIP LOCKED";
    const QUEUE_BOUND_LOCK: Option<&'static str> =
        Some("SELECT pg_advisory_xact_lock(hashtext('cutout_queue_bound'))");
    const NOTIFY_WORK: Option<&'static str> = Some("SELECT pg_notify('cutout_jobs', '')");
    const KEEP_IDS: &'static str = "OVERRIDING SYSTEM VALUE";
    const RESET_ID_SEQUENCE: Option<&'static str> = Some(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
         COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)",
    );

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    /// Each column decoded by its declared type; the schema uses no others.
    fn decode(names: &Arc<[String]>, row: &PgRow) -> R<Row> {
        let mut values = Vec::with_capacity(names.len());
        for (i, col) in row.columns().iter().enumerate() {
            let null = row.try_get_raw(i)?.is_null();
            values.push(match col.type_info().name() {
                _ if null => Value::Null,
                "INT8" => Value::Int(row.try_get(i)?),
                "INT4" => Value::Int(row.try_get::<i32, _>(i)?.into()),
                "INT2" => Value::Int(row.try_get::<i16, _>(i)?.into()),
                "FLOAT8" => Value::Real(row.try_get(i)?),
                "FLOAT4" => Value::Real(row.try_get::<f32, _>(i)?.into()),
                "BOOL" => Value::Bool(row.try_get(i)?),
                "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => Value::Text(row.try_get(i)?),
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "column {:?} has type {other}, which the store does not read",
                        col.name()
                    )))
                }
            });
        }
        Ok(Row::new(names.clone(), values))
    }

    /// One statement, so two nodes writing the same name cannot both insert; `xmax = 0` tells
    /// a freshly inserted row from an updated one.
    async fn upsert_preset(conn: &mut DbConn<Self>, p: PresetWrite<'_>) -> R<bool> {
        let q = query(
            "INSERT INTO presets (account_id, name, params, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (account_id, name) \
             DO UPDATE SET params = excluded.params, updated_at = excluded.updated_at \
             RETURNING (xmax = 0) AS created",
        );
        let row = conn
            .fetch_one(q.bind(p.account).bind(p.name).bind(p.params).bind(p.now))
            .await?;
        row.get("created")
    }

    async fn work_notices(pool: &PgPool) -> R<Option<Box<dyn WorkNotices>>> {
        Ok(Some(Box::new(PgNotices::open(pool).await?)))
    }
}

/// `LISTEN cutout_jobs` on its own connection, which sqlx re-establishes after a failure.
struct PgNotices(PgListener);

impl PgNotices {
    async fn open(pool: &PgPool) -> Result<Self, StoreError> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Self(listener))
    }
}

#[async_trait]
impl WorkNotices for PgNotices {
    async fn next(&mut self) -> Result<(), StoreError> {
        self.0.recv().await?;
        Ok(())
    }
}
