//! Video jobs: created on an upload or a remote URL and charged per second of video by model,
//! listed, started (drafts), cancelled, and their outputs downloaded through signed links.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cutout_store::{
    BlobKey, Cancelled, CreateOutcome, IdemRecord, Job, JobId, JobKind, JobState, Scope, Started,
};
use cutout_video::VideoInfo;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::error::OrInternal;
use crate::http::auth::Caller;
use crate::http::doc::StructuredError;
use crate::http::extract::QueryParams;
use crate::http::idempotency::{replay, request_hash};
use crate::http::{Idempotency, JsonBody, RequestId};
use crate::service::jobs::{self, NewWork, QueueBound};
use crate::service::payload::JobPayload;
use crate::service::results::result_url;
use crate::service::state::AppState;
use crate::service::video_spec::{self, Source, VideoJobSpec};
use crate::service::views::{VideoJob, VideoStatus};

use super::types::{Download, JobAnswer, JobList, ListQuery, VideoJobCreate};

/// Create a video job (started at once, or a draft with `auto_start: false`)
///
/// On an upload (charged now for its duration and model, or at `/start` for a draft) or on a
/// remote `video_url` (fetched, probed and charged by the worker).
#[utoipa::path(post, path = "/v1/jobs", tag = "Video", operation_id = "createVideoJob",
    params(Idempotency),
    request_body = VideoJobCreate,
    responses(
        (status = 200, description = "Created: `pending`, or `created` for a draft.", body = JobAnswer),
        (status = 400, description = "Invalid request (the message names the field or rule).", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
        (status = 402, description = "Not enough credits.", body = StructuredError),
        (status = 404, description = "No such upload for this account.", body = StructuredError),
        (status = 503, description = "The job queue is full; retry after `Retry-After`.", body = StructuredError),
    ))]
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
    let source = video_spec::source(&body, &state.public_url).map_err(ApiError::BadRequest)?;
    let mut spec = video_spec::parse(&body, &installed, source).map_err(ApiError::BadRequest)?;
    if let Some(url) = &spec.webhook_url {
        crate::net::fetch::check_url(url, &state.config.fetch.allow_hosts)
            .map_err(|e| ApiError::BadRequest(format!("webhook_url: {e}")))?;
    }
    let (input_key, cost) = resolve_source(&state, &caller, &spec).await?;
    spec.request_id = request_id.0;
    let id = JobId::new();
    let work = NewWork {
        id,
        payload: JobPayload::Video(spec),
        input_key,
        cost,
        queue: QueueBound::Configured,
        draft,
        staged: None,
    };
    let answer = if draft {
        let message = format!("the job is a draft; POST /v1/jobs/{id}/start starts it");
        JobAnswer::new(id, VideoStatus::Created, Some(&message))
    } else {
        JobAnswer::new(id, VideoStatus::Pending, Some("the job is queued"))
    };
    let answer = serde_json::to_value(answer).or_internal("answer encoding")?;
    let record = idem.map(|k| IdemRecord {
        key: caller.0.id,
        idem_key: k,
        request_hash: hash,
        status: 200,
        body: answer.to_string(),
    });
    match jobs::enqueue(&state, &caller.0, work, record)
        .await
        .or_internal("creating a job failed")?
    {
        CreateOutcome::Created(_) => Ok(Json(answer).into_response()),
        CreateOutcome::Replay(rec) => Ok(crate::http::idempotency::response_of(&rec, true)),
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
    spec: &VideoJobSpec,
) -> Result<(Option<BlobKey>, i64), ApiError> {
    Ok(match &spec.source {
        &Source::Upload(video_id) => {
            let upload = state
                .repo
                .get_upload(caller.0.account, video_id)
                .await
                .or_internal("upload lookup failed")?
                .ok_or(ApiError::NotFound)?;
            let info: VideoInfo = serde_json::from_value(upload.info.clone())
                .or_internal("stored probe unreadable")?;
            let cost = state.config.video.credits(&spec.model, info.duration_secs);
            (Some(upload.blob), cost)
        }
        Source::Remote(url) => {
            crate::net::fetch::check_url(url, &state.config.fetch.allow_hosts)
                .map_err(|e| ApiError::BadRequest(format!("video_url: {e}")))?;
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

/// A video job with live progress
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "Video", operation_id = "getVideoJob",
    params(("id" = String, Path, format = Uuid, description = "The job's id.")),
    responses(
        (status = 200, description = "The job.", body = VideoJob),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),        (status = 404, description = "No such job for this account.", body = StructuredError),
    ))]
pub async fn get_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<VideoJob>, ApiError> {
    let job = readable(&state, &caller, &id).await?;
    Ok(Json(VideoJob::of(&state, &job)))
}

/// List video jobs, newest first
#[utoipa::path(get, path = "/v1/jobs", tag = "Video", operation_id = "listVideoJobs",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of jobs.", body = JobList),
        (status = 400, description = "`limit` or `status` out of range.", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
    ))]
pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<JobList>, ApiError> {
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
    Ok(Json(JobList {
        success: true,
        jobs: jobs.iter().map(|j| VideoJob::of(&state, j)).collect(),
        limit,
        offset,
    }))
}

/// Start a draft: reserves its credits and queues it
///
/// Starting a job that is already queued or running answers its state (a retried start is
/// harmless); a finished one is a 400.
#[utoipa::path(post, path = "/v1/jobs/{id}/start", tag = "Video", operation_id = "startVideoJob",
    params(("id" = String, Path, format = Uuid, description = "The job's id.")),
    responses(
        (status = 200, description = "Queued (or already started).", body = JobAnswer),
        (status = 400, description = "The job has already finished.", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
        (status = 402, description = "Not enough credits.", body = StructuredError),
        (status = 404, description = "No such job for this account.", body = StructuredError),
        (status = 503, description = "The job queue is full; retry after `Retry-After`.", body = StructuredError),
    ))]
pub async fn start_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<JobAnswer>, ApiError> {
    caller.require(Scope::VideosWrite)?;
    let job = owned(&state, &caller, &id).await?;
    let actor = format!("key:{}", caller.0.id);
    let started = jobs::start(&state, caller.0.account, job.id, &actor)
        .await
        .or_internal("starting a job failed")?
        .ok_or(ApiError::NotFound)?;
    let (id, status) = (job.id, VideoStatus::of(&job));
    match started {
        Started::Now(job) => {
            let status = VideoStatus::of(&job);
            Ok(Json(JobAnswer::new(id, status, Some("the job is queued"))))
        }
        Started::NotDraft(st) if !st.is_final() => Ok(Json(JobAnswer::new(
            id,
            status,
            Some("the job was already started"),
        ))),
        Started::NotDraft(_) => Err(ApiError::BadRequest(format!(
            "the job is already {}",
            status.as_str()
        ))),
        Started::InsufficientCredits { .. } => Err(ApiError::InsufficientCredits),
        Started::QueueFull => Err(queue_full()),
    }
}

/// Cancel a queued or running job (refunded; ffmpeg stopped)
///
/// The job fails as `cancelled` and is refunded; a worker running it loses its claim, stops its
/// ffmpeg processes and moves on.
#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", tag = "Video", operation_id = "cancelVideoJob",
    params(("id" = String, Path, format = Uuid, description = "The job's id.")),
    responses(
        (status = 200, description = "Cancelled.", body = JobAnswer),
        (status = 400, description = "The job has already finished.", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),        (status = 404, description = "No such job for this account.", body = StructuredError),
    ))]
pub async fn cancel_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<JobAnswer>, ApiError> {
    caller.require(Scope::VideosWrite)?;
    let job = owned(&state, &caller, &id).await?;
    let actor = format!("key:{}", caller.0.id);
    match jobs::cancel(&state, caller.0.account, job.id, &actor)
        .await
        .or_internal("cancel failed")?
    {
        Some(Cancelled::Now) => Ok(Json(JobAnswer::new(job.id, VideoStatus::Cancelled, None))),
        Some(Cancelled::AlreadyFinal(_)) => Err(ApiError::BadRequest(format!(
            "the job is already {}",
            VideoStatus::of(&job).as_str()
        ))),
        None => Err(ApiError::NotFound),
    }
}

/// A signed link to a completed job's output
///
/// 400 until the job completed.
#[utoipa::path(get, path = "/api/download/{id}", tag = "Video", operation_id = "downloadVideo",
    params(("id" = String, Path, format = Uuid, description = "The job's id.")),
    responses(
        (status = 200, description = "The link.", body = Download),
        (status = 400, description = "The job has not completed.", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),        (status = 404, description = "No such job for this account.", body = StructuredError),
    ))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Download>, ApiError> {
    let job = readable(&state, &caller, &id).await?;
    if job.state != JobState::Completed {
        return Err(ApiError::BadRequest(format!(
            "the job is {}, not completed",
            VideoStatus::of(&job).as_str()
        )));
    }
    let download_url = result_url(&state, &job).ok_or(ApiError::Internal)?;
    Ok(Json(Download {
        success: true,
        download_url,
        output_format: job.mode.clone(),
    }))
}
