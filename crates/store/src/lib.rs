//! Cutout's storage: jobs, job events, keys, the credit ledger, presets, idempotency records and
//! the webhook outbox behind narrow repository traits, and blobs behind [`BlobStore`].
//!
//! The repositories are written once (`sql`) over a small backend trait, with SQLite and
//! PostgreSQL (each behind a cargo feature) holding only what differs; blobs have one file per
//! store (local disk, S3). A tagged config ([`DatabaseConfig`], [`BlobsConfig`]) picks them,
//! [`open_repo`] / [`open_blobs`] open them, and one conformance suite (`tests/conformance`)
//! runs against every backend.

pub mod blob;
mod config;
mod copy;
mod error;
mod ids;
mod kinds;
mod merge;
mod model;
mod repo;
mod secret;
mod sql;

#[cfg(feature = "s3")]
pub use blob::S3Blobs;
pub use blob::{BlobKey, BlobStore, LocalBlobs};
pub use config::{
    migrate, open_blobs, open_repo, BlobsConfig, DatabaseConfig, DatabaseUrl, S3Config, Secret,
};
pub use copy::{copy_store, CopyReport};
pub use error::StoreError;
pub use ids::{now_ms, AccountId, AssetId, DeliveryId, JobId, KeyId, Millis, VideoId};
pub use kinds::{JobKind, JobPhase, LedgerReason, Scope, UnknownName};
pub use merge::merge_patch;
pub use model::*;
pub use repo::{
    AccountRepo, AssetRepo, IdempotencyRepo, JobRepo, PresetRepo, QueueRepo, RateLimitRepo, Repo,
    VideoRepo, WebhookRepo, WorkNotices,
};
#[cfg(feature = "postgres")]
pub use sql::postgres;
#[cfg(feature = "postgres")]
pub use sql::postgres::{PgRepo, Schema};
#[cfg(feature = "sqlite")]
pub use sql::sqlite::SqliteRepo;
pub use sql::SqlRepo;
