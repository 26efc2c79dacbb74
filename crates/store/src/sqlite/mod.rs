//! The embedded backend: one SQLite file in WAL mode, so `cutout serve` needs no other service.

mod accounts;
mod assets;
mod jobs;
mod misc;
mod queue;
mod sequence_tx;
mod tx;
mod videos;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqlitePool, Transaction};

pub(crate) use crate::rows::{parse_id, parse_json, parse_name};
use crate::{BlobKey, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite implementation of every repository trait.
#[derive(Clone, Debug)]
pub struct SqliteRepo {
    pool: SqlitePool,
}

impl SqliteRepo {
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
        Ok(Self { pool })
    }

    /// The pool, for the copy tool's table-by-table reads and writes.
    pub(crate) fn pool(&self) -> SqlitePool {
        self.pool.clone()
    }

    /// A write transaction that takes the write lock up front: SQLite's default deferred
    /// transactions fail with SQLITE_BUSY when two readers both try to upgrade.
    async fn write(&self) -> Result<Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// Blob keys are stored as text and parsed on the way out, so a corrupt row is an error here
/// rather than a bad key further on.
impl sqlx::Type<sqlx::Sqlite> for BlobKey {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for BlobKey {
    fn encode_by_ref(
        &self,
        buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'q, sqlx::Sqlite>>::encode(self.as_str().to_owned(), buf)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for BlobKey {
    fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let s = <&str as sqlx::Decode<'r, sqlx::Sqlite>>::decode(value)?;
        Ok(BlobKey::parse(s)?)
    }
}
