//! The asset store family and its `bg_remove` add-on (`../shared/contracts/`): uploads, reads,
//! metadata patches, conversions, and inline cut-outs. Errors use the structured
//! `{"error":{"code","message","request_id"}}` shape.

mod addon;
mod addon_output;
mod addon_params;
mod handlers;
mod types;

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
        handlers::list,
        handlers::create,
        handlers::get,
        handlers::patch,
        handlers::delete,
        handlers::file,
        handlers::conversions,
        handlers::conversion,
        addon::on_upload,
        addon::on_asset,
        addon::on_asset_post,
    ),
    tags((name = "Assets", description = "The asset store and its bg_remove add-on. Errors: \
        `{\"error\":{\"code\",\"message\",\"request_id\"}}`. Another account's asset is always 404.")),
)]
pub struct Doc;

pub const DIALECT: Dialect = &crate::http::Structured;

pub fn router(state: &AppState) -> Router<AppState> {
    let upload_limit =
        DefaultBodyLimit::max(state.config.limits.max_input_bytes as usize + (1 << 20));
    Router::new()
        .route(
            "/api/v1/assets",
            get(handlers::list)
                .post(handlers::create)
                .layer(upload_limit),
        )
        .route(
            "/api/v1/assets/{id}",
            get(handlers::get)
                .patch(handlers::patch)
                .delete(handlers::delete),
        )
        .route("/api/v1/assets/{id}/file", get(handlers::file))
        .route(
            "/api/v1/assets/{id}/conversions",
            get(handlers::conversions),
        )
        .route(
            "/api/v1/assets/{id}/conversions/{name}",
            get(handlers::conversion),
        )
        .route(
            "/api/v1/assets/file/addons/bg_remove",
            post(addon::on_upload).layer(upload_limit),
        )
        .route(
            "/api/v1/assets/{id}/addons/bg_remove",
            get(addon::on_asset).post(addon::on_asset_post),
        )
}
