//! The request deadline: a stuck client or dependency cannot hold a connection forever.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::service::state::AppState;

/// Answers 503 (in the group's dialect) when a request runs past `server.request_timeout_secs`,
/// so a stuck client or dependency cannot hold a connection forever.
pub async fn deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = std::time::Duration::from_secs(state.config.server.request_timeout_secs.max(1));
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!(timeout_secs = limit.as_secs(), "request timed out");
            ApiError::Unavailable {
                reason: "the request took too long",
                retry_after_secs: 5,
            }
            .into_response()
        }
    }
}
