//! Authentication and per-key rate limiting, as middleware for each route group, and the
//! [`Caller`] extractor handlers take.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cutout_store::{ApiKey, Scope};

use crate::error::ApiError;
use crate::service::state::AppState;

/// The authenticated key, put in the request by [`authenticate`].
#[derive(Clone, Debug)]
pub struct Caller(pub ApiKey);

impl Caller {
    /// 403 unless the key holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
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
        self.require(Scope::ImagesRead)
            .or_else(|_| self.require(Scope::ImagesWrite))
    }
}

impl Caller {
    /// Reading video jobs: `videos:read`, or `videos:write`.
    pub fn require_video_read(&self) -> Result<(), ApiError> {
        self.require(Scope::VideosRead)
            .or_else(|_| self.require(Scope::VideosWrite))
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
    let decision = match state.limiter.enabled() {
        true => match state.limiter.check(&*state.repo, found.id).await {
            Ok(d) => Some(d),
            Err(e) => return ApiError::internal("rate limit check failed", &e).into_response(),
        },
        false => None,
    };
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
