//! The conformance suite: what every storage backend must do. Each check is a plain async
//! function that panics on a violation; the macros below make one `#[tokio::test]` per check per
//! backend, each on a fresh, empty database or store, so checks neither see each other's rows nor
//! wait for each other.
//!
//! A new backend adds one `repo_backend!` (or `blob_backend!`) line with a function that opens a
//! fresh instance, and runs every check unchanged.

mod assets;
mod blobs;
mod concurrency;
mod jobs;
mod videos;

use std::any::Any;
use std::sync::Arc;

use cutout_store::{BlobStore, Repo};

/// One test per repository check, each on a database that `$open` makes fresh.
macro_rules! repo_backend {
    ($backend:ident, $open:path) => {
        mod $backend {
            repo_backend!(@tests $open;
                jobs::jobs_debit_and_refuse_when_short,
                jobs::idempotency_replays_and_conflicts,
                jobs::claim_finish_and_lost_claims,
                jobs::stale_claims_requeue_then_fail_with_one_refund,
                jobs::queue_is_bounded,
                jobs::keys_and_credits,
                jobs::presets_crud,
                jobs::webhook_outbox,
                assets::assets_are_scoped_listed_and_patched,
                assets::conversions_replace_atomically,
                videos::videos_upload_list_and_cancel,
                videos::drafts_start_once_and_cancel_free,
                videos::late_charges_are_paid_once,
                concurrency::concurrent_claims_take_each_job_once,
                concurrency::concurrent_twins_create_one_job,
                concurrency::cancel_racing_finish_settles_once,
                concurrency::rate_buckets_are_shared,
                concurrency::the_queue_bound_holds_under_racing_creates,
            );
        }
    };
    (@tests $open:path; $($module:ident :: $check:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let Some((repo, _keep)) = $open().await else {
                    return;
                };
                crate::$module::$check(&*repo).await;
            }
        )+
    };
}

/// One test per blob store check, each on a store that `$open` makes fresh.
macro_rules! blob_backend {
    ($backend:ident, $open:path) => {
        mod $backend {
            blob_backend!(@tests $open;
                bytes_round_trip_and_replace,
                files_stream_in_and_out,
                ranges_read_part_of_a_blob,
                health_and_urls,
                large_files_go_up_in_parts,
                handed_out_urls_serve_the_blob,
                lists_by_prefix,
            );
        }
    };
    (@tests $open:path; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let Some((blobs, _keep)) = $open().await else {
                    return;
                };
                crate::blobs::$check(&*blobs).await;
            }
        )+
    };
}

/// A fresh SQLite database in a temporary directory (removed with the guard).
async fn sqlite() -> Option<(Arc<dyn Repo>, Box<dyn Any>)> {
    let dir = tempfile::tempdir().unwrap();
    let config = cutout_store::DatabaseConfig::Sqlite {
        path: dir.path().join("db/cutout.db"),
        max_connections: 4,
    };
    Some((
        cutout_store::open_repo(&config).await.unwrap(),
        Box::new(dir),
    ))
}

/// A fresh database on the tests' PostgreSQL server (dropped with the guard), migrated as
/// `cutout migrate` does. Without a server (`CUTOUT_TEST_PG_URL`, set by `scripts/test.sh`)
/// the check is skipped with a message, or fails under the full suite.
async fn postgres() -> Option<(Arc<dyn Repo>, Box<dyn Any>)> {
    let Some(admin) = cutout_store::postgres::testing::server_url() else {
        let full = std::env::var("CUTOUT_FULL_TESTS").is_ok_and(|v| v == "1");
        assert!(!full, "CUTOUT_TEST_PG_URL is not set: run scripts/test.sh");
        eprintln!("skipped: no PostgreSQL (CUTOUT_TEST_PG_URL); scripts/test.sh starts one");
        return None;
    };
    let db = cutout_store::postgres::testing::fresh_database(&admin)
        .await
        .unwrap();
    let config = cutout_store::DatabaseConfig::Postgres {
        url: db.url.clone(),
        max_connections: 10,
    };
    cutout_store::migrate(&config).await.unwrap();
    Some((
        cutout_store::open_repo(&config).await.unwrap(),
        Box::new(db),
    ))
}

/// A fresh blob directory.
async fn local() -> Option<(Arc<dyn BlobStore>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let config = cutout_store::BlobsConfig::Local {
        root: dir.path().to_owned(),
    };
    let blobs = cutout_store::open_blobs(&config).await.unwrap();
    Some((blobs, dir))
}

/// A fresh bucket on the tests' S3 server (SeaweedFS, started by `scripts/test.sh`); skipped
/// with a message without one, or failed under the full suite.
async fn s3() -> Option<(Arc<dyn BlobStore>, ())> {
    let Some(config) = cutout_store::blob::testing::fresh_bucket() else {
        let full = std::env::var("CUTOUT_FULL_TESTS").is_ok_and(|v| v == "1");
        assert!(
            !full,
            "CUTOUT_TEST_S3_ENDPOINT is not set: run scripts/test.sh"
        );
        eprintln!("skipped: no S3 server (CUTOUT_TEST_S3_ENDPOINT); scripts/test.sh starts one");
        return None;
    };
    let blobs = cutout_store::open_blobs(&cutout_store::BlobsConfig::S3(config))
        .await
        .unwrap();
    Some((blobs, ()))
}

repo_backend!(sqlite, crate::sqlite);
repo_backend!(postgres, crate::postgres);
blob_backend!(local_disk, crate::local);
blob_backend!(s3, crate::s3);

/// A node refuses a PostgreSQL database whose schema is older than its build, naming the
/// command that fixes it; after `cutout migrate` (here `migrate`) it opens.
#[tokio::test]
async fn postgres_nodes_refuse_an_old_schema() {
    let Some(admin) = cutout_store::postgres::testing::server_url() else {
        let full = std::env::var("CUTOUT_FULL_TESTS").is_ok_and(|v| v == "1");
        assert!(!full, "CUTOUT_TEST_PG_URL is not set: run scripts/test.sh");
        return;
    };
    let db = cutout_store::postgres::testing::fresh_database(&admin)
        .await
        .unwrap();
    let config = cutout_store::DatabaseConfig::Postgres {
        url: db.url.clone(),
        max_connections: 2,
    };
    let refused = cutout_store::open_repo(&config).await.err().unwrap();
    assert!(refused.to_string().contains("cutout migrate"), "{refused}");
    cutout_store::migrate(&config).await.unwrap();
    cutout_store::open_repo(&config).await.unwrap();
}
