//! The API families, each with its own router, handlers, request/response types and error
//! dialect, composed into one router here. Families share `http` and `service`; they never
//! import each other.
//!
//! A new family is a new module with a `router`, a `DIALECT` and its `Doc` (the `OpenApi` derive
//! over its handlers' `#[utoipa::path]` attributes), plus one `family(..)` line below and one
//! line in `openapi.rs`.

pub mod assets;
pub mod image_jobs;
mod openapi;
pub mod removebg;
pub mod system;
pub mod video;

use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;

use crate::http::auth::authenticate;
use crate::http::render::render_errors;
use crate::http::{Dialect, RequestId};
use crate::service::state::AppState;

/// Every route: each family behind authentication, the public routes without, all with the
/// request id, tracing, metrics and the deadline.
pub fn router(state: AppState) -> Router {
    let authed =
        |r: Router<AppState>| r.route_layer(from_fn_with_state(state.clone(), authenticate));
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &axum::http::Request<_>| {
            let id = RequestId::from_headers(req.headers());
            tracing::info_span!("request", request_id = %id.as_deref().unwrap_or(""), method = %req.method(), path = %req.uri().path(), key_id = tracing::field::Empty)
        })
        .on_response(
            DefaultOnResponse::new()
                .level(tracing::Level::INFO)
                .latency_unit(LatencyUnit::Millis),
        );
    let public = image_jobs::public_router()
        .merge(system::router())
        .merge(openapi::router())
        .merge(crate::web::router());
    Router::new()
        .merge(family(
            &state,
            authed(image_jobs::router(&state)),
            image_jobs::DIALECT,
        ))
        .merge(family(&state, public, image_jobs::DIALECT))
        .merge(family(
            &state,
            authed(assets::router(&state)),
            assets::DIALECT,
        ))
        .merge(family(
            &state,
            authed(video::router(&state)),
            video::DIALECT,
        ))
        .merge(family(
            &state,
            authed(removebg::router(&state)),
            removebg::DIALECT,
        ))
        .route_layer(from_fn_with_state(
            state.clone(),
            crate::http::metrics::track,
        ))
        .with_state(state)
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(trace)
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// A worker process's small port: health, readiness and metrics, nothing of the API.
pub fn worker_router(state: AppState) -> Router {
    system::probes().with_state(state)
}

/// The request deadline, and errors rendered in `dialect`'s shape (the deadline's 503 too).
fn family(state: &AppState, group: Router<AppState>, dialect: Dialect) -> Router<AppState> {
    group
        .layer(from_fn_with_state(
            state.clone(),
            crate::http::deadline::deadline,
        ))
        .layer(from_fn(move |req, next| render_errors(dialect, req, next)))
}
