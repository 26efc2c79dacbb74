//! Video jobs: created on an upload or a remote URL and charged per second of video by model,
//! listed, started (drafts), cancelled, and their outputs downloaded through signed links.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cutout_store::{
    BlobKey, Cancelled, CreateOutcome, IdemRecord, Job, JobId, JobKind, JobState, NewJob, Scope,
    Started,
};
use cutout_video::VideoInfo;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::error::OrInternal;
use crate::http::auth::Caller;
use crate::http::idempotency::{replay, request_hash};
use crate::http::{Idempotency, JsonBody, RequestId};
use crate::service::payload::JobPayload;
use crate::service::results::result_url;
use crate::service::state::AppState;
use crate::service::video_spec::{self, Source, VideoJobSpec};
use crate::service::views::{video_job, video_status};

/// `POST /v1/jobs`: a job on an upload (charged now, or at `/start` for a draft) or on a remote
/// `video_url` (fetched, probed and charged by the worker).
pub async fn create_job(
    State(state): State<AppState>,
    caller: Caller,
    Idempotency(idem): Idempotency,
    request_id: RequestId,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    caller.require(Scope::VideosWrite)?;
    let hash = request_hash("POST /v1/jobs", &body, None);
    if let Some(k) = &idem {
        if let Some(replayed) = replay(&state, &caller, k, &hash).await? {
            return Ok(replayed);
        }
    }
    let draft = !video_spec::flag(&body, "auto_start", true).map_err(ApiError::BadRequest)?;
    let mut installed = state.segmenters.image_models();
    installed.extend(state.segmenters.video_models());
    let mut spec = video_spec::parse(&body, &installed).map_err(ApiError::BadRequest)?;
    if let Some(url) = &spec.webhook_url {
        crate::net::fetch::check_url(url, &state.config.fetch.allow_hosts)
            .map_err(|e| ApiError::BadRequest(format!("webhook_url: {e}")))?;
    }
    let (input_key, cost) = resolve_source(&state, &caller, &body, &mut spec).await?;
    spec.request_id = request_id.0;
    let id = JobId::new();
    let (kind, spec_json) = JobPayload::Video(spec.clone())
        .into_parts()
        .or_internal("spec encoding")?;
    let job = NewJob {
        id,
        account: caller.0.account,
        key: caller.0.id,
        kind,
        mode: spec.output_format.as_str().into(),
        spec: spec_json,
        input_key,
        max_attempts: state.config.jobs.max_attempts,
        cost,
        max_pending: state.config.limits.max_pending_jobs,
        draft,
    };
    let answer = if draft {
        let message = format!("the job is a draft; POST /v1/jobs/{id}/start starts it");
        json!({"success": true, "id": id, "status": "created", "message": message})
    } else {
        json!({"success": true, "id": id, "status": "pending", "message": "the job is queued"})
    };
    let record = idem.map(|k| IdemRecord {
        key: caller.0.id,
        idem_key: k,
        request_hash: hash,
        status: 200,
        body: answer.to_string(),
    });
    match state
        .repo
        .create_job(job, record)
        .await
        .or_internal("creating a job failed")?
    {
        CreateOutcome::Created(_) => {
            tracing::info!(job_id = %id, draft, "video job created");
            state.wake.notify_waiters();
            Ok(Json(answer).into_response())
        }
        CreateOutcome::Replay(rec) => Ok(crate::http::idempotency::response_of(&rec)),
        CreateOutcome::IdemConflict => Err(crate::http::idempotency::conflict()),
        CreateOutcome::InsufficientCredits { .. } => Err(ApiError::InsufficientCredits),
        CreateOutcome::QueueFull => Err(queue_full()),
    }
}

/// The job's input: an upload of the caller's (its blob, and the cost of its probed duration), or
/// a remote URL checked now and fetched, probed and charged by the worker (cost 0 until then).
async fn resolve_source(
    state: &AppState,
    caller: &Caller,
    body: &Map<String, Value>,
    spec: &mut VideoJobSpec,
) -> Result<(Option<BlobKey>, i64), ApiError> {
    let source = video_spec::source(body, &state.public_url).map_err(ApiError::BadRequest)?;
    Ok(match source {
        Source::Upload(video_id) => {
            let upload = state
                .repo
                .get_upload(caller.0.account, video_id)
                .await
                .or_internal("upload lookup failed")?
                .ok_or(ApiError::NotFound)?;
            let info: VideoInfo = serde_json::from_value(upload.info.clone())
                .or_internal("stored probe unreadable")?;
            spec.video_id = Some(video_id);
            let cost = state.config.video.credits(&spec.model, info.duration_secs);
            (Some(upload.blob), cost)
        }
        Source::Remote(url) => {
            crate::net::fetch::check_url(&url, &state.config.fetch.allow_hosts)
                .map_err(|e| ApiError::BadRequest(format!("video_url: {e}")))?;
            spec.source_url = Some(url);
            // Unknown until the worker has probed the download; charged then.
            (None, 0)
        }
    })
}

