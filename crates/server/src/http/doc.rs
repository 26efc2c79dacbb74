//! The OpenAPI side of what this layer renders: the structured error body two families share,
//! the `Idempotency-Key` parameter, and the headers every response carries. Families reference
//! these from their `#[utoipa::path]` attributes (each family documents its own error shape);
//! `api::openapi` adds the headers.

use serde::Serialize;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, Header, Ref, RefOr, Required, Response};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::extract::Idempotency;
use crate::error::ErrorCode;

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

/// A response documented by its JSON body's schema.
pub fn schema_response(description: &str, schema: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build(),
        )
        .build()
        .into()
}
