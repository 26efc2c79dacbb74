//! The application as a value: `Application::build(config, segmenters)` binds (port 0 in tests)
//! and wires storage, routes and workers; `main` stays thin.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use cutout_core::SegmenterProvider;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::net::fetch::Fetcher;
use crate::service::ratelimit::RateLimiter;
use crate::service::signing::UrlSigner;
use crate::service::state::{AppState, Inner};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Store(#[from] cutout_store::StoreError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("HTTP client: {0}")]
    Fetch(#[from] crate::net::fetch::FetchError),
}

pub struct Application {
    listener: Option<TcpListener>,
    /// `cutout worker`'s health and metrics port.
    admin: Option<TcpListener>,
    state: AppState,
}

impl Application {
    /// Opens storage and binds the listener. With `serve = false` (`cutout worker`) only the
    /// small health and metrics port (`server.worker_bind`) is bound.
    pub async fn build(
        config: Config,
        segmenters: Arc<dyn SegmenterProvider>,
        serve: bool,
    ) -> Result<Self, StartupError> {
        let (listener, admin) = if serve {
            (Some(TcpListener::bind(config.server.bind).await?), None)
        } else {
            (
                None,
                Some(TcpListener::bind(config.server.worker_bind).await?),
            )
        };
        let public_url = match (config.server.public_url.trim_end_matches('/'), &listener) {
            ("", Some(l)) => format!("http://{}", l.local_addr()?),
            (url, _) => url.to_owned(),
        };
        let repo = cutout_store::open_repo(&config.storage.database).await?;
        let blobs = cutout_store::open_blobs(&config.storage.blobs).await?;
        let signer = UrlSigner::new(signing_secret(&config).await?.as_bytes());
        let state = AppState::new(Inner {
            fetcher: Fetcher::new(&config.fetch)?,
            limiter: RateLimiter::new(
                config.limits.rate_limit_per_minute,
                config.limits.rate_limit_burst,
                // A shared database means several API nodes: the buckets must be shared too.
                matches!(
                    config.storage.database,
                    cutout_store::DatabaseConfig::Postgres { .. }
                ),
            ),
            metrics: crate::metrics::Metrics::default(),
            wake: tokio::sync::Notify::new(),
            inline_slots: tokio::sync::Semaphore::new(config.limits.max_inline_jobs.max(1)),
            pixel_budget: crate::service::budget::PixelBudget::new(
                config.limits.max_megapixels_in_flight,
            ),
            upload_dir: tempfile::Builder::new()
                .prefix("cutout-uploads")
                .tempdir()?,
            config,
            repo,
            blobs,
            segmenters,
            signer,
            public_url,
        });
        Ok(Self {
            listener,
            admin,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map_or(0, |a| a.port())
    }

    /// The health and metrics port of a worker-only process (0 when there is none).
    pub fn admin_port(&self) -> u16 {
        self.admin
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map_or(0, |a| a.port())
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves (if bound) and runs workers (if configured) until `shutdown` resolves, then stops
    /// accepting requests and gives in-flight jobs the configured grace period.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let stop = CancellationToken::new();
        let jobs_cfg = &self.state.config.jobs;
        let grace = Duration::from_secs(jobs_cfg.shutdown_grace_secs);
        let workers = (jobs_cfg.run_workers || self.listener.is_none())
            .then(|| crate::worker::spawn(self.state.clone(), stop.clone()));
        let signal = {
            let stop = stop.clone();
            async move {
                shutdown.await;
                tracing::info!("shutting down");
                stop.cancel();
            }
        };
        match self.listener {
            Some(listener) => {
                let app = crate::api::router(self.state.clone());
                crate::listen::serve(listener, app, &self.state.config.server, signal).await?;
            }
            None => {
                let admin = self.admin.map(|l| {
                    let app = crate::api::worker_router(self.state.clone());
                    let stop = stop.clone();
                    tokio::spawn(async move {
                        axum::serve(l, app)
                            .with_graceful_shutdown(async move { stop.cancelled().await })
                            .await
                    })
                });
                signal.await;
                if let Some(task) = admin {
                    let _ = task.await;
                }
            }
        }
        if let Some(w) = workers {
            crate::worker::join(w, grace).await;
        }
        Ok(())
    }
}

/// The signing key: configured, or kept in a file created on first start.
async fn signing_secret(config: &Config) -> Result<String, std::io::Error> {
    let s = &config.security;
    if !s.signing_secret.is_empty() {
        return Ok(s.signing_secret.expose().to_owned());
    }
    if let Ok(existing) = tokio::fs::read_to_string(&s.signing_secret_file).await {
        if !existing.trim().is_empty() {
            return Ok(existing.trim().to_owned());
        }
    }
    let fresh = crate::keys::generate();
    if let Some(dir) = s
        .signing_secret_file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        tokio::fs::create_dir_all(dir).await?;
    }
    write_private(&s.signing_secret_file, &fresh)?;
    Ok(fresh)
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}
