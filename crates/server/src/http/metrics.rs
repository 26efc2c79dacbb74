//! Request metrics as middleware: every routed request counted and timed by route template.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::metrics::{HttpLabels, RouteLabels};
use crate::service::state::AppState;

/// Counts and times every routed request under its route template (not its raw path, which
/// would make one series per job id).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let t = Instant::now();
    let resp = next.run(req).await;
    let m = &state.metrics;
    m.http_seconds
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(t.elapsed().as_secs_f64());
    m.http_requests
        .get_or_create(&HttpLabels {
            method,
            route,
            status: resp.status().as_u16().to_string(),
        })
        .inc();
    resp
}
