//! The one place an [`ApiError`] becomes a response: its status, and the JSON shape of the API
//! family (dialect) that answers, with the request id and `Retry-After` where they apply.

use super::doc::{StructuredError, StructuredErrorDetail};
use super::request_id::RequestId;
use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::RefOr;

/// An API family's error shape: how an [`ApiError`] is answered on its routes and documented in
/// its operations. Each family owns its dialect (`api/<family>/error.rs`); the structured shape
/// two families share is [`Structured`] here.
pub trait ErrorDialect: Send + Sync + 'static {
    /// The status and JSON body for `err`; `request_id` for the bodies that carry one.
    fn render(&self, err: &ApiError, request_id: Option<&str>) -> (StatusCode, Response);
    /// How an error response shared by many operations (`name`: `NotFound`, `InternalError`,
    /// ...) is documented in this shape.
    fn doc_response(&self, name: &str, description: &str) -> RefOr<utoipa::openapi::Response>;
}

/// Which error shape a route group answers in.
pub type Dialect = &'static dyn ErrorDialect;

/// `{"error":{"code","message","request_id"}}`: the video and asset families' shape.
#[derive(Clone, Copy, Debug)]
pub struct Structured;

impl ErrorDialect for Structured {
    fn render(&self, err: &ApiError, request_id: Option<&str>) -> (StatusCode, Response) {
        let body = StructuredError {
            error: StructuredErrorDetail {
                code: err.code(),
                message: err.message(),
                request_id: request_id.map(str::to_owned),
            },
        };
        (err.status(), axum::Json(body).into_response())
    }

    fn doc_response(&self, _name: &str, description: &str) -> RefOr<utoipa::openapi::Response> {
        super::doc::schema_response(description, "StructuredError")
    }
}

impl ApiError {
    /// The response in `dialect`'s shape, with `Retry-After` where it applies.
    pub fn into_response_for(self, dialect: Dialect, request_id: Option<&str>) -> Response {
        let (status, body) = dialect.render(&self, request_id);
        let mut resp = (status, body).into_response();
        let retry = match self {
            Self::RateLimited { retry_after_secs } => Some(retry_after_secs),
            Self::Unavailable {
                retry_after_secs, ..
            } => Some(retry_after_secs),
            _ => None,
        };
        if let Some(secs) = retry {
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from(secs.max(1)));
        }
        resp
    }
}

/// Handlers return `ApiError` directly. The error travels in the response's extensions so the
/// route group's middleware ([`render_errors`]) can render it in that group's dialect
/// with the request id; the body here is the structured shape, used only without that
/// middleware.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = self.clone().into_response_for(&Structured, None);
        resp.extensions_mut().insert(self);
        resp
    }
}

/// Re-renders an [`ApiError`] carried by the response in the route group's dialect, with the
/// request id.
pub async fn render_errors(dialect: Dialect, req: Request, next: Next) -> Response {
    let request_id = RequestId::from_headers(req.headers());
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

    async fn body(r: Response) -> serde_json::Value {
        let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice(&b).unwrap()
    }

    #[tokio::test]
    async fn structured_dialect_carries_code_and_request_id() {
        let r = ApiError::RateLimited {
            retry_after_secs: 3,
        }
        .into_response_for(&Structured, Some("req-1"));
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "3");
        let b = body(r).await;
        assert_eq!(
            (
                b["error"]["code"].as_str(),
                b["error"]["request_id"].as_str()
            ),
            (Some("rate_limited"), Some("req-1"))
        );
    }
}
