//! The application as a value: `Application::build(config, segmenters)` binds (port 0 in tests)
//! and wires storage, routes and workers; `main` stays thin.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;

use crate::auth::{authenticate, render_errors};
use crate::config::Config;
use crate::error::Dialect;
use crate::fetch::Fetcher;
use crate::ratelimit::RateLimiter;
use crate::routes::{addon, assets, jobs, params, system, upload, usage, videos};
use crate::segmenters::SegmenterProvider;
use crate::signing::UrlSigner;
use crate::state::{AppState, Inner};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Store(#[from] cutout_store::StoreError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("HTTP client: {0}")]
    Fetch(#[from] crate::fetch::FetchError),
}

pub struct Application {
    listener: Option<TcpListener>,
    state: AppState,
}

impl Application {
    /// Opens storage and binds the listener. With `serve = false` nothing is bound (`cutout worker`).
    pub async fn build(
        config: Config,
        segmenters: Arc<dyn SegmenterProvider>,
        serve: bool,
    ) -> Result<Self, StartupError> {
        let listener = if serve {
            Some(TcpListener::bind(config.server.bind).await?)
        } else {
            None
        };
        let public_url = match (config.server.public_url.trim_end_matches('/'), &listener) {
            ("", Some(l)) => format!("http://{}", l.local_addr()?),
            (url, _) => url.to_owned(),
        };
        let repo = cutout_store::open_repo(
            &config.storage.database_url,
            config.storage.database_max_connections,
        )
        .await?;
        let blobs = cutout_store::open_blobs(&config.storage.blob_url).await?;
        let signer = UrlSigner::new(signing_secret(&config).await?.as_bytes());
        let state = AppState::new(Inner {
            fetcher: Fetcher::new(&config.fetch)?,
            limiter: RateLimiter::new(
                config.limits.rate_limit_per_minute,
                config.limits.rate_limit_burst,
            ),
            metrics: crate::metrics::Metrics::default(),
            wake: tokio::sync::Notify::new(),
            inline_slots: tokio::sync::Semaphore::new(config.limits.max_inline_jobs.max(1)),
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
        Ok(Self { listener, state })
    }

    pub fn port(&self) -> u16 {
        self.listener
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
                let app = router(self.state.clone());
                axum::serve(listener, app)
                    .with_graceful_shutdown(signal)
                    .await?;
            }
            None => signal.await,
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

/// Every route, grouped by authentication and error dialect.
pub fn router(state: AppState) -> Router {
    let upload_limit =
        DefaultBodyLimit::max(state.config.limits.max_input_bytes as usize + (1 << 20));
    let auth = || from_fn_with_state(state.clone(), authenticate);
    let image_api = Router::new()
        .route("/api/v1/upload", post(upload::upload).layer(upload_limit))
        .route("/api/v1/status", get(jobs::status))
        .route("/api/v1/jobs/{id}", get(jobs::job_detail))
        .route("/api/v1/params", get(params::list).post(params::create))
        .route(
            "/api/v1/params/{name}",
            get(params::get).put(params::put).delete(params::delete),
        )
        .route("/api/v1/account", get(jobs::account))
        .route_layer(auth());
    let assets_api = Router::new()
        .route(
            "/api/v1/assets",
            get(assets::list).post(assets::create).layer(upload_limit),
        )
        .route(
            "/api/v1/assets/{id}",
            get(assets::get).patch(assets::patch).delete(assets::delete),
        )
        .route("/api/v1/assets/{id}/file", get(assets::file))
        .route("/api/v1/assets/{id}/conversions", get(assets::conversions))
        .route(
            "/api/v1/assets/{id}/conversions/{name}",
            get(assets::conversion),
        )
        .route(
            "/api/v1/assets/file/addons/bg_remove",
            post(addon::on_upload).layer(upload_limit),
        )
        .route(
            "/api/v1/assets/{id}/addons/bg_remove",
            get(addon::on_asset).post(addon::on_asset),
        )
        .route_layer(auth());
    let video_limit = DefaultBodyLimit::max(state.config.video.max_bytes as usize + (1 << 20));
    let video_api = Router::new()
        .route("/v1/uploads", post(videos::upload).layer(video_limit))
        .route("/api/upload", post(videos::upload).layer(video_limit))
        .route("/v1/jobs", get(videos::list_jobs).post(videos::create_job))
        .route("/v1/jobs/{id}", get(videos::get_job))
        .route("/v1/jobs/{id}/start", post(videos::start_job))
        .route("/v1/jobs/{id}/cancel", post(videos::cancel_job))
        .route("/api/download/{id}", get(videos::download))
        .route("/v1/usage/summary", get(usage::summary))
        .route("/v1/usage/events", get(usage::events))
        .route_layer(auth());
    let public = Router::new()
        .route("/api/v1/results/{id}", get(jobs::signed_result))
        .route("/files/{*key}", get(jobs::public_file))
        .route("/v1/models", get(system::models))
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(system::metrics))
        .route("/openapi.json", get(system::openapi))
        .route("/docs", get(system::docs));
    let trace = TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
        let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
        tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path(), key_id = tracing::field::Empty)
    })
    .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Millis));
    Router::new()
        .merge(with_dialect(
            &state,
            image_api.merge(public),
            Dialect::ImageJobs,
        ))
        .merge(with_dialect(&state, assets_api, Dialect::Structured))
        .merge(with_dialect(&state, video_api, Dialect::Structured))
        .route_layer(from_fn_with_state(state.clone(), crate::metrics::track))
        .with_state(state)
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(trace)
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// The request deadline, and errors rendered in `dialect`'s shape (the deadline's 503 too).
fn with_dialect(state: &AppState, group: Router<AppState>, dialect: Dialect) -> Router<AppState> {
    group
        .layer(from_fn_with_state(state.clone(), crate::auth::deadline))
        .layer(from_fn(move |req, next| render_errors(dialect, req, next)))
}
