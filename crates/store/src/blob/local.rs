//! Blobs as files under a root directory: written to a temp file, synced, then renamed into place,
//! so a reader sees the old blob or the whole new one.

use std::io::SeekFrom;
use std::ops::Range;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{BlobKey, BlobStore};
use crate::StoreError;

type R<T> = Result<T, StoreError>;

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

    async fn get_range(&self, key: &BlobKey, range: Range<u64>) -> R<Option<Bytes>> {
        let mut f = match tokio::fs::File::open(self.path(key)).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let len = f.metadata().await?.len();
        let (start, end) = (range.start.min(len), range.end.min(len));
        let mut buf = vec![0u8; end.saturating_sub(start) as usize];
        f.seek(SeekFrom::Start(start)).await?;
        f.read_exact(&mut buf).await?;
        Ok(Some(Bytes::from(buf)))
    }

    async fn size(&self, key: &BlobKey) -> R<Option<u64>> {
        match tokio::fs::metadata(self.path(key)).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The root must exist and take a write (a full or read-only disk fails here).
    async fn health(&self) -> R<()> {
        let probe = TempGuard(self.temp_path());
        tokio::fs::write(&probe.0, b"ok").await?;
        Ok(())
    }

    /// Walks the directory tree on the blocking pool, skipping the temp directory.
    async fn list(&self, prefix: &str) -> R<Vec<BlobKey>> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        let walk = move || -> R<Vec<BlobKey>> {
            let mut out = Vec::new();
            let mut dirs = vec![root.clone()];
            while let Some(dir) = dirs.pop() {
                for entry in std::fs::read_dir(&dir)? {
                    let path = entry?.path();
                    let rel = path.strip_prefix(&root).unwrap_or(&path);
                    let name = rel.to_string_lossy().replace('\\', "/");
                    if name == ".tmp" {
                        continue;
                    }
                    if path.is_dir() {
                        dirs.push(path);
                    } else if name.starts_with(&prefix) {
                        out.push(BlobKey::parse(&name)?);
                    }
                }
            }
            Ok(out)
        };
        tokio::task::spawn_blocking(walk)
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
    }

    async fn delete(&self, key: &BlobKey) -> R<()> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}
