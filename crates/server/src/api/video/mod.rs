//! The video family (`/v1/...` and the legacy `/api/...`): uploads probed by content, jobs
//! charged per second of video, live progress, cancel, signed downloads and the usage ledger.
//! Errors use the structured `{"error":{"code","message","request_id"}}` shape.

mod jobs;
mod types;
mod uploads;
mod usage;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::http::Dialect;
use crate::service::state::AppState;

/// This family's part of `/openapi.json`, generated from its handlers' `#[utoipa::path]`
/// attributes and the types they answer with.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        uploads::upload,
        uploads::upload_legacy,
        jobs::list_jobs,
        jobs::create_job,
        jobs::get_job,
        jobs::start_job,
        jobs::cancel_job,
        jobs::download,
        usage::summary,
        usage::events,
    ),
    tags((name = "Video", description = "Video background removal (`/v1/...`, legacy `/api/...`). \
        Errors: `{\"error\":{\"code\",\"message\",\"request_id\"}}`.")),
)]
pub struct Doc;

pub const DIALECT: Dialect = &crate::http::Structured;

pub fn router(state: &AppState) -> Router<AppState> {
    let video_limit = DefaultBodyLimit::max(state.config.video.max_bytes as usize + (1 << 20));
    Router::new()
        .route("/v1/uploads", post(uploads::upload).layer(video_limit))
        .route(
            "/api/upload",
            post(uploads::upload_legacy).layer(video_limit),
        )
        .route("/v1/jobs", get(jobs::list_jobs).post(jobs::create_job))
        .route("/v1/jobs/{id}", get(jobs::get_job))
        .route("/v1/jobs/{id}/start", post(jobs::start_job))
        .route("/v1/jobs/{id}/cancel", post(jobs::cancel_job))
        .route("/api/download/{id}", get(jobs::download))
        .route("/v1/usage/summary", get(usage::summary))
        .route("/v1/usage/events", get(usage::events))
}
