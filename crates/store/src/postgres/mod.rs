//! The scale-out backend: one PostgreSQL database shared by every API node and worker process.
//! Claims use `FOR UPDATE SKIP LOCKED`, so workers on many machines never take the same job;
//! whatever queues work sends `NOTIFY cutout_jobs` in its transaction, so idle workers wake at
//! once (their poll is the fallback). The schema is changed only by `cutout migrate`: a node
//! refuses to start on a schema older than its own.

mod accounts;
mod assets;
mod jobs;
mod misc;
mod queue;
mod sequence_tx;
mod tx;
mod videos;

pub mod testing;

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{PgPool, Transaction};

pub(crate) use crate::rows::{parse_id, parse_json, parse_name};
use crate::{BlobKey, StoreError, WorkNotices};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The channel `NOTIFY` wakes workers on.
const CHANNEL: &str = "cutout_jobs";

/// What to do about the schema when opening.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// Apply pending migrations (`cutout migrate`, and tests).
    Migrate,
    /// Refuse to start unless every migration this build knows is applied.
    Require,
}

/// The PostgreSQL implementation of every repository trait.
#[derive(Clone, Debug)]
pub struct PgRepo {
    pool: PgPool,
}

impl PgRepo {
    /// Connects to `url` (`postgres://user@host:port/db`).
    pub async fn open(url: &str, max_connections: u32, schema: Schema) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            // A node that loses the database answers 503 on /readyz rather than hanging.
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        let repo = Self { pool };
        match schema {
            Schema::Migrate => MIGRATOR.run(&repo.pool).await?,
            Schema::Require => repo.require_schema().await?,
        }
        Ok(repo)
    }

    /// Fails with a message naming `cutout migrate` when a migration is missing.
    async fn require_schema(&self) -> Result<(), StoreError> {
        let applied: Vec<i64> = sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&self.pool)
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

    /// The pool, for the copy tool's table-by-table reads and writes.
    pub(crate) fn pool(&self) -> PgPool {
        self.pool.clone()
    }

    async fn write(&self) -> Result<Transaction<'static, sqlx::Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }
}

/// Queues wake-ups: sent inside the transaction that queues work, delivered on commit.
pub(crate) async fn notify_work(conn: &mut sqlx::PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}

/// `LISTEN cutout_jobs` on its own connection, which sqlx re-establishes after a failure.
pub(crate) struct PgNotices(PgListener);

impl PgNotices {
    pub(crate) async fn open(pool: &PgPool) -> Result<Self, StoreError> {
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

/// Blob keys are stored as text and parsed on the way out.
impl sqlx::Type<sqlx::Postgres> for BlobKey {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <String as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for BlobKey {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for BlobKey {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let s = <&str as sqlx::Decode<'r, sqlx::Postgres>>::decode(value)?;
        Ok(BlobKey::parse(s)?)
    }
}
