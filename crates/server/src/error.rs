//! API errors: one enum with stable codes, and the one place that maps it to a status code and
//! the JSON shape of each API family (image jobs, video, assets keep their vendors' shapes).

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Which vendor's error shape a route answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `{"error":"validation","details":{...}}`, `{"error":"not_found"}`, ...
    ImageJobs,
    /// `{"error":{"code","message","request_id"}}` (video and assets).
    Structured,
}

/// Field name → messages, as in the image API's 422 `details`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Clone, Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("request body cannot be parsed: {0}")]
    BadRequest(String),
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("insufficient credits")]
    InsufficientCredits,
    #[error("not found")]
    NotFound,
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("temporarily unavailable: {reason}")]
    Unavailable {
        reason: &'static str,
        retry_after_secs: u64,
    },
    /// The cause is logged once where it happened; the body stays opaque.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// One field's validation error.
    pub fn field(field: &str, msg: impl Into<String>) -> Self {
        let mut m = FieldErrors::new();
        m.insert(field.to_owned(), vec![msg.into()]);
        Self::Validation(m)
    }

    /// Logs an internal failure with its cause and returns the opaque error.
    pub fn internal(context: &str, err: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %err, "{context}");
        Self::Internal
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InsufficientCredits => StatusCode::PAYMENT_REQUIRED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine code of the video/assets family.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "invalid_api_key",
            Self::Forbidden(_) => "forbidden",
            Self::BadRequest(_) | Self::Validation(_) => "invalid_request",
            Self::InsufficientCredits => "insufficient_credits",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable { .. } => "unavailable",
            Self::Internal => "internal_error",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Validation(fields) => fields
                .iter()
                .flat_map(|(f, msgs)| msgs.iter().map(move |m| format!("{f}: {m}")))
                .collect::<Vec<_>>()
                .join("; "),
            Self::Unavailable { reason, .. } => (*reason).to_owned(),
            Self::Unauthorized(m) => (*m).to_owned(),
            Self::Forbidden(m) | Self::BadRequest(m) | Self::PayloadTooLarge(m) => m.clone(),
            other => other.to_string(),
        }
    }

    fn image_body(&self) -> serde_json::Value {
        match self {
            Self::Unauthorized(m) => json!({"error": "unauthorized", "message": m}),
            Self::Validation(details) => json!({"error": "validation", "details": details}),
            Self::InsufficientCredits => json!({"error": "insufficient_credits"}),
            Self::NotFound => json!({"error": "not_found"}),
            Self::BadRequest(_) => json!({"error": "bad_request", "message": self.message()}),
            Self::Internal => json!({"error": "internal_error", "message": "internal error"}),
            other => json!({"error": other.code(), "message": other.message()}),
        }
    }

    /// The response in `dialect`'s shape, with `Retry-After` where it applies.
    pub fn into_response_for(self, dialect: Dialect, request_id: Option<&str>) -> Response {
        let body = match dialect {
            Dialect::ImageJobs => {
                let mut b = self.image_body();
                if let (Some(id), Self::Internal) = (request_id, &self) {
                    b["request_id"] = json!(id);
                }
                b
            }
            Dialect::Structured => json!({"error": {
                "code": self.code(),
                "message": self.message(),
                "request_id": request_id,
            }}),
        };
        let mut resp = (self.status(), axum::Json(body)).into_response();
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
/// route group's middleware ([`crate::app::render_errors`]) can render it in that group's dialect
/// with the request id; the body here is the image dialect, used only without that middleware.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = self.clone().into_response_for(Dialect::ImageJobs, None);
        resp.extensions_mut().insert(self);
        resp
    }
}

#[cfg(test)]
mod tests {
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
