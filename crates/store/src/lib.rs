//! Cutout's storage: jobs, job events, keys, the credit ledger, presets, idempotency records and
//! the webhook outbox behind narrow repository traits, and blobs behind [`BlobStore`].
//!
//! One implementation per backend (SQLite and PostgreSQL, each behind a cargo feature; local
//! disk), chosen by a tagged config ([`DatabaseConfig`], [`BlobsConfig`]) and opened by
//! [`open_repo`] / [`open_blobs`]; the money-moving transactions are written once
//! (`sequence`) over each backend's statements; one conformance suite (`tests/conformance`)
//! runs against every backend.

pub mod blob;
mod config;
mod copy;
mod error;
mod ids;
mod kinds;
mod merge;
mod model;
#[cfg(feature = "postgres")]
pub mod postgres;
mod repo;
mod rows;
mod secret;
mod sequence;
#[cfg(feature = "sqlite")]
pub mod sqlite;

#[cfg(feature = "s3")]
pub use blob::S3Blobs;
pub use blob::{BlobKey, BlobStore, LocalBlobs};
pub use config::{
    migrate, open_blobs, open_repo, BlobsConfig, DatabaseConfig, DatabaseUrl, S3Config, Secret,
};
pub use copy::{copy_store, CopyReport};
pub use error::StoreError;
pub use ids::{now_ms, AccountId, AssetId, DeliveryId, JobId, KeyId, Millis, VideoId};
pub use kinds::{JobKind, LedgerReason, Scope, UnknownName};
pub use merge::merge_patch;
pub use model::*;
#[cfg(feature = "postgres")]
pub use postgres::{PgRepo, Schema};
pub use repo::{
    AccountRepo, AssetRepo, IdempotencyRepo, JobRepo, PresetRepo, QueueRepo, RateLimitRepo, Repo,
    VideoRepo, WebhookRepo, WorkNotices,
};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteRepo;
