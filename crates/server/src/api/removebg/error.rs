//! The remove.bg family's error dialect: `{"errors":[{"title","code","detail"}]}`, with
//! remove.bg's statuses (403 for a missing or bad key, 400 for any bad request, too large
//! included).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::http::doc::schema_response;
use crate::http::ErrorDialect;

/// remove.bg's error shape: `{"errors":[{"title","code","detail"}]}`.
#[derive(Serialize, ToSchema)]
pub struct RemoveBgErrors {
    pub errors: Vec<RemoveBgError>,
}

#[derive(Serialize, ToSchema)]
pub struct RemoveBgError {
    /// A short sentence for people.
    #[schema(examples("Invalid parameter"))]
    pub title: String,
    /// A stable machine code, e.g. `missing_source`, `invalid_parameter`, `auth_failed`,
    /// `insufficient_credits`, `rate_limit_exceeded`, `image_too_large`, `corrupt_image`.
    #[schema(examples("invalid_parameter"))]
    pub code: String,
    /// What exactly was wrong (absent for 5xx: the cause is logged under the request id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl RemoveBgErrors {
    pub fn one(title: &str, code: &str, detail: Option<String>) -> Self {
        Self {
            errors: vec![RemoveBgError {
                title: title.into(),
                code: code.into(),
                detail,
            }],
        }
    }
}

/// The remove.bg family's dialect.
#[derive(Clone, Copy, Debug)]
pub struct RemoveBg;

impl ErrorDialect for RemoveBg {
    fn render(&self, err: &ApiError, request_id: Option<&str>) -> (StatusCode, Response) {
        let (status, body) = removebg_body(err, request_id);
        (status, axum::Json(body).into_response())
    }

    fn doc_response(&self, _name: &str, description: &str) -> RefOr<utoipa::openapi::Response> {
        schema_response(description, "RemoveBgErrors")
    }
}

/// remove.bg's body and status for this error.
fn removebg_body(err: &ApiError, request_id: Option<&str>) -> (StatusCode, RemoveBgErrors) {
    let (status, title, code) = match err {
        ApiError::Unauthorized(_) => (StatusCode::FORBIDDEN, "Auth failed", "auth_failed"),
        ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden", "forbidden"),
        ApiError::BadRequest(_) | ApiError::Validation(_) => (
            StatusCode::BAD_REQUEST,
            "Invalid parameter",
            "invalid_parameter",
        ),
        ApiError::PayloadTooLarge(_) => {
            (StatusCode::BAD_REQUEST, "File too large", "file_too_large")
        }
        ApiError::InsufficientCredits => (
            StatusCode::PAYMENT_REQUIRED,
            "Insufficient credits",
            "insufficient_credits",
        ),
        ApiError::NotFound => (StatusCode::NOT_FOUND, "Not found", "not_found"),
        ApiError::RateLimited { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit exceeded",
            "rate_limit_exceeded",
        ),
        ApiError::Unavailable { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
            "unavailable",
        ),
        ApiError::Internal => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "internal_error",
        ),
    };
    let detail = match err {
        ApiError::Internal => request_id.map(|id| format!("request id {id}")),
        other => Some(other.message()),
    };
    (status, RemoveBgErrors::one(title, code, detail))
}
