//! Blob storage (inputs, results, assets, videos) behind a narrow trait shaped for object
//! storage: whole-object and streamed-from/to-file puts and gets, ranged reads, optional public
//! URLs and a health check. One file per backend: local disk, and S3-compatible buckets.

mod key;
mod local;
#[cfg(feature = "s3")]
mod s3;
mod s3_config;
#[cfg(feature = "s3")]
mod sigv4;
#[cfg(feature = "s3")]
pub mod testing;

use std::fmt;
use std::ops::Range;
use std::path::Path;

use async_trait::async_trait;
use bytes::Bytes;

pub use key::BlobKey;
pub use local::LocalBlobs;
#[cfg(feature = "s3")]
pub use s3::S3Blobs;
pub use s3_config::S3Config;

use crate::StoreError;

type R<T> = Result<T, StoreError>;

#[async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Stores the file at `src` under `key`, replacing any blob there, without holding it in
    /// memory. Readers see the old blob or the whole new one, never a part. Returns the size.
    async fn put_file(&self, key: &BlobKey, src: &Path) -> R<u64>;
    async fn put_bytes(&self, key: &BlobKey, data: Bytes) -> R<()>;
    async fn get(&self, key: &BlobKey) -> R<Option<Bytes>>;
    /// Copies the blob to the file `dest` without holding it in memory (videos are large).
    /// `Ok(None)`: no such blob. Returns the size.
    async fn get_to_file(&self, key: &BlobKey, dest: &Path) -> R<Option<u64>>;
    /// The bytes in `range` (clipped to the blob's end), e.g. for a media header or an HTTP
    /// range request. `Ok(None)`: no such blob.
    async fn get_range(&self, key: &BlobKey, range: Range<u64>) -> R<Option<Bytes>>;
    /// The blob's size, or `None` when there is no such blob.
    async fn size(&self, key: &BlobKey) -> R<Option<u64>>;
    /// Deleting a missing blob is not an error.
    async fn delete(&self, key: &BlobKey) -> R<()>;
    /// Every blob whose key starts with `prefix` (`""`: all), in no particular order: for
    /// copying a store and for finding orphans.
    async fn list(&self, prefix: &str) -> R<Vec<BlobKey>>;
    /// A URL that serves the blob without this server (a bucket's public URL), when the
    /// backend has one; `None` means the server serves it.
    fn public_url(&self, _key: &BlobKey) -> Option<String> {
        None
    }
    /// A URL that serves the blob without this server for `ttl` (an S3 presigned GET), when the
    /// backend has them; `None` means the server serves it behind its own signed link.
    fn presigned_get(&self, _key: &BlobKey, _ttl: std::time::Duration) -> Option<String> {
        None
    }
    /// Whether the store answers now (for `/readyz`).
    async fn health(&self) -> R<()>;
}
