//! `cutout store copy`: moves an install from one database and blob store to another (an
//! embedded SQLite + disk install to PostgreSQL + S3, typically) and checks that every table's
//! row count and the blob count match. Rows go over in pages in primary-key order; blobs are
//! streamed through a temp file, never held whole in memory.
//!
//! The target is migrated first and must be empty: a copy never merges two installs.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::sql::schema::{placeholders, Kind, Table, TABLES};
use crate::sql::value::{query, Arg, Value};
use crate::sql::{Backend, Conn};
use crate::{BlobStore, DatabaseConfig, StoreError};

type R<T> = Result<T, StoreError>;

const PAGE: i64 = 500;

/// What was copied: rows per table, and blobs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub rows: BTreeMap<&'static str, u64>,
    pub blobs: u64,
}

/// A database as the copy sees it, whatever its backend.
#[async_trait]
trait CopyDb: Send + Sync {
    async fn count(&self, table: &Table) -> R<u64>;
    /// One page of rows in key order, a value per column of the schema.
    async fn read_page(&self, table: &Table, offset: i64) -> R<Vec<Vec<Value>>>;
    /// Inserts `rows` in one transaction, keeping generated ids.
    async fn write_rows(&self, table: &Table, rows: Vec<Vec<Value>>) -> R<()>;
    /// New ledger lines and events continue after the copied ids.
    async fn reset_sequences(&self) -> R<()>;
}

async fn open(config: &DatabaseConfig, target: bool) -> R<Box<dyn CopyDb>> {
    match config {
        #[cfg(feature = "sqlite")]
        DatabaseConfig::Sqlite {
            path,
            max_connections,
        } => {
            let repo = crate::SqliteRepo::open(path, *max_connections).await?;
            Ok(Box::new(repo.backend().clone()))
        }
        #[cfg(feature = "postgres")]
        DatabaseConfig::Postgres {
            url,
            max_connections,
        } => {
            let schema = if target {
                crate::Schema::Migrate
            } else {
                crate::Schema::Require
            };
            let repo = crate::PgRepo::open(url.expose(), *max_connections, schema).await?;
            Ok(Box::new(repo.backend().clone()))
        }
        #[allow(unreachable_patterns)]
        _ => Err(StoreError::Config("this build lacks that backend".into())),
    }
}

/// Copies every table from `from` to the empty database `to`, then every blob, and checks the
/// counts. Fails (having written what it wrote) if anything differs.
pub async fn copy_store(
    from: &DatabaseConfig,
    to: &DatabaseConfig,
    blobs_from: &dyn BlobStore,
    blobs_to: &dyn BlobStore,
) -> R<CopyReport> {
    let (src, dst) = (open(from, false).await?, open(to, true).await?);
    let mut report = CopyReport::default();
    for table in TABLES {
        if dst.count(table).await? > 0 {
            return Err(StoreError::Config(format!(
                "the target database already has {}: copy into an empty database",
                table.name
            )));
        }
        let mut offset = 0;
        loop {
            let rows = src.read_page(table, offset).await?;
            if rows.is_empty() {
                break;
            }
            offset += rows.len() as i64;
            dst.write_rows(table, rows).await?;
        }
        let (n_src, n_dst) = (src.count(table).await?, dst.count(table).await?);
        if n_src != n_dst {
            return Err(StoreError::Corrupt(format!(
                "{}: {n_src} rows in the source, {n_dst} copied",
                table.name
            )));
        }
        report.rows.insert(table.name, n_dst);
    }
    dst.reset_sequences().await?;
    report.blobs = copy_blobs(blobs_from, blobs_to).await?;
    Ok(report)
}

/// Streams every blob through a temp file, then compares the listings.
async fn copy_blobs(from: &dyn BlobStore, to: &dyn BlobStore) -> R<u64> {
    let dir = tempfile::tempdir()?;
    let tmp = dir.path().join("blob");
    let keys = from.list("").await?;
    for key in &keys {
        if from.get_to_file(key, &tmp).await?.is_some() {
            to.put_file(key, &tmp).await?;
        }
    }
    let copied = to.list("").await?.len() as u64;
    if copied < keys.len() as u64 {
        return Err(StoreError::Corrupt(format!(
            "{} blobs in the source, {copied} in the target",
            keys.len()
        )));
    }
    Ok(keys.len() as u64)
}

#[async_trait]
impl<B: Backend> CopyDb for B {
    async fn count(&self, table: &Table) -> R<u64> {
        let sql = format!("SELECT COUNT(*) FROM {}", table.name);
        let row = self.conn().await?.fetch_one(query(sql)).await?;
        Ok(row.first::<i64>()? as u64)
    }

    async fn read_page(&self, table: &Table, offset: i64) -> R<Vec<Vec<Value>>> {
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {} LIMIT {PAGE} OFFSET {offset}",
            table.column_list(),
            table.name,
            table.key
        );
        let rows = self.conn().await?.fetch_all(query(sql)).await?;
        Ok(rows.into_iter().map(|r| r.values()).collect())
    }

    async fn write_rows(&self, table: &Table, rows: Vec<Vec<Value>>) -> R<()> {
        let keep_ids = if table.generated_id {
            <B::Conn as Conn>::KEEP_IDS
        } else {
            ""
        };
        let sql = format!(
            "INSERT INTO {} ({}) {keep_ids} VALUES ({})",
            table.name,
            table.column_list(),
            placeholders(1, table.columns.len())
        );
        let mut tx = self.begin().await?;
        for row in rows {
            let mut q = query(sql.clone());
            for (value, column) in row.into_iter().zip(table.columns) {
                q = q.bind(arg(value, column.kind));
            }
            tx.execute(q).await?;
        }
        B::commit(tx).await
    }

    async fn reset_sequences(&self) -> R<()> {
        let mut conn = self.conn().await?;
        for table in TABLES.iter().filter(|t| t.generated_id) {
            if let Some(reset) = <B::Conn as Conn>::RESET_ID_SEQUENCE {
                conn.execute(query(reset.replace("{table}", table.name)))
                    .await?;
            }
        }
        Ok(())
    }
}

/// A value read from one database as an argument for the other; a NULL takes the column's kind.
fn arg(value: Value, kind: Kind) -> Arg {
    match (value, kind) {
        (Value::Null, Kind::Int) => Arg::Int(None),
        (Value::Null, Kind::Real) => Arg::Real(None),
        (Value::Null, Kind::Bool) => Arg::Bool(None),
        (Value::Null, Kind::Text) => Arg::Text(None),
        (Value::Int(i), Kind::Bool) => Arg::Bool(Some(i != 0)),
        (Value::Int(i), Kind::Real) => Arg::Real(Some(i as f64)),
        (Value::Int(i), _) => Arg::Int(Some(i)),
        (Value::Real(f), _) => Arg::Real(Some(f)),
        (Value::Text(s), _) => Arg::Text(Some(s)),
        (Value::Bool(b), _) => Arg::Bool(Some(b)),
    }
}
