//! The request id set by the outermost layer (`x-request-id`, a fresh UUID unless the client sent
//! one), as an extractor so no handler reads the header by hand.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;

/// `None` only outside the router's request-id layer (unit tests of single handlers).
#[derive(Clone, Debug, Default)]
pub struct RequestId(pub Option<String>);

impl RequestId {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self(
            headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        )
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self::from_headers(&parts.headers))
    }
}
