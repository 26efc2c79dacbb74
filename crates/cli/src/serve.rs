//! `cutout serve` and `cutout worker`: configuration, logging, the inference provider, and the
//! server application with a signal-driven shutdown.

use std::process::ExitCode;
use std::sync::Arc;

use cutout_core::SegmenterProvider;
use cutout_infer::{EngineProvider, InferenceOptions};
use cutout_models::DataDir;
use cutout_server::{Application, Config};

use crate::args::ServeArgs;
use crate::BoxError;

pub fn run(data: &DataDir, args: &ServeArgs, http: bool) -> Result<ExitCode, BoxError> {
    let mut config = Config::load(args.config.as_deref())?;
    if args.no_workers {
        config.jobs.run_workers = false;
    }
    cutout_server::logging::init(&config.log);
    let data = config
        .inference
        .data_dir
        .clone()
        .map_or_else(|| data.clone(), DataDir::new);
    let openvino_installed = data.openvino_installed();
    let provider = Arc::new(EngineProvider::new(data, inference_options(&config)));
    // Settings that cannot work here (bf16 on ONNX Runtime, OpenVINO not installed) stop the
    // start, rather than failing every job later.
    let plan = provider.plan()?;
    let native_bf16 = cutout_infer::CpuFeatures::detect().native_bf16;
    tracing::info!(
        engine = plan.engine.as_str(),
        device = plan.device.as_str(),
        precision = plan.precision.as_str(),
        native_bf16,
        "inference engine"
    );
    if native_bf16 && !openvino_installed {
        tracing::warn!(
            "this CPU computes bf16 natively: `cutout models install --engine openvino` lets \
             engine = \"auto\" run the models several times faster"
        );
    }
    let default = config.inference.default_model.clone();
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
        // Registered before the process says it is up, so a SIGTERM sent on that line is never
        // lost to the default action (which would kill it without a graceful stop).
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        if http {
            tracing::info!(port = app.port(), "listening");
        } else {
            tracing::info!(port = app.admin_port(), "worker started");
        }
        app.run_until_stopped(shutdown_signal(term)).await?;
        Ok::<_, BoxError>(ExitCode::SUCCESS)
    })
}

/// `cutout migrate`: applies the schema this build needs to the configured database.
pub fn migrate(args: &ServeArgs) -> Result<ExitCode, BoxError> {
    let config = Config::load(args.config.as_deref())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(cutout_store::migrate(&config.storage.database))?;
    println!("schema up to date: {}", describe(&config.storage.database));
    Ok(ExitCode::SUCCESS)
}

/// The database as an operator would name it (never with its password).
fn describe(db: &cutout_store::DatabaseConfig) -> String {
    match db {
        cutout_store::DatabaseConfig::Sqlite { path, .. } => path.display().to_string(),
        cutout_store::DatabaseConfig::Postgres { url, .. } => url.to_string(),
    }
}

/// `[inference]` as the engine takes it (the session and thread policy lives in the engine).
fn inference_options(config: &Config) -> InferenceOptions {
    let i = &config.inference;
    InferenceOptions {
        engine: i.engine,
        precision: i.precision,
        device: i.device,
        sessions: i.sessions,
        threads: i.threads,
        spin: i.spinning,
    }
}

/// Loads the default model in the background so the first job does not pay for it.
fn preload(provider: Arc<EngineProvider>, model: String) {
    tokio::task::spawn_blocking(move || {
        if let Err(e) = provider.get(&model) {
            tracing::error!(model, error = %e, "loading the default model failed");
        }
    });
}

async fn shutdown_signal(mut term: tokio::signal::unix::Signal) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
}
