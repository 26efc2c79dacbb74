//! Job status, job detail, result delivery (signed URLs and published files) and the account.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cutout_store::{now_ms, BlobKey, Job, JobId, JobKind};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::error::OrInternal;
use crate::http::auth::Caller;
use crate::service::results::ResultInfo;
use crate::service::signing::SignatureError;
use crate::service::state::AppState;
use crate::service::views::image_status;

#[derive(Deserialize)]
pub struct StatusQuery {
    job_id: Option<String>,
}

/// The caller's job, or 404: another account's job is indistinguishable from a missing one.
pub async fn owned_job(state: &AppState, caller: &Caller, id: &str) -> Result<Job, ApiError> {
    caller.require_image_read()?;
    let id: JobId = id.trim().parse().map_err(|_| ApiError::NotFound)?;
    let job = state
        .repo
        .get_job(id)
        .await
        .or_internal("job lookup failed")?;
    job.filter(|j| j.account == caller.0.account && j.kind == JobKind::Image)
        .ok_or(ApiError::NotFound)
}

pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StatusQuery>,
) -> Result<Json<Value>, ApiError> {
    let id = q
        .job_id
        .ok_or_else(|| ApiError::field("job_id", "job_id is required"))?;
    let job = owned_job(&state, &caller, &id).await?;
    Ok(Json(image_status(&state, &job)))
}

/// The status plus the request, timestamps and the audit trail of state transitions.
pub async fn job_detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = owned_job(&state, &caller, &id).await?;
    let events = state
        .repo
        .events(job.id)
        .await
        .or_internal("job events lookup failed")?;
    let mut body = image_status(&state, &job);
    let extra = json!({
        "options": job.spec,
        "attempts": job.attempts,
        "credits": job.cost,
        "created_at": crate::time::rfc3339(job.created_at),
        "updated_at": crate::time::rfc3339(job.updated_at),
        "finished_at": job.finished_at.map(crate::time::rfc3339),
        "result": job.result.as_ref().map(|r| json!({
            "format": r.get("format"), "width": r.get("width"), "height": r.get("height"), "bytes": r.get("bytes"),
        })),
        "events": events.iter().map(|e| json!({
            "at": crate::time::rfc3339(e.at), "from": e.from, "to": e.to, "actor": e.actor, "cause": e.cause,
        })).collect::<Vec<_>>(),
    });
    if let (Some(b), Some(x)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(x.clone());
    }
    Ok(Json(body))
}

#[derive(Deserialize)]
pub struct SignedQuery {
    expires: Option<String>,
    signature: Option<String>,
}

/// `GET /api/v1/results/{id}?expires&signature`: the signature is the credential.
pub async fn signed_result(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<SignedQuery>,
) -> Result<Response, ApiError> {
    let id: JobId = id.parse().map_err(|_| ApiError::NotFound)?;
    let (Some(expires), Some(sig)) = (q.expires.and_then(|e| e.parse::<i64>().ok()), q.signature)
    else {
        return Err(ApiError::Forbidden(
            "this link needs expires and signature".into(),
        ));
    };
    match state.signer.verify(id, expires, &sig, now_ms() / 1000) {
        Ok(()) => {}
        Err(SignatureError::Expired) => {
            return Err(ApiError::Forbidden(
                "this link has expired; ask /api/v1/status for a fresh one".into(),
            ))
        }
        Err(SignatureError::Invalid) => {
            return Err(ApiError::Forbidden(
                "the link's signature is invalid".into(),
            ))
        }
    }
    let job = state
        .repo
        .get_job(id)
        .await
        .or_internal("job lookup failed")?
        .ok_or(ApiError::NotFound)?;
    let info: ResultInfo = job
        .result
        .and_then(|r| serde_json::from_value(r).ok())
        .ok_or(ApiError::NotFound)?;
    serve_blob(&state, &info.blob, &info.mime, "private, max-age=60").await
}

/// `GET /files/{key}`: published results (`delivery_mode=final_url`), public by design.
pub async fn public_file(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    if !key.starts_with("public/") {
        return Err(ApiError::NotFound);
    }
    let mime = mime_for(&key);
    serve_blob(&state, &key, mime, "public, max-age=31536000, immutable").await
}

fn mime_for(key: &str) -> &'static str {
    match key.rsplit('.').next().unwrap_or_default() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "tiff" => "image/tiff",
        "psd" => "image/vnd.adobe.photoshop",
        _ => "application/octet-stream",
    }
}

async fn serve_blob(
    state: &AppState,
    key: &str,
    mime: &str,
    cache: &'static str,
) -> Result<Response, ApiError> {
    let key = BlobKey::parse(key).map_err(|_| ApiError::NotFound)?;
    let bytes = state
        .blobs
        .get(&key)
        .await
        .or_internal("reading a result failed")?
        .ok_or(ApiError::NotFound)?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}

/// `GET /api/v1/account`: balance and usage of the caller's account.
pub async fn account(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let fail = |e: cutout_store::StoreError| ApiError::internal("account lookup failed", &e);
    let acc = state
        .repo
        .get_account(caller.0.account)
        .await
        .map_err(fail)?
        .ok_or(ApiError::NotFound)?;
    let usage = state.repo.usage(acc.id).await.map_err(fail)?;
    Ok(Json(json!({
        "account_id": acc.id,
        "name": acc.name,
        "balance": acc.balance,
        "credits": acc.balance,
        "usage": usage,
        "key": {"id": caller.0.id, "name": caller.0.name, "prefix": caller.0.prefix, "scopes": caller.0.scopes},
        "credits_per_image": state.config.jobs.credits_per_image,
    })))
}
