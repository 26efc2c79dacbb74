//! Blobs in an S3-compatible bucket (AWS, SeaweedFS, MinIO, ...) through `object_store`. Large
//! files go up as multipart uploads and come down as streams, never whole in memory; results are
//! handed out as the bucket's public URL (published keys) or presigned GETs, so their bytes do
//! not flow through the API node.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::sigv4::Signer;
use super::S3Config;
use super::{BlobKey, BlobStore};
use crate::StoreError;

type R<T> = Result<T, StoreError>;

/// Parts of a multipart upload: S3's minimum is 5 MiB.
const PART: usize = 8 << 20;
/// Files up to this size go up in one request.
const SINGLE_PUT: u64 = PART as u64;

#[derive(Debug)]
pub struct S3Blobs {
    store: Arc<AmazonS3>,
    endpoint: String,
    bucket: String,
    signer: Signer,
    public_base: String,
}

fn err(e: object_store::Error) -> StoreError {
    StoreError::Object(e.to_string())
}

fn path(key: &BlobKey) -> R<ObjectPath> {
    ObjectPath::parse(key.as_str()).map_err(|_| StoreError::BadKey(key.as_str().into()))
}

/// `Ok(None)` for a missing object, the value otherwise.
fn found<T>(r: Result<T, object_store::Error>) -> R<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(err(e)),
    }
}

impl S3Blobs {
    /// Connects to the bucket (creating it first when `create_bucket` is set).
    pub async fn open(c: &S3Config) -> R<Self> {
        let endpoint = c.endpoint.trim_end_matches('/').to_owned();
        let store = AmazonS3Builder::new()
            .with_endpoint(&endpoint)
            .with_bucket_name(&c.bucket)
            .with_region(&c.region)
            .with_access_key_id(&c.access_key_id)
            .with_secret_access_key(c.secret_access_key.expose())
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(err)?;
        let signer = Signer {
            access_key: c.access_key_id.clone(),
            secret_key: c.secret_access_key.expose().to_owned(),
            region: c.region.clone(),
        };
        let public_base = match c.public_url.as_deref() {
            Some(u) if !u.is_empty() => u.trim_end_matches('/').to_owned(),
            _ => format!("{endpoint}/{}", c.bucket),
        };
        let blobs = Self {
            store: Arc::new(store),
            endpoint,
            bucket: c.bucket.clone(),
            signer,
            public_base,
        };
        if c.create_bucket {
            blobs.create_bucket().await?;
        }
        Ok(blobs)
    }

    /// `CreateBucket`; one that exists already is fine.
    async fn create_bucket(&self) -> R<()> {
        let path = format!("/{}", self.bucket);
        let headers = self
            .signer
            .sign_empty("PUT", &self.endpoint, &path, SystemTime::now());
        let mut req = reqwest::Client::new().put(format!("{}{path}", self.endpoint));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| StoreError::Object(format!("creating bucket {}: {e}", self.bucket)))?;
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        if status.is_success() || body.contains("BucketAlreadyOwnedByYou") {
            return Ok(());
        }
        Err(StoreError::Object(format!(
            "creating bucket {}: {status} {body}",
            self.bucket
        )))
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    /// One request for small files, else a multipart upload read part by part from disk.
    async fn put_file(&self, key: &BlobKey, src: &Path) -> R<u64> {
        let path = path(key)?;
        let mut file = tokio::fs::File::open(src).await?;
        let size = file.metadata().await?.len();
        if size <= SINGLE_PUT {
            let mut buf = Vec::with_capacity(size as usize);
            file.read_to_end(&mut buf).await?;
            self.store
                .put(&path, PutPayload::from(buf))
                .await
                .map_err(err)?;
            return Ok(size);
        }
        let upload = self.store.put_multipart(&path).await.map_err(err)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut buf = vec![0u8; PART];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            // At most two parts in flight: memory stays bounded whatever the file's size.
            writer.wait_for_capacity(2).await.map_err(err)?;
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(err)?;
        Ok(size)
    }

    async fn put_bytes(&self, key: &BlobKey, data: Bytes) -> R<()> {
        self.store
            .put(&path(key)?, PutPayload::from(data))
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn get(&self, key: &BlobKey) -> R<Option<Bytes>> {
        let Some(got) = found(self.store.get(&path(key)?).await)? else {
            return Ok(None);
        };
        Ok(Some(got.bytes().await.map_err(err)?))
    }

    /// Streams the object into `dest` chunk by chunk.
    async fn get_to_file(&self, key: &BlobKey, dest: &Path) -> R<Option<u64>> {
        let Some(got) = found(self.store.get(&path(key)?).await)? else {
            return Ok(None);
        };
        let mut out = tokio::fs::File::create(dest).await?;
        let mut stream = got.into_stream();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(err)?;
            out.write_all(&chunk).await?;
            n += chunk.len() as u64;
        }
        out.flush().await?;
        Ok(Some(n))
    }

    async fn get_range(&self, key: &BlobKey, range: Range<u64>) -> R<Option<Bytes>> {
        let p = path(key)?;
        let Some(meta) = found(self.store.head(&p).await)? else {
            return Ok(None);
        };
        let (start, end) = (range.start.min(meta.size), range.end.min(meta.size));
        if start >= end {
            return Ok(Some(Bytes::new()));
        }
        found(self.store.get_range(&p, start..end).await)
    }

    async fn size(&self, key: &BlobKey) -> R<Option<u64>> {
        Ok(found(self.store.head(&path(key)?).await)?.map(|m| m.size))
    }

    async fn list(&self, prefix: &str) -> R<Vec<BlobKey>> {
        let prefix = (!prefix.is_empty()).then(|| ObjectPath::from(prefix.trim_end_matches('/')));
        let mut stream = self.store.list(prefix.as_ref());
        let mut out = Vec::new();
        while let Some(meta) = stream.next().await {
            let location = meta.map_err(err)?.location;
            // The health probe is the store's own, not a blob.
            if !location.as_ref().starts_with(".health/") {
                out.push(BlobKey::parse(location.as_ref())?);
            }
        }
        Ok(out)
    }

    async fn delete(&self, key: &BlobKey) -> R<()> {
        found(self.store.delete(&path(key)?).await).map(drop)
    }

    fn public_url(&self, key: &BlobKey) -> Option<String> {
        Some(format!("{}/{}", self.public_base, key.as_str()))
    }

    fn presigned_get(&self, key: &BlobKey, ttl: Duration) -> Option<String> {
        let url = self.signer.presign_get(
            &self.endpoint,
            &self.bucket,
            key.as_str(),
            ttl.as_secs(),
            SystemTime::now(),
        );
        Some(url)
    }

    /// The bucket must take a write (as the disk store's health does).
    async fn health(&self) -> R<()> {
        let probe = ObjectPath::from(".health/probe");
        self.store
            .put(&probe, PutPayload::from_static(b"ok"))
            .await
            .map_err(err)?;
        Ok(())
    }
}
