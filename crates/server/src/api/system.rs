//! Health, readiness, metrics, models and the API description.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use axum::Router;
use serde_json::{json, Value};

use crate::service::state::AppState;

/// Health, readiness, metrics, models and the API description: no key needed.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/models", get(models))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/docs", get(docs))
}

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database and the blob store answer and at least one model is installed.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let db = state.repo.pending_count().await;
    let blobs = state.blobs.health().await;
    if let Err(e) = &blobs {
        tracing::warn!(error = %e, "the blob store is not healthy");
    }
    let models = state.segmenters.image_models();
    let ok = db.is_ok() && blobs.is_ok() && !models.is_empty();
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = json!({
        "database": word(db.is_ok()),
        "blobs": word(blobs.is_ok()),
        "models": models,
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

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

/// `GET /v1/models`: installed models with their licences; `media` says whether a model serves
/// still images (and video frame by frame) or only video (a recurrent model such as `rvm`).
pub async fn models(State(state): State<AppState>) -> Json<Value> {
    let manifest = cutout_models::manifest();
    let seg = &state.segmenters;
    let image = seg.image_models().into_iter().map(|n| (n, "image"));
    let video = seg.video_models().into_iter().map(|n| (n, "video"));
    let list: Vec<Value> = image
        .chain(video)
        .map(|(name, media)| match manifest.get(&name) {
            Ok(m) => json!({
                "name": name,
                "media": media,
                "licence": m.license,
                "commercial_use": m.commercial_use,
                "input": m.input,
                "summary": m.summary,
                "default": name == state.config.inference.default_model,
            }),
            Err(_) => json!({"name": name, "media": media}),
        })
        .collect();
    Json(json!({"models": list}))
}

pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi::document(),
    )
        .into_response()
}

/// A self-contained page (no CDN) that renders `/openapi.json`.
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("../../docs.html"))
}
