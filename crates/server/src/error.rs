//! API errors: one enum with stable codes and statuses, shared by every layer that can refuse a
//! request. How each API family renders one (its vendor's JSON shape) is `http::render`'s job.

use std::collections::BTreeMap;

use axum::http::StatusCode;

/// A stable machine-readable code, as clients, logs and metrics see it. The server's own codes
/// are the constants below, named once; codes that lower crates define in their own tables
/// (core's pipeline errors, video's ffmpeg errors, the fetcher's) come in through
/// [`ErrorCode::from_lower`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode(&'static str);

impl ErrorCode {
    // Refusals of a request (the video/assets families' `error.code`).
    pub const INVALID_API_KEY: Self = Self("invalid_api_key");
    pub const FORBIDDEN: Self = Self("forbidden");
    pub const INVALID_REQUEST: Self = Self("invalid_request");
    pub const INSUFFICIENT_CREDITS: Self = Self("insufficient_credits");
    pub const NOT_FOUND: Self = Self("not_found");
    pub const PAYLOAD_TOO_LARGE: Self = Self("payload_too_large");
    pub const RATE_LIMITED: Self = Self("rate_limited");
    pub const UNAVAILABLE: Self = Self("unavailable");
    pub const INTERNAL: Self = Self("internal_error");
    // Failed jobs (`error.code` of a failed job), besides the lower crates' codes.
    /// The stored job cannot be read (a spec or key this version does not understand).
    pub const INVALID_JOB: Self = Self("invalid_job");
    /// The blob store or database failed; retried.
    pub const STORAGE: Self = Self("storage_error");
    /// The uploaded input is gone from the blob store.
    pub const INPUT_MISSING: Self = Self("input_missing");
    /// The asset a save targets was deleted meanwhile.
    pub const ASSET_MISSING: Self = Self("asset_missing");
    /// A processing option the pipeline refused.
    pub const INVALID_OPTION: Self = Self("invalid_option");
    /// The background image could not be decoded.
    pub const INVALID_BACKGROUND: Self = Self("invalid_background");
    /// The client cancelled the job.
    pub const CANCELLED: Self = Self("cancelled");
    /// A local file operation failed; retried.
    pub const IO: Self = Self("io_error");

    /// The codes a refused request can carry (the structured dialect's `error.code`).
    pub const REFUSALS: [Self; 9] = [
        Self::INVALID_REQUEST,
        Self::INVALID_API_KEY,
        Self::FORBIDDEN,
        Self::NOT_FOUND,
        Self::INSUFFICIENT_CREDITS,
        Self::PAYLOAD_TOO_LARGE,
        Self::RATE_LIMITED,
        Self::UNAVAILABLE,
        Self::INTERNAL,
    ];

    /// A code from a lower crate's own table (`CutoutError::code`, `MediaError::code`, ...).
    pub const fn from_lower(code: &'static str) -> Self {
        Self(code)
    }

    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// `.or_internal("what failed")`: an unexpected failure becomes the opaque 500, its cause
/// logged once where it happened.
pub trait OrInternal<T> {
    fn or_internal(self, context: &str) -> Result<T, ApiError>;
}

impl<T, E: std::fmt::Display> OrInternal<T> for Result<T, E> {
    fn or_internal(self, context: &str) -> Result<T, ApiError> {
        self.map_err(|e| ApiError::internal(context, &e))
    }
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
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthorized(_) => ErrorCode::INVALID_API_KEY,
            Self::Forbidden(_) => ErrorCode::FORBIDDEN,
            Self::BadRequest(_) | Self::Validation(_) => ErrorCode::INVALID_REQUEST,
            Self::InsufficientCredits => ErrorCode::INSUFFICIENT_CREDITS,
            Self::NotFound => ErrorCode::NOT_FOUND,
            Self::PayloadTooLarge(_) => ErrorCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => ErrorCode::RATE_LIMITED,
            Self::Unavailable { .. } => ErrorCode::UNAVAILABLE,
            Self::Internal => ErrorCode::INTERNAL,
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
