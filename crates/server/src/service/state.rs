//! Everything a handler or worker needs, built once at start-up and shared.

use std::sync::Arc;

use cutout_store::{BlobStore, Repo};
use tokio::sync::Notify;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::net::fetch::Fetcher;
use crate::service::ratelimit::RateLimiter;
use crate::service::signing::UrlSigner;
use cutout_core::SegmenterProvider;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub repo: Arc<dyn Repo>,
    pub blobs: Arc<dyn BlobStore>,
    pub segmenters: Arc<dyn SegmenterProvider>,
    pub fetcher: Fetcher,
    pub signer: UrlSigner,
    pub limiter: RateLimiter,
    pub metrics: Metrics,
    /// Wakes idle workers when a job is queued (the poll interval is only the fallback).
    pub wake: Notify,
    /// Base of the URLs this server hands out, without a trailing slash.
    pub public_url: String,
    /// Bounds the megapixels being processed at once (`limits.max_megapixels_in_flight`).
    pub pixel_budget: crate::service::budget::PixelBudget,
    /// Bounds the add-on's inline cut-outs (`limits.max_inline_jobs`).
    pub inline_slots: tokio::sync::Semaphore,
    /// Where multipart uploads are streamed before they become blobs.
    pub upload_dir: tempfile::TempDir,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    /// Where published (`final_url`) results live.
    pub fn public_base(&self) -> String {
        match self.config.storage.public_base_url.trim_end_matches('/') {
            "" => format!("{}/files", self.public_url),
            base => base.to_owned(),
        }
    }
}
