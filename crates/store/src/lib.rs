//! Cutout's storage: jobs, job events, keys, the credit ledger, presets, idempotency records and
//! the webhook outbox behind narrow repository traits, and blobs behind [`BlobStore`].
//!
//! One implementation per backend (SQLite and local disk today), opened from a URL by
//! [`open_repo`] / [`open_blobs`], and one conformance suite (`tests/conformance`) that every
//! backend must pass.

pub mod blob;
mod error;
mod ids;
mod kinds;
mod merge;
mod model;
mod repo;
pub mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;

pub use blob::{BlobKey, BlobStore, LocalBlobs};
pub use error::StoreError;
pub use ids::{now_ms, AccountId, AssetId, DeliveryId, JobId, KeyId, Millis, VideoId};
pub use kinds::{JobKind, LedgerReason, Scope, UnknownName};
pub use merge::merge_patch;
pub use model::*;
pub use repo::{
    AccountRepo, AssetRepo, IdempotencyRepo, JobRepo, PresetRepo, Repo, VideoRepo, WebhookRepo,
};
pub use sqlite::SqliteRepo;

/// Opens the database named by `url`: `sqlite://PATH` (or a bare path). PostgreSQL is the next
/// backend; until it lands its URLs are refused with a clear error rather than ignored.
pub async fn open_repo(url: &str, max_connections: u32) -> Result<Arc<dyn Repo>, StoreError> {
    match url.split_once("://") {
        Some(("sqlite", path)) => Ok(Arc::new(
            SqliteRepo::open(&PathBuf::from(path), max_connections).await?,
        )),
        None => Ok(Arc::new(
            SqliteRepo::open(&PathBuf::from(url), max_connections).await?,
        )),
        Some((scheme, _)) => Err(StoreError::Config(format!(
            "database scheme {scheme:?} is not supported (use sqlite://PATH)"
        ))),
    }
}

/// Opens the blob store named by `url`: `file://DIR` (or a bare path).
pub async fn open_blobs(url: &str) -> Result<Arc<dyn BlobStore>, StoreError> {
    match url.split_once("://") {
        Some(("file", dir)) => Ok(Arc::new(LocalBlobs::open(dir).await?)),
        None => Ok(Arc::new(LocalBlobs::open(url).await?)),
        Some((scheme, _)) => Err(StoreError::Config(format!(
            "blob store scheme {scheme:?} is not supported (use file://DIR)"
        ))),
    }
}
