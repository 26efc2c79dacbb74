//! Job status, job detail, result delivery (signed URLs and published files) and the account.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cutout_store::{now_ms, BlobKey, Job, JobId, JobKind};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{
    BadRequest, Forbidden, InternalError, NotFound, RateLimited, Unauthorized, ValidationError,
};
use crate::error::ApiError;
use crate::error::OrInternal;
use crate::http::auth::Caller;
use crate::http::extract::QueryParams;
use crate::service::results::ResultInfo;
use crate::service::signing::SignatureError;
use crate::service::state::AppState;
use crate::service::views::JobStatus;

use super::types::{Account, ApiKeyInfo, JobDetail, JobEventView, ResultSummary};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// The job id. Missing: 422 (`details.job_id`); unknown or malformed: 404.
    #[param(required, value_type = String, format = Uuid)]
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

/// Get a job's status
///
/// The contract's polling payload. `state` is `pending` until the job is `completed` or
/// `failed`; then `done`. Poll from 2 s, backing off to 5-10 s. Needs `images:read`.
#[utoipa::path(get, path = "/api/v1/status", tag = "Image jobs", operation_id = "getStatus",
    params(StatusQuery),
    responses(
        (status = 200, description = "The job's status.", body = JobStatus),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationError),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    ))]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<StatusQuery>,
) -> Result<Json<JobStatus>, ApiError> {
    let id = q
        .job_id
        .ok_or_else(|| ApiError::field("job_id", "job_id is required"))?;
    let job = owned_job(&state, &caller, &id).await?;
    Ok(Json(JobStatus::of(&state, &job)))
}

/// Get a job's detail
///
/// The status plus the validated request, timestamps and the audit trail of state transitions.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "Image jobs", operation_id = "getJob",
    params(("id" = String, Path, format = Uuid, description = "The job id returned by `POST /api/v1/upload`.")),
    responses(
        (status = 200, description = "The job.", body = JobDetail),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    ))]
pub async fn job_detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<JobDetail>, ApiError> {
    let job = owned_job(&state, &caller, &id).await?;
    let events = state
        .repo
        .events(job.id)
        .await
        .or_internal("job events lookup failed")?;
    Ok(Json(JobDetail {
        status: JobStatus::of(&state, &job),
        options: job.spec.clone(),
        attempts: job.attempts,
        credits: job.cost,
        created_at: crate::time::rfc3339(job.created_at),
        updated_at: crate::time::rfc3339(job.updated_at),
        finished_at: job.finished_at.map(crate::time::rfc3339),
        result: job.result.as_ref().map(ResultSummary::of),
        events: events.iter().map(JobEventView::from).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedQuery {
    /// Unix seconds after which the link is refused.
    #[param(required, value_type = i64)]
    expires: Option<String>,
    /// HMAC-SHA256 over the job id and `expires`, hex.
    #[param(required, value_type = String)]
    signature: Option<String>,
}

/// Download a result (signed link)
///
/// The `final_url` of a `delivery_mode=url` job. The signature is the credential: no API key.
#[utoipa::path(get, path = "/api/v1/results/{id}", tag = "Results", operation_id = "getSignedResult",
    security(()),
    params(("id" = String, Path, format = Uuid, description = "The job id."), SignedQuery),
    responses(
        (status = 200, description = "The result, in the job's output format.",
            content(
                (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/webp"),
                (Vec<u8> = "image/tiff"), (Vec<u8> = "image/vnd.adobe.photoshop"),
            )),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    ))]
pub async fn signed_result(
    State(state): State<AppState>,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<SignedQuery>,
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

/// Download a published result
///
/// The `final_url` of a `delivery_mode=final_url` job: public by design, cached for a year.
#[utoipa::path(get, path = "/files/{key}", tag = "Results", operation_id = "getPublicFile",
    security(()),
    params(("key" = String, Path, description = "The published key, `public/...`.")),
    responses(
        (status = 200, description = "The result, in the job's output format.",
            content(
                (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/webp"),
                (Vec<u8> = "image/tiff"), (Vec<u8> = "image/vnd.adobe.photoshop"),
            )),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    ))]
pub async fn public_file(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    if !key.starts_with("public/") {
        return Err(ApiError::NotFound);
    }
    let mime = mime_for(&key);
    let key = BlobKey::parse(&key).map_err(|_| ApiError::NotFound)?;
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
    key: &BlobKey,
    mime: &str,
    cache: &'static str,
) -> Result<Response, ApiError> {
    let bytes = state
        .blobs
        .get(key)
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

/// Get the account
///
/// Balance and usage of the caller's account, and the key used.
#[utoipa::path(get, path = "/api/v1/account", tag = "Account", operation_id = "getAccount",
    responses(
        (status = 200, description = "The account.", body = Account),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    ))]
pub async fn account(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Account>, ApiError> {
    let fail = |e: cutout_store::StoreError| ApiError::internal("account lookup failed", &e);
    let acc = state
        .repo
        .get_account(caller.0.account)
        .await
        .map_err(fail)?
        .ok_or(ApiError::NotFound)?;
    let usage = state.repo.usage(acc.id).await.map_err(fail)?;
    Ok(Json(Account {
        account_id: acc.id,
        name: acc.name,
        balance: acc.balance,
        credits: acc.balance,
        usage,
        key: ApiKeyInfo {
            id: caller.0.id,
            name: caller.0.name.clone(),
            prefix: caller.0.prefix.clone(),
            scopes: caller.0.scopes.clone(),
        },
        credits_per_image: state.config.jobs.credits_per_image,
    }))
}
