//! The one place an [`ApiError`] becomes a response: its status, and the JSON shape of the API
//! family (dialect) that answers, with the request id and `Retry-After` where they apply.

use super::doc::{ImageErrorBody, RemoveBgErrors, StructuredError, StructuredErrorDetail};
use super::request_id::RequestId;
use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Which vendor's error shape a route answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `{"error":"validation","details":{...}}`, `{"error":"not_found"}`, ...
    ImageJobs,
    /// `{"error":{"code","message","request_id"}}` (video and assets).
    Structured,
    /// remove.bg's `{"errors":[{"title","code","detail"}]}`, with its statuses: 403 for a
    /// missing or bad key, 400 for any bad request (too large included).
    RemoveBg,
}

impl ApiError {
    /// The image family's body; `request_id` is shown only for the opaque 500.
    pub(crate) fn image_body(&self, request_id: Option<&str>) -> ImageErrorBody {
        let (error, message, details) = match self {
            Self::Validation(details) => ("validation", None, Some(details.clone())),
            Self::InsufficientCredits => ("insufficient_credits", None, None),
            Self::NotFound => ("not_found", None, None),
            Self::Unauthorized(_) => ("unauthorized", Some(self.message()), None),
            Self::BadRequest(_) => ("bad_request", Some(self.message()), None),
            Self::Internal => ("internal_error", Some("internal error".into()), None),
            other => (other.code().as_str(), Some(other.message()), None),
        };
        let request_id = match self {
            Self::Internal => request_id.map(str::to_owned),
            _ => None,
        };
        ImageErrorBody {
            error,
            message,
            details,
            request_id,
        }
    }

    /// The assets and video families' body.
    pub(crate) fn structured_body(&self, request_id: Option<&str>) -> StructuredError {
        StructuredError {
            error: StructuredErrorDetail {
                code: self.code(),
                message: self.message(),
                request_id: request_id.map(str::to_owned),
            },
        }
    }

    /// remove.bg's body and status for this error.
    pub(crate) fn removebg(&self, request_id: Option<&str>) -> (StatusCode, RemoveBgErrors) {
        let (status, title, code) = match self {
            Self::Unauthorized(_) => (StatusCode::FORBIDDEN, "Auth failed", "auth_failed"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden", "forbidden"),
            Self::BadRequest(_) | Self::Validation(_) => (
                StatusCode::BAD_REQUEST,
                "Invalid parameter",
                "invalid_parameter",
            ),
            Self::PayloadTooLarge(_) => {
                (StatusCode::BAD_REQUEST, "File too large", "file_too_large")
            }
            Self::InsufficientCredits => (
                StatusCode::PAYMENT_REQUIRED,
                "Insufficient credits",
                "insufficient_credits",
            ),
            Self::NotFound => (StatusCode::NOT_FOUND, "Not found", "not_found"),
            Self::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit exceeded",
                "rate_limit_exceeded",
            ),
            Self::Unavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
                "unavailable",
            ),
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
                "internal_error",
            ),
        };
        let detail = match self {
            Self::Internal => request_id.map(|id| format!("request id {id}")),
            other => Some(other.message()),
        };
        (status, RemoveBgErrors::one(title, code, detail))
    }

    /// The response in `dialect`'s shape, with `Retry-After` where it applies.
    pub fn into_response_for(self, dialect: Dialect, request_id: Option<&str>) -> Response {
        let (status, body) = match dialect {
            Dialect::ImageJobs => (
                self.status(),
                axum::Json(self.image_body(request_id)).into_response(),
            ),
            Dialect::Structured => (
                self.status(),
                axum::Json(self.structured_body(request_id)).into_response(),
            ),
            Dialect::RemoveBg => {
                let (status, body) = self.removebg(request_id);
                (status, axum::Json(body).into_response())
            }
        };
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
/// with the request id; the body here is the image dialect, used only without that middleware.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = self.clone().into_response_for(Dialect::ImageJobs, None);
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
    use serde_json::json;

    use super::*;

    async fn body(r: Response) -> serde_json::Value {
        let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice(&b).unwrap()
    }

    #[tokio::test]
    async fn image_dialect_matches_the_contract() {
        let r = ApiError::field("mode", "must be one of background, clipping, params")
            .into_response_for(Dialect::ImageJobs, None);
        assert_eq!(r.status(), 422);
        assert_eq!(
            body(r).await["details"]["mode"][0],
            "must be one of background, clipping, params"
        );
        let r = ApiError::InsufficientCredits.into_response_for(Dialect::ImageJobs, None);
        assert_eq!(
            (r.status().as_u16(), body(r).await),
            (402, json!({"error": "insufficient_credits"}))
        );
        let r =
            ApiError::Unauthorized("API key missing").into_response_for(Dialect::ImageJobs, None);
        assert_eq!(
            body(r).await,
            json!({"error": "unauthorized", "message": "API key missing"})
        );
    }

    #[tokio::test]
    async fn structured_dialect_carries_code_and_request_id() {
        let r = ApiError::RateLimited {
            retry_after_secs: 3,
        }
        .into_response_for(Dialect::Structured, Some("req-1"));
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
