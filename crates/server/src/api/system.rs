//! Health, readiness, metrics and models.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use axum::Router;
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::state::AppState;

/// The routes below, described for `/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(models, healthz, readyz, metrics),
    tags((name = "System", description = "Models, health, metrics and this description (no API key).")),
)]
pub struct Doc;

/// Health, readiness, metrics and models: no key needed.
pub fn router() -> Router<AppState> {
    probes().route("/v1/models", get(models))
}

/// What a worker process also answers, on its small port (`cutout worker`).
pub fn probes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Liveness
///
/// Answers while the process serves HTTP.
#[utoipa::path(get, path = "/healthz", tag = "System", operation_id = "healthz", security(()),
    responses((status = 200, description = "Alive.", content_type = "text/plain", body = String,
        example = "ok")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness
///
/// Ready when the database and the blob store answer and at least one model is installed.
#[utoipa::path(get, path = "/readyz", tag = "System", operation_id = "readyz", security(()),
    responses(
        (status = 200, description = "Ready.", body = Readiness),
        (status = 503, description = "Not ready: the body says which part.", body = Readiness),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let db = state.repo.pending_count().await;
    let blobs = state.blobs.health().await;
    if let Err(e) = &blobs {
        tracing::warn!(error = %e, "the blob store is not healthy");
    }
    let models = state.segmenters.image_models();
    let ok = db.is_ok() && blobs.is_ok() && !models.is_empty();
    let seg = &state.segmenters;
    let inference = (models.iter().chain(&seg.video_models()))
        .filter_map(|m| seg.engine_report(m).map(|r| ModelEngine::new(m, r)))
        .collect();
    let body = Readiness {
        database: Health::of(db.is_ok()),
        blobs: Health::of(blobs.is_ok()),
        models,
        inference,
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Prometheus metrics
///
/// Metrics in the OpenMetrics text format (requests, jobs, queue depth, inference time).
#[utoipa::path(get, path = "/metrics", tag = "System", operation_id = "metrics", security(()),
    responses((status = 200, description = "The metrics.",
        content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    // Queue figures are read at scrape time, so every API node reports the shared truth.
    if let Ok(n) = state.repo.pending_count().await {
        state.metrics.queue_depth.set(n as i64);
    }
    if let Ok(counts) = state.repo.count_by_state().await {
        for (st, n) in counts {
            let label = crate::metrics::NameLabels {
                name: st.as_str().into(),
            };
            state
                .metrics
                .jobs_by_state
                .get_or_create(&label)
                .set(n as i64);
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// List installed models
///
/// The installed models with their licences; `media` says whether a model serves still images
/// (and video frame by frame) or only video (a recurrent model such as `rvm`).
#[utoipa::path(get, path = "/v1/models", tag = "System", operation_id = "listModels", security(()),
    responses((status = 200, description = "The models.", body = ModelList)))]
pub async fn models(State(state): State<AppState>) -> Json<ModelList> {
    let manifest = cutout_models::manifest();
    let seg = &state.segmenters;
    let image = seg.image_models().into_iter().map(|n| (n, "image"));
    let video = seg.video_models().into_iter().map(|n| (n, "video"));
    let models = image
        .chain(video)
        .map(|(name, media)| {
            // The provider knows imported models too; the manifest covers stand-ins.
            let d = seg.describe(&name).or_else(|| {
                manifest
                    .get(&name)
                    .ok()
                    .map(|m| cutout_core::ModelDescription {
                        licence: m.license.clone(),
                        commercial_use: Some(m.commercial_use),
                        input: Some(m.input.clone()),
                        summary: Some(m.summary.clone()),
                    })
            });
            let run = seg.engine_report(&name);
            ModelInfo {
                engine: run.map(|r| r.engine.as_str()),
                device: run.map(|r| r.device.as_str()),
                precision: run.map(|r| r.precision.as_str()),
                default: d
                    .as_ref()
                    .map(|_| name == state.config.inference.default_model),
                commercial_use: d.as_ref().and_then(|d| d.commercial_use),
                input: d.as_ref().and_then(|d| d.input.clone()),
                summary: d.as_ref().and_then(|d| d.summary.clone()),
                licence: d.map(|d| d.licence),
                name,
                media,
            }
        })
        .collect();
    Json(ModelList { models })
}

#[derive(Serialize, ToSchema)]
pub struct ModelList {
    pub models: Vec<ModelInfo>,
}

/// An installed model: still-image models (usable for video frame by frame too) and video-only
/// recurrent ones such as `rvm`, built in or imported by the operator (`cutout models import`).
/// Only `name` and `media` are present when nothing describes the model.
#[derive(Serialize, ToSchema)]
pub struct ModelInfo {
    #[schema(examples("u2net"))]
    pub name: String,
    /// `image`: a still-image model (also usable for video, frame by frame); `video`: a
    /// recurrent model that only runs on video jobs.
    #[schema(value_type = String, pattern = "^(image|video)$")]
    pub media: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commercial_use: Option<bool>,
    /// The input the model was trained at, e.g. `320x320`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The model used when a request names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// The inference engine that runs the model on this node.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^(onnxruntime|openvino)$")]
    pub engine: Option<&'static str>,
    /// Where it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^(cpu|cuda)$")]
    pub device: Option<&'static str>,
    /// The precision the engine computes in (reported by the engine once the model is loaded).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^(f32|bf16)$")]
    pub precision: Option<&'static str>,
}

/// Which parts of the node answer.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub database: Health,
    /// Whether the blob store takes a write.
    pub blobs: Health,
    /// The installed image models; none makes the node unready.
    pub models: Vec<String>,
    /// How each installed model runs on this node.
    pub inference: Vec<ModelEngine>,
}

/// The engine, device and precision a model runs with: what the engine reports once the model
/// is loaded, the configured plan before.
#[derive(Serialize, ToSchema)]
pub struct ModelEngine {
    #[schema(examples("u2net"))]
    pub model: String,
    #[schema(value_type = String, pattern = "^(onnxruntime|openvino)$")]
    pub engine: &'static str,
    #[schema(value_type = String, pattern = "^(cpu|cuda)$")]
    pub device: &'static str,
    #[schema(value_type = String, pattern = "^(f32|bf16)$")]
    pub precision: &'static str,
}

impl ModelEngine {
    fn new(model: &str, r: cutout_core::EngineReport) -> Self {
        Self {
            model: model.to_owned(),
            engine: r.engine.as_str(),
            device: r.device.as_str(),
            precision: r.precision.as_str(),
        }
    }
}

#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Ok,
    Unavailable,
}

impl Health {
    fn of(ok: bool) -> Self {
        if ok {
            Self::Ok
        } else {
            Self::Unavailable
        }
    }
}
