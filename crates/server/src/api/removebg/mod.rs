//! The remove.bg-compatible API (v1.0, as remove.bg's public docs define it): a synchronous
//! `POST /v1.0/removebg` and `GET /v1.0/account`, with remove.bg's parameters, headers, statuses
//! and `{"errors":[{"title","code","detail"}]}` body, so its SDKs and wrappers work by changing
//! the base URL and key. Runs on the same inference slots as the add-on.

pub mod error;
mod handlers;
mod output;
mod params;
mod types;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::http::Dialect;
use crate::service::state::AppState;

/// This family's part of `/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(handlers::remove_bg, handlers::account),
    tags((name = "remove.bg", description = "remove.bg API v1.0, drop-in: change the base URL \
        and the key. Errors: `{\"errors\":[{\"title\",\"code\",\"detail\"}]}`; a missing or bad \
        key is 403.")),
)]
pub struct Doc;

pub const DIALECT: Dialect = &error::RemoveBg;

pub fn router(state: &AppState) -> Router<AppState> {
    // Two files (the photo and a background), or base64 (4/3 larger).
    let limit = DefaultBodyLimit::max(state.config.limits.max_input_bytes as usize * 3 + (1 << 20));
    Router::new()
        .route("/v1.0/removebg", post(handlers::remove_bg).layer(limit))
        .route("/v1.0/account", get(handlers::account))
}
