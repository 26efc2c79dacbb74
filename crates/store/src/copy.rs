//! `cutout store copy`: moves an install from one database and blob store to another (an
//! embedded SQLite + disk install to PostgreSQL + S3, typically) and checks that every table's
//! row count and the blob count match. Rows go over in pages in primary-key order; blobs are
//! streamed through a temp file, never held whole in memory.
//!
//! The target is migrated first and must be empty: a copy never merges two installs.

use std::collections::BTreeMap;

use sqlx::{Database, Executor, IntoArguments, Pool, Row};

use crate::{BlobStore, DatabaseConfig, StoreError};

type R<T> = Result<T, StoreError>;

/// Every table, parents before children, with its key order and columns
/// (`name:kind`, kind `t` text, `i` integer, `r` real, `b` boolean). Both schemas have exactly
/// these; a migration that adds a column adds it here (the copy test compares every API answer).
const TABLES: &[(&str, &str, &str)] = &[
    (
        "accounts",
        "id",
        "id:t name:t balance:i webhook_secret:t created_at:i",
    ),
    (
        "api_keys",
        "id",
        "id:t account_id:t name:t hash:t prefix:t scopes:t created_at:i revoked_at:i",
    ),
    (
        "ledger",
        "id",
        "id:i account_id:t delta:i reason:t job_id:t created_at:i",
    ),
    (
        "jobs",
        "id",
        "id:t account_id:t key_id:t kind:t mode:t spec:t input_key:t state:t status:t \
         progress:i attempts:i max_attempts:i run_after:i claimed_by:t heartbeat_at:i result:t \
         error_code:t error_message:t cost:i created_at:i updated_at:i finished_at:i",
    ),
    (
        "job_events",
        "id",
        "id:i job_id:t at:i from_state:t to_state:t actor:t cause:t",
    ),
    (
        "presets",
        "account_id, name",
        "account_id:t name:t params:t created_at:i updated_at:i",
    ),
    (
        "idempotency",
        "key_id, idem_key",
        "key_id:t idem_key:t request_hash:t status:i body:t created_at:i",
    ),
    (
        "webhook_deliveries",
        "id",
        "id:t job_id:t account_id:t event:t url:t body:t attempts:i next_at:i state:t \
         last_error:t created_at:i",
    ),
    (
        "assets",
        "id",
        "id:t account_id:t name:t mime:t size:i width:i height:i sha256:t blob:t custom:t \
         source_asset_id:t created_at:i updated_at:i",
    ),
    (
        "asset_conversions",
        "asset_id, name",
        "asset_id:t name:t blob:t mime:t size:i width:i height:i created_at:i updated_at:i",
    ),
    (
        "video_uploads",
        "id",
        "id:t account_id:t blob:t filename:t size:i info:t created_at:i",
    ),
    ("rate_buckets", "key_id", "key_id:t tokens:r at:i allowed:b"),
];

/// Tables whose `id` the database generates (PostgreSQL identity columns).
const GENERATED_IDS: &[&str] = &["ledger", "job_events"];

const PAGE: i64 = 500;

/// One value in flight between the two databases.
#[derive(Clone, Debug)]
enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
}

/// What was copied: rows per table, and blobs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub rows: BTreeMap<&'static str, u64>,
    pub blobs: u64,
}

/// A database as the copy sees it: a pool of the backend's own driver.
enum Db {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Pg(sqlx::PgPool),
}

