//! `Idempotency-Key` on POSTs: a retry with the same key and the same request gets the first
//! response back and changes nothing; the same key with a different request is refused (422).

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cutout_store::IdemRecord;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::error::OrInternal;
use crate::http::auth::Caller;
use crate::service::state::AppState;

/// The header's value, if sent; 400 when it is not a sane token.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or_default().trim();
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest(
            "Idempotency-Key must be 1-255 visible ASCII characters".into(),
        ));
    }
    Ok(Some(s.to_owned()))
}

/// A hash of what the request asks for, independent of how it was encoded (JSON key order,
/// multipart boundaries): the route, the fields in sorted order and the file's digest.
pub fn request_hash(route: &str, fields: &Map<String, Value>, file_sha256: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(route.as_bytes());
    h.update(b"\n");
    // serde_json's Map is a BTreeMap: serialisation is sorted, so this is canonical.
    h.update(Value::Object(fields.clone()).to_string().as_bytes());
    h.update(b"\n");
    h.update(file_sha256.unwrap_or("-").as_bytes());
    hex::encode(h.finalize())
}

/// A stored response; `replayed` marks it `Idempotent-Replayed: true`.
pub fn response_of(rec: &IdemRecord, replayed: bool) -> Response {
    let status = StatusCode::from_u16(rec.status).unwrap_or(StatusCode::OK);
    let mut resp = (status, rec.body.clone()).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

pub fn conflict() -> ApiError {
    ApiError::field(
        "idempotency_key",
        "this Idempotency-Key was already used with a different request",
    )
}

/// The record stored for this key and the same request, `None` to go ahead, or the 422 for a
/// key reused with another request.
pub async fn stored(
    state: &AppState,
    caller: &Caller,
    key: &str,
    hash: &str,
) -> Result<Option<IdemRecord>, ApiError> {
    let rec = state
        .repo
        .get_idem(caller.0.id, key)
        .await
        .or_internal("idempotency lookup failed")?;
    match rec {
        Some(r) if r.request_hash != hash => Err(conflict()),
        found => Ok(found),
    }
}

/// The stored JSON response for this key, or `None` to go ahead.
pub async fn replay(
    state: &AppState,
    caller: &Caller,
    key: &str,
    hash: &str,
) -> Result<Option<Response>, ApiError> {
    Ok(stored(state, caller, key, hash)
        .await?
        .map(|r| response_of(&r, true)))
}

/// Stores a successful response for later replays (for POSTs that create no job).
pub async fn remember(
    state: &AppState,
    caller: &Caller,
    key: Option<String>,
    hash: String,
    status: StatusCode,
    body: &impl serde::Serialize,
) -> Result<Response, ApiError> {
    let body = serde_json::to_string(body).or_internal("encoding a response")?;
    let mut rec = IdemRecord {
        key: caller.0.id,
        idem_key: String::new(),
        request_hash: hash,
        status: status.as_u16(),
        body,
    };
    if let Some(k) = key {
        rec.idem_key = k;
        let stored = state
            .repo
            .put_idem(rec.clone())
            .await
            .or_internal("storing an idempotency record failed")?;
        // A concurrent twin got there first: answer as it did.
        if stored != rec {
            return Ok(response_of(&stored, true));
        }
    }
    Ok(response_of(&rec, false))
}
