//! API errors: one enum with stable codes and statuses, shared by every layer that can refuse a
//! request. How each API family renders one (its vendor's JSON shape) is `http::render`'s job.

use std::collections::BTreeMap;

use axum::http::StatusCode;

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

    pub(crate) fn message(&self) -> String {
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
}
