//! The image jobs family (`../shared/contracts/image-jobs-upload.txt`): uploads become charged,
//! queued jobs; status, detail, presets, the account, and result delivery (signed links and
//! published files). Errors use the vendor's flat shape ([`error::ImageJobs`]).

pub mod error;
mod jobs;
mod params;
mod types;
mod upload;

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
        upload::upload,
        jobs::status,
        jobs::job_detail,
        params::list,
        params::create,
        params::get,
        params::put,
        params::delete,
        jobs::account,
        jobs::signed_result,
        jobs::public_file,
    ),
    components(
        schemas(error::ImageErrorBody),
        responses(
            error::BadRequest,
            error::Unauthorized,
            error::InsufficientCredits,
            error::Forbidden,
            error::NotFound,
            error::PayloadTooLarge,
            error::ValidationError,
            error::RateLimited,
            error::InternalError,
            error::Unavailable,
        ),
    ),
    tags(
        (name = "Image jobs", description = "Create image jobs and follow them."),
        (name = "Parameter sets", description = "Named option presets per account, used by mode=params."),
        (name = "Account", description = "Balance and usage."),
        (name = "Results", description = "Result downloads (no API key)."),
    ),
)]
pub struct Doc;

pub const DIALECT: Dialect = &error::ImageJobs;

/// Routes that need an API key.
pub fn router(state: &AppState) -> Router<AppState> {
    let upload_limit =
        DefaultBodyLimit::max(state.config.limits.max_input_bytes as usize + (1 << 20));
    Router::new()
        .route("/api/v1/upload", post(upload::upload).layer(upload_limit))
        .route("/api/v1/status", get(jobs::status))
        .route("/api/v1/jobs/{id}", get(jobs::job_detail))
        .route("/api/v1/params", get(params::list).post(params::create))
        .route(
            "/api/v1/params/{name}",
            get(params::get).put(params::put).delete(params::delete),
        )
        .route("/api/v1/account", get(jobs::account))
}

/// Result links: the signature or the unguessable published path is the credential.
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/results/{id}", get(jobs::signed_result))
        .route("/files/{*key}", get(jobs::public_file))
}