fn queue_full() -> ApiError {
    ApiError::Unavailable {
        reason: "the job queue is full, retry later",
        retry_after_secs: 10,
    }
}

async fn owned(state: &AppState, caller: &Caller, id: &str) -> Result<Job, ApiError> {
    let id: JobId = id.trim().parse().map_err(|_| ApiError::NotFound)?;
    state
        .repo
        .get_job(id)
        .await
        .or_internal("job lookup failed")?
        .filter(|j| j.account == caller.0.account && j.kind == JobKind::Video)
        .ok_or(ApiError::NotFound)
}

/// The caller's video job, for a key that may read jobs.
async fn readable(state: &AppState, caller: &Caller, id: &str) -> Result<Job, ApiError> {
    caller.require_video_read()?;
    owned(state, caller, id).await
}

/// `GET /v1/jobs/{id}`.
pub async fn get_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = readable(&state, &caller, &id).await?;
    Ok(Json(video_job(&state, &job)))
}

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<u32>,
    offset: Option<u32>,
    status: Option<String>,
}

/// `GET /v1/jobs?limit&offset&status`.
pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require_video_read()?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::BadRequest("limit must be 1-100".into()));
    }
    let st = match q.status.as_deref() {
        None | Some("") => None,
        Some("created") => Some(JobState::Draft),
        Some("pending") => Some(JobState::Queued),
        Some("processing") => Some(JobState::Running),
        Some("completed") => Some(JobState::Completed),
        Some("failed") => Some(JobState::Failed),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "status must be one of created, pending, processing, completed, failed".into(),
            ))
        }
    };
    let offset = q.offset.unwrap_or(0);
    let jobs = state
        .repo
        .list_jobs(caller.0.account, JobKind::Video, st, limit, offset)
        .await
        .or_internal("listing jobs failed")?;
    let data: Vec<Value> = jobs.iter().map(|j| video_job(&state, j)).collect();
    Ok(Json(
        json!({"success": true, "jobs": data, "limit": limit, "offset": offset}),
    ))
}

/// `POST /v1/jobs/{id}/start`: charges a draft and queues it. Starting a job that is already
/// queued or running answers its state (a retried start is harmless); a finished one is a 400.
pub async fn start_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::VideosWrite)?;
    let job = owned(&state, &caller, &id).await?;
    let actor = format!("key:{}", caller.0.id);
    let max_pending = state.config.limits.max_pending_jobs;
    let started = state
        .repo
        .start_job(caller.0.account, job.id, &actor, max_pending)
        .await
        .or_internal("starting a job failed")?
        .ok_or(ApiError::NotFound)?;
    let (id, status) = (job.id, video_status(&job));
    match started {
        Started::Now(job) => {
            tracing::info!(job_id = %id, "draft started");
            state.wake.notify_waiters();
            let status = video_status(&job);
            Ok(Json(
                json!({"success": true, "id": id, "status": status, "message": "the job is queued"}),
            ))
        }
        Started::NotDraft(st) if !st.is_final() => Ok(Json(json!({
            "success": true, "id": id, "status": status, "message": "the job was already started"
        }))),
        Started::NotDraft(_) => Err(ApiError::BadRequest(format!("the job is already {status}"))),
        Started::InsufficientCredits { .. } => Err(ApiError::InsufficientCredits),
        Started::QueueFull => Err(queue_full()),
    }
}

/// `POST /v1/jobs/{id}/cancel`: the job fails as `cancelled` and is refunded; a worker running it
/// loses its claim, stops its ffmpeg processes and moves on.
pub async fn cancel_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::VideosWrite)?;
    let job = owned(&state, &caller, &id).await?;
    let actor = format!("key:{}", caller.0.id);
    match state
        .repo
        .cancel_job(caller.0.account, job.id, &actor)
        .await
        .or_internal("cancel failed")?
    {
        Some(Cancelled::Now) => Ok(Json(
            json!({"success": true, "id": job.id, "status": "cancelled"}),
        )),
        Some(Cancelled::AlreadyFinal(_)) => Err(ApiError::BadRequest(format!(
            "the job is already {}",
            video_status(&job)
        ))),
        None => Err(ApiError::NotFound),
    }
}

/// `GET /api/download/{id}`: a signed link to the output, or 400 until the job completed.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = readable(&state, &caller, &id).await?;
    if job.state != JobState::Completed {
        return Err(ApiError::BadRequest(format!(
            "the job is {}, not completed",
            video_status(&job)
        )));
    }
    let url = result_url(&state, &job).ok_or(ApiError::Internal)?;
    let format = job.mode.clone();
    Ok(Json(
        json!({"success": true, "download_url": url, "output_format": format}),
    ))
}
