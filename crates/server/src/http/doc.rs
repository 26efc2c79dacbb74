//! The OpenAPI side of what this layer renders: each dialect's error body, the image family's
//! shared error responses (with examples rendered by the same code that answers), the
//! `Idempotency-Key` parameter, and the headers every response carries. Families reference these
//! from their `#[utoipa::path]` attributes; `api::openapi` adds the headers.

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, Header, Ref, RefOr, Required, Response};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::extract::Idempotency;
use crate::error::{ApiError, ErrorCode, FieldErrors};

/// The image jobs family's error body: `{"error": "<code>"}` with a `message`, or the
/// `details` of a 422 naming every bad field.
#[derive(Serialize, ToSchema)]
#[schema(as = ImageError)]
pub struct ImageErrorBody {
    /// `unauthorized`, `validation`, `bad_request`, `insufficient_credits`, `forbidden`,
    /// `not_found`, `payload_too_large`, `rate_limited`, `unavailable` or `internal_error`.
    pub error: &'static str,
    /// What was wrong, for people; absent from `validation`, `insufficient_credits` and
    /// `not_found`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// For `validation`: field name → messages; every bad field is named.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, Vec<String>>>)]
    pub details: Option<FieldErrors>,
    /// For `internal_error`: the request id the cause was logged under; quote it to support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The error shape of the assets and video families.
#[derive(Serialize, ToSchema)]
pub struct StructuredError {
    pub error: StructuredErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct StructuredErrorDetail {
    #[schema(inline)]
    pub code: ErrorCode,
    pub message: String,
    /// The request's id (`X-Request-Id`): quote it to support.
    pub request_id: Option<String>,
}

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

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A refusal's code: one of [`ErrorCode::REFUSALS`].
impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ErrorCode::REFUSALS.iter().map(|c| c.as_str())))
            .into()
    }
}

impl ToSchema for ErrorCode {}

/// The `Idempotency-Key` header parameter, documented by the extractor that reads it.
impl IntoParams for Idempotency {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "1-255 visible ASCII characters. A retry with the same key and the same request \
                 returns the first response (with `Idempotent-Replayed: true`) and creates or \
                 charges nothing again; the same key with a different request is refused with \
                 422 (`details.idempotency_key`). Keys are per API key.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[!-~]+$")),
            ))
            .build()]
    }
}

/// An integer response header.
pub fn int_header(description: &str, minimum: Option<f64>) -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(minimum),
        )
        .description(Some(description))
        .build()
}

/// A string response header.
pub fn text_header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .build()
}

/// `Retry-After`, on 429 and 503.
pub fn retry_after() -> Header {
    int_header("Seconds to wait before retrying.", Some(1.0))
}

/// A shared image-family error response: the body schema and an example rendered from `sample`
/// by the renderer itself.
fn image_error(description: &str, sample: ApiError) -> RefOr<Response> {
    let retry = matches!(
        sample,
        ApiError::RateLimited { .. } | ApiError::Unavailable { .. }
    );
    let body: Value =
        serde_json::to_value(sample.image_body(Some("6f1c0d1e-example"))).unwrap_or(Value::Null);
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ImageError")))
        .example(Some(body))
        .build();
    let mut r = ResponseBuilder::new()
        .description(description)
        .content("application/json", content);
    if retry {
        r = r.header("Retry-After", retry_after());
    }
    r.build().into()
}

/// The image family's reusable error responses, referenced as `response = http::doc::NotFound`.
macro_rules! image_error_responses {
    ($($name:ident: $sample:expr, $description:literal;)*) => {
        $(
            #[doc = $description]
            pub struct $name;

            impl<'s> utoipa::ToResponse<'s> for $name {
                fn response() -> (&'s str, RefOr<Response>) {
                    (stringify!($name), image_error($description, $sample))
                }
            }
        )*
    };
}

image_error_responses! {
    BadRequest: ApiError::BadRequest("the body must be a JSON object".into()),
        "The body cannot be parsed (bad JSON, not an object, wrong content type, bad multipart, \
         bad Idempotency-Key header).";
    Unauthorized: ApiError::Unauthorized("API key missing"),
        "The API key is missing or invalid (`API key missing`, `API key invalid`).";
    InsufficientCredits: ApiError::InsufficientCredits,
        "The account has not enough credits for the job.";
    Forbidden: ApiError::Forbidden("this API key lacks the images:write scope".into()),
        "The API key lacks the scope this operation needs.";
    NotFound: ApiError::NotFound,
        "No such resource (another account's resources are indistinguishable from missing ones).";
    PayloadTooLarge: ApiError::PayloadTooLarge("the file is over the 26214400-byte limit".into()),
        "The file or body is over the configured limit.";
    ValidationError: ApiError::Validation(FieldErrors::from([
            ("file".to_owned(), vec!["file or file_url is required".to_owned()]),
            ("mode".to_owned(), vec!["must be one of background, clipping, params".to_owned()]),
        ])),
        "The request is understood but fails validation; every bad field is named.";
    RateLimited: ApiError::RateLimited { retry_after_secs: 2 },
        "Too many requests for this API key; retry after `Retry-After` seconds.";
    InternalError: ApiError::Internal,
        "An unexpected failure; the body is opaque and the cause is logged under the request id.";
    Unavailable: ApiError::Unavailable {
            reason: "the job queue is full, retry later",
            retry_after_secs: 5,
        },
        "A temporary failure (e.g. the job queue is full); retry after `Retry-After` seconds.";
}