async fn open(config: &DatabaseConfig, target: bool) -> R<Db> {
    match config {
        #[cfg(feature = "sqlite")]
        DatabaseConfig::Sqlite {
            path,
            max_connections,
        } => Ok(Db::Sqlite(
            crate::SqliteRepo::open(path, *max_connections)
                .await?
                .pool(),
        )),
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
            Ok(Db::Pg(
                crate::PgRepo::open(url.expose(), *max_connections, schema)
                    .await?
                    .pool(),
            ))
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
    for (table, order, spec) in TABLES {
        let columns: Vec<(&str, char)> = spec
            .split_whitespace()
            .map(|c| {
                c.split_once(':')
                    .map(|(n, k)| (n, k.chars().next().unwrap_or('t')))
            })
            .collect::<Option<_>>()
            .ok_or_else(|| StoreError::Config(format!("bad column list for {table}")))?;
        if count(&dst, table).await? > 0 {
            return Err(StoreError::Config(format!(
                "the target database already has {table}: copy into an empty database"
            )));
        }
        let mut offset = 0;
        loop {
            let rows = read_page(&src, table, order, &columns, offset).await?;
            if rows.is_empty() {
                break;
            }
            offset += rows.len() as i64;
            write_rows(&dst, table, &columns, rows).await?;
        }
        let (n_src, n_dst) = (count(&src, table).await?, count(&dst, table).await?);
        if n_src != n_dst {
            return Err(StoreError::Corrupt(format!(
                "{table}: {n_src} rows in the source, {n_dst} copied"
            )));
        }
        report.rows.insert(table, n_dst);
    }
    reset_sequences(&dst).await?;
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

async fn count(db: &Db, table: &str) -> R<u64> {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let n: i64 = match db {
        #[cfg(feature = "sqlite")]
        Db::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await?,
        #[cfg(feature = "postgres")]
        Db::Pg(p) => sqlx::query_scalar(&sql).fetch_one(p).await?,
    };
    Ok(n as u64)
}

async fn read_page(
    db: &Db,
    table: &str,
    order: &str,
    columns: &[(&str, char)],
    offset: i64,
) -> R<Vec<Vec<Cell>>> {
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let sql = format!(
        "SELECT {} FROM {table} ORDER BY {order} LIMIT {PAGE} OFFSET {offset}",
        names.join(", ")
    );
    match db {
        #[cfg(feature = "sqlite")]
        Db::Sqlite(p) => read(p, &sql, columns).await,
        #[cfg(feature = "postgres")]
        Db::Pg(p) => read(p, &sql, columns).await,
    }
}

/// Reads rows with the driver's own decoding, one cell per declared column kind.
async fn read<DB: Database>(
    pool: &Pool<DB>,
    sql: &str,
    columns: &[(&str, char)],
) -> R<Vec<Vec<Cell>>>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> Option<String>: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'r> Option<i64>: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'r> Option<f64>: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'r> Option<bool>: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
{
    let rows = sqlx::query(sql).fetch_all(pool).await?;
    rows.iter()
        .map(|row| {
            columns
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| {
                    Ok(match kind {
                        'i' => Cell::Int(row.try_get(i)?),
                        'r' => Cell::Real(row.try_get(i)?),
                        'b' => Cell::Bool(row.try_get(i)?),
                        _ => Cell::Text(row.try_get(i)?),
                    })
                })
                .collect()
        })
        .collect()
}

async fn write_rows(db: &Db, table: &str, columns: &[(&str, char)], rows: Vec<Vec<Cell>>) -> R<()> {
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    match db {
        #[cfg(feature = "sqlite")]
        Db::Sqlite(p) => {
            let marks = vec!["?"; names.len()].join(", ");
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({marks})",
                names.join(", ")
            );
            write(p, &sql, rows).await
        }
        #[cfg(feature = "postgres")]
        Db::Pg(p) => {
            let marks: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
            // Identity columns keep the source's ids (the ledger's and events' order).
            let overriding = if GENERATED_IDS.contains(&table) {
                "OVERRIDING SYSTEM VALUE "
            } else {
                ""
            };
            let sql = format!(
                "INSERT INTO {table} ({}) {overriding}VALUES ({})",
                names.join(", "),
                marks.join(", ")
            );
            write(p, &sql, rows).await
        }
    }
}

/// Inserts `rows` in one transaction.
async fn write<DB: Database>(pool: &Pool<DB>, sql: &str, rows: Vec<Vec<Cell>>) -> R<()>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<f64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<bool>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut tx = pool.begin().await?;
    for row in rows {
        let mut q = sqlx::query(sql);
        for cell in row {
            q = match cell {
                Cell::Text(v) => q.bind(v),
                Cell::Int(v) => q.bind(v),
                Cell::Real(v) => q.bind(v),
                Cell::Bool(v) => q.bind(v),
            };
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// New ledger lines and events continue after the copied ids.
async fn reset_sequences(db: &Db) -> R<()> {
    #[cfg(feature = "postgres")]
    if let Db::Pg(p) = db {
        for table in GENERATED_IDS {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            );
            sqlx::query(&sql).execute(p).await?;
        }
    }
    let _ = db;
    Ok(())
}
