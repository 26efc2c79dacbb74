//! Extractors whose rejections are [`ApiError`]s, so a malformed body or header is answered in
//! the route family's JSON shape like every other refusal (axum's own rejections are plain text).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body; anything else (wrong content type, bad syntax, wrong shape, over the size limit)
/// is a 400 (413 for size) that says what was wrong.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => {
                let status = rejection.status();
                let text = rejection.body_text();
                Err(if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(text)
                } else {
                    ApiError::BadRequest(text)
                })
            }
        }
    }
}

/// Query parameters; a value of the wrong type or an unknown choice is a 400 in the family's
/// shape that names it (axum's own rejection is plain text).
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Self(v))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

/// The `Idempotency-Key` header, if sent; 400 when it is not 1-255 visible ASCII characters.
pub struct Idempotency(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        super::idempotency::idempotency_key(&parts.headers).map(Self)
    }
}
