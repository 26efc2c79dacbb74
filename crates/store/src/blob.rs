//! Blob storage (inputs, results) behind a narrow trait; local disk here, S3 next.

use std::fmt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use crate::StoreError;

type R<T> = Result<T, StoreError>;

/// A blob's key: `/`-separated segments of `[A-Za-z0-9._-]`, no `..`. Parsed once, so a backend
/// can map it to a path or an object name without escaping.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    pub fn parse(s: &str) -> R<Self> {
        let ok = !s.is_empty()
            && s.len() <= 512
            && s.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(StoreError::BadKey(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Stores the file at `src` under `key`, replacing any blob there. Readers see the old blob or
    /// the whole new one, never a part. Returns the size.
    async fn put_file(&self, key: &BlobKey, src: &Path) -> R<u64>;
    async fn put_bytes(&self, key: &BlobKey, data: Bytes) -> R<()>;
    async fn get(&self, key: &BlobKey) -> R<Option<Bytes>>;
    /// Copies the blob to the file `dest` without holding it in memory (videos are large).
    /// `Ok(None)`: no such blob. Returns the size.
    async fn get_to_file(&self, key: &BlobKey, dest: &Path) -> R<Option<u64>>;
    /// Deleting a missing blob is not an error.
    async fn delete(&self, key: &BlobKey) -> R<()>;
}

/// Blobs as files under a root directory.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    pub async fn open(root: impl Into<PathBuf>) -> R<Self> {
        let root = root.into();
        tokio::fs::create_dir_all(root.join(".tmp")).await?;
        Ok(Self { root })
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    fn temp_path(&self) -> PathBuf {
        self.root
            .join(".tmp")
            .join(format!("{}.partial", uuid::Uuid::new_v4()))
    }

    /// Renames a finished temp file into place; the drop guard removes it if anything fails first.
    async fn publish(&self, tmp: TempGuard, key: &BlobKey) -> R<()> {
        let dest = self.path(key);
        if let Some(dir) = dest.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::rename(&tmp.0, &dest).await?;
        tmp.disarm();
        Ok(())
    }
}

/// Removes a half-written temp file unless disarmed.
struct TempGuard(PathBuf);

impl TempGuard {
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn put_file(&self, key: &BlobKey, src: &Path) -> R<u64> {
        let tmp = TempGuard(self.temp_path());
        let size = tokio::fs::copy(src, &tmp.0).await?;
        tokio::fs::File::open(&tmp.0).await?.sync_all().await?;
        self.publish(tmp, key).await?;
        Ok(size)
    }

    async fn put_bytes(&self, key: &BlobKey, data: Bytes) -> R<()> {
        use tokio::io::AsyncWriteExt;
        let tmp = TempGuard(self.temp_path());
        let mut f = tokio::fs::File::create(&tmp.0).await?;
        f.write_all(&data).await?;
        f.sync_all().await?;
        drop(f);
        self.publish(tmp, key).await
    }

    async fn get(&self, key: &BlobKey) -> R<Option<Bytes>> {
        match tokio::fs::read(self.path(key)).await {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn get_to_file(&self, key: &BlobKey, dest: &Path) -> R<Option<u64>> {
        match tokio::fs::copy(self.path(key), dest).await {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &BlobKey) -> R<()> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BlobKey;

    #[test]
    fn keys_cannot_escape_the_root() {
        for bad in [
            "", "/abs", "a/../b", "..", "a//b", "a/./b", "a b", "a\\b", "é",
        ] {
            assert!(BlobKey::parse(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["inputs/019c.jpg", "public/x/y_z-1.png"] {
            assert!(BlobKey::parse(good).is_ok(), "{good:?} refused");
        }
    }
}
