//! Authentication, per-key rate limiting and dialect-aware error rendering, as middleware for
//! each route group.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cutout_store::ApiKey;

use crate::error::{ApiError, Dialect};
use crate::state::AppState;

/// The authenticated key, put in the request by [`authenticate`].
#[derive(Clone, Debug)]
pub struct Caller(pub ApiKey);

impl Caller {
    /// 403 unless the key holds `scope`.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.0.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this API key lacks the {scope} scope"
            )))
        }
    }

    /// Reading jobs: `images:read`, or `images:write` (a key that uploads may poll its jobs).
    pub fn require_image_read(&self) -> Result<(), ApiError> {
        self.require("images:read")
            .or_else(|_| self.require("images:write"))
    }
}

impl Caller {
    /// Reading video jobs: `videos:read`, or `videos:write`.
    pub fn require_video_read(&self) -> Result<(), ApiError> {
        self.require("videos:read")
            .or_else(|_| self.require("videos:write"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            tracing::error!("route without the authenticate middleware asked for a caller");
            ApiError::Internal
        })
    }
}

/// The key from `X-API-Key` or `Authorization: Bearer`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(k) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(k.trim());
    }
    let auth = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(key) = presented_key(req.headers()).filter(|k| !k.is_empty()) else {
        return ApiError::Unauthorized("API key missing").into_response();
    };
    let found = match state.repo.find_key(&crate::keys::hash(key)).await {
        Ok(Some(k)) => k,
        Ok(None) => return ApiError::Unauthorized("API key invalid").into_response(),
        Err(e) => return ApiError::internal("key lookup failed", &e).into_response(),
    };
    tracing::Span::current().record("key_id", tracing::field::display(found.id));
    let decision = state
        .limiter
        .enabled()
        .then(|| state.limiter.check(found.id));
    let mut resp = match decision {
        Some(d) if !d.allowed => ApiError::RateLimited {
            retry_after_secs: d.retry_after_secs,
        }
        .into_response(),
        _ => {
            req.extensions_mut().insert(Caller(found));
            next.run(req).await
        }
    };
    if let Some(d) = decision {
        let h = resp.headers_mut();
        h.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
        h.insert("x-ratelimit-reset", HeaderValue::from(d.reset_secs));
    }
    resp
}

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

/// Re-renders an [`ApiError`] carried by the response in the route group's dialect, with the
/// request id.
pub async fn render_errors(dialect: Dialect, req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut resp = next.run(req).await;
    let Some(err) = resp.extensions_mut().remove::<ApiError>() else {
        return resp;
    };
    let mut out = err.into_response_for(dialect, request_id.as_deref());
    // Keep headers set on the way out (rate-limit headers, request id).
    for (k, v) in resp.headers() {
        if k != "content-type" && k != "content-length" {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_header_styles_are_read() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer ck_abc".parse().unwrap());
        assert_eq!(presented_key(&h), Some("ck_abc"));
        h.insert("x-api-key", " ck_def ".parse().unwrap());
        assert_eq!(presented_key(&h), Some("ck_def"));
        let mut h = HeaderMap::new();
        h.insert("authorization", "Basic xyz".parse().unwrap());
        assert_eq!(presented_key(&h), None);
    }
}
