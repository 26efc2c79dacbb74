//! `cutout serve` and `cutout worker`: configuration, logging, the ONNX Runtime provider, and the
//! server application with a signal-driven shutdown.

use std::process::ExitCode;
use std::sync::Arc;

use cutout_core::SegmenterProvider;
use cutout_infer::{OrtProvider, PoolConfig};
use cutout_models::DataDir;
use cutout_server::{Application, Config};

use crate::args::ServeArgs;
use crate::BoxError;

pub fn run(data: &DataDir, args: &ServeArgs, http: bool) -> Result<ExitCode, BoxError> {
    let config = Config::load(args.config.as_deref())?;
    cutout_server::logging::init(&config.log);
    let data = config
        .jobs
        .data_dir
        .clone()
        .map_or_else(|| data.clone(), DataDir::new);
    let provider = Arc::new(OrtProvider::new(data, pool_config(&config)));
    let default = config.jobs.default_model.clone();
    if !provider.image_models().contains(&default) {
        return Err(format!(
            "the default model {default} is not installed: run `cutout models install {default}`"
        )
        .into());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        preload(provider.clone(), default);
        let app = Application::build(config, provider, http).await?;
        if http {
            tracing::info!(port = app.port(), "listening");
        } else {
            tracing::info!("worker started");
        }
        app.run_until_stopped(shutdown_signal()).await?;
        Ok::<_, BoxError>(ExitCode::SUCCESS)
    })
}

/// Inference sessions and their threads. By default up to 4 threads per session and as many
/// sessions as that fills the cores with: one fast inference beats two slow ones for latency, and
/// on a small machine it also measured faster overall (the other workers decode, refine and
/// encode while one job is in the model).
fn pool_config(config: &Config) -> PoolConfig {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = match config.jobs.inference_threads {
        0 => match config.jobs.inference_sessions {
            0 => cores.min(4),
            s => (cores / s).max(1),
        },
        t => t,
    };
    let sessions = match config.jobs.inference_sessions {
        0 => (cores / threads).max(1),
        s => s,
    };
    PoolConfig {
        sessions,
        intra_threads: threads,
        spin: config.jobs.inference_spinning,
    }
}

/// Loads the default model in the background so the first job does not pay for it.
fn preload(provider: Arc<OrtProvider>, model: String) {
    tokio::task::spawn_blocking(move || {
        if let Err(e) = provider.get(&model) {
            tracing::error!(model, error = %e, "loading the default model failed");
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
