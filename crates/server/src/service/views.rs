//! How a job looks to clients: the image API's status payload and the video API's job object.
//! Handlers and webhooks show the same view, so both live here, typed, and the API description
//! is generated from these types.

use cutout_store::{Job, JobId, JobState};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::results::result_url;
use super::video_spec::VideoJobSpec;
use crate::service::spec::Mode;
use crate::service::state::AppState;

/// The contract's status payload (`GET /api/v1/status`, and the image webhooks' `data`).
#[derive(Serialize, ToSchema)]
pub struct JobStatus {
    #[schema(value_type = String, format = Uuid)]
    pub job_id: JobId,
    #[schema(value_type = Mode)]
    pub mode: String,
    /// The detailed step: `queued`, `processing`, `fetching`, `uploading`, then `completed` or
    /// `failed`.
    #[schema(examples("queued", "processing", "completed"))]
    pub status: String,
    pub state: PollState,
    #[schema(minimum = 0, maximum = 100)]
    pub progress: u8,
    /// The result's URL; null until the job completed. Signed URLs (delivery_mode=url) are
    /// re-signed on every status call, so ask again for a fresh one.
    #[schema(required, format = Uri)]
    pub final_url: Option<String>,
    /// The result URLs (one for an image job; empty until completed).
    pub final_urls: Vec<String>,
    /// What the pipeline changed or could not honour (e.g. transparency flattened for JPEG).
    #[schema(value_type = Vec<String>)]
    pub warnings: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<JobFailure>,
}

/// `done` once the job completed or failed.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PollState {
    Pending,
    Done,
}

/// Why a job failed; present only when it did (its credits are refunded).
#[derive(Serialize, ToSchema)]
pub struct JobFailure {
    #[schema(
        required,
        examples("fetch_http_error", "fetch_timeout", "url_forbidden", "worker_lost")
    )]
    pub code: Option<String>,
    #[schema(required)]
    pub message: Option<String>,
}

impl JobStatus {
    pub fn of(state: &AppState, job: &Job) -> Self {
        let final_url = (job.state == JobState::Completed)
            .then(|| result_url(state, job))
            .flatten();
        let warnings = job
            .result
            .as_ref()
            .and_then(|r| r.get("warnings").cloned())
            .unwrap_or_else(|| Value::Array(Vec::new()));
        Self {
            job_id: job.id,
            mode: job.mode.clone(),
            status: job.status.as_str().to_owned(),
            state: if job.state.is_final() {
                PollState::Done
            } else {
                PollState::Pending
            },
            progress: job.progress,
            final_urls: final_url.iter().cloned().collect(),
            final_url,
            warnings,
            error: (job.state == JobState::Failed).then(|| JobFailure {
                code: job.error_code.clone(),
                message: job.error_message.clone(),
            }),
        }
    }
}

/// The vendor's status word for a video job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VideoStatus {
    /// A draft (`auto_start: false`): nothing reserved or run until it is started.
    Created,
    Pending,
    Processing,
    Completed,
    Failed,
    Cancelled,
}

impl VideoStatus {
    pub fn of(job: &Job) -> Self {
        match job.state {
            JobState::Draft => Self::Created,
            JobState::Queued => Self::Pending,
            JobState::Running => Self::Processing,
            JobState::Completed => Self::Completed,
            JobState::Failed if job.error_code.as_deref() == Some("cancelled") => Self::Cancelled,
            JobState::Failed => Self::Failed,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Where a video job's credits stand.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BillingStatus {
    /// A draft: nothing reserved yet.
    NotReserved,
    /// A remote video not probed yet: its cost is unknown.
    Pending,
    Reserved,
    Charged,
    Refunded,
    /// Failed before anything was reserved.
    NotCharged,
}

/// A video job as `GET /v1/jobs/{id}` and its webhooks show it.
#[derive(Serialize, ToSchema)]
pub struct VideoJob {
    #[schema(value_type = String, format = Uuid)]
    pub id: JobId,
    pub status: VideoStatus,
    #[schema(minimum = 0, maximum = 100)]
    pub progress: u8,
    /// A signed link to the output once completed.
    #[schema(required, format = Uri)]
    pub output_url: Option<String>,
    #[schema(
        required,
        examples("webm", "mov", "mp4", "gif", "webp", "png_sequence")
    )]
    pub output_format: Option<String>,
    #[schema(required, examples("original", "light", "pro", "human"))]
    pub model: Option<String>,
    #[schema(required)]
    pub error: Option<JobFailure>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The probed duration, once known.
    #[schema(required, value_type = Option<f64>)]
    pub duration_seconds: Option<Value>,
    /// Credits reserved or charged (one per started second).
    pub credits: i64,
    pub billing_status: BillingStatus,
    pub attempts: u32,
    #[schema(required)]
    pub webhook_url: Option<String>,
    /// The events a webhook receives.
    #[schema(examples(json!(["job.started", "job.completed", "job.failed"])))]
    pub webhook_events: [&'static str; 3],
}

impl VideoJob {
    pub fn of(state: &AppState, job: &Job) -> Self {
        let spec: Option<VideoJobSpec> = serde_json::from_value(job.spec.clone()).ok();
        let output_url = (job.state == JobState::Completed)
            .then(|| result_url(state, job))
            .flatten();
        // A remote video's cost is known (and reserved) once the worker has probed it.
        let billing_status = match job.state {
            JobState::Draft => BillingStatus::NotReserved,
            JobState::Completed => BillingStatus::Charged,
            JobState::Failed if job.cost > 0 => BillingStatus::Refunded,
            JobState::Failed => BillingStatus::NotCharged,
            _ if job.cost > 0 => BillingStatus::Reserved,
            _ => BillingStatus::Pending,
        };
        Self {
            id: job.id,
            status: VideoStatus::of(job),
            progress: job.progress,
            output_url,
            output_format: spec.as_ref().map(|s| s.output_format.as_str().to_owned()),
            model: spec.as_ref().map(|s| s.model.clone()),
            error: job.error_code.as_ref().map(|c| JobFailure {
                code: Some(c.clone()),
                message: job.error_message.clone(),
            }),
            created_at: crate::time::rfc3339(job.created_at),
            duration_seconds: job
                .result
                .as_ref()
                .and_then(|r| r.get("duration_seconds"))
                .cloned(),
            credits: job.cost,
            billing_status,
            attempts: job.attempts,
            webhook_url: spec.and_then(|s| s.webhook_url),
            webhook_events: ["job.started", "job.completed", "job.failed"],
        }
    }
}
