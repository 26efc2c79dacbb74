//! The image jobs family's error dialect: `{"error":"validation","details":{...}}`,
//! `{"error":"not_found"}`, ..., and the shared error responses its operations reference
//! (`response = NotFound`), with examples rendered by the same code that answers.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response};
use utoipa::ToSchema;

use crate::error::{ApiError, FieldErrors};
use crate::http::doc::retry_after;
use crate::http::ErrorDialect;

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

/// The image jobs family's dialect.
#[derive(Clone, Copy, Debug)]
pub struct ImageJobs;

impl ErrorDialect for ImageJobs {
    fn render(&self, err: &ApiError, request_id: Option<&str>) -> (StatusCode, HttpResponse) {
        let body = image_body(err, request_id);
        (err.status(), axum::Json(body).into_response())
    }

    fn doc_response(&self, name: &str, _description: &str) -> RefOr<Response> {
        Ref::from_response_name(name).into()
    }
}

/// The image family's body; `request_id` is shown only for the opaque 500.
pub(crate) fn image_body(err: &ApiError, request_id: Option<&str>) -> ImageErrorBody {
    let (error, message, details) = match err {
        ApiError::Validation(details) => ("validation", None, Some(details.clone())),
        ApiError::InsufficientCredits => ("insufficient_credits", None, None),
        ApiError::NotFound => ("not_found", None, None),
        ApiError::Unauthorized(_) => ("unauthorized", Some(err.message()), None),
        ApiError::BadRequest(_) => ("bad_request", Some(err.message()), None),
        ApiError::Internal => ("internal_error", Some("internal error".into()), None),
        other => (other.code().as_str(), Some(other.message()), None),
    };
    let request_id = match err {
        ApiError::Internal => request_id.map(str::to_owned),
        _ => None,
    };
    ImageErrorBody {
        error,
        message,
        details,
        request_id,
    }
}

/// A shared image-family error response: the body schema and an example rendered from `sample`
/// by the renderer itself.
fn image_error(description: &str, sample: ApiError) -> RefOr<Response> {
    let retry = matches!(
        sample,
        ApiError::RateLimited { .. } | ApiError::Unavailable { .. }
    );
    let body: Value =
        serde_json::to_value(image_body(&sample, Some("6f1c0d1e-example"))).unwrap_or(Value::Null);
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

/// The image family's reusable error responses, referenced as `response = NotFound`.
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    async fn body(r: HttpResponse) -> serde_json::Value {
        let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice(&b).unwrap()
    }

    #[tokio::test]
    async fn image_dialect_matches_the_contract() {
        let r = ApiError::field("mode", "must be one of background, clipping, params")
            .into_response_for(&ImageJobs, None);
        assert_eq!(r.status(), 422);
        assert_eq!(
            body(r).await["details"]["mode"][0],
            "must be one of background, clipping, params"
        );
        let r = ApiError::InsufficientCredits.into_response_for(&ImageJobs, None);
        assert_eq!(
            (r.status().as_u16(), body(r).await),
            (402, json!({"error": "insufficient_credits"}))
        );
        let r = ApiError::Unauthorized("API key missing").into_response_for(&ImageJobs, None);
        assert_eq!(
            body(r).await,
            json!({"error": "unauthorized", "message": "API key missing"})
        );
    }
}
