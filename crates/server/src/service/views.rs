//! How a job looks to clients: the image API's status payload and the video API's job object.
//! Handlers and webhooks show the same view, so both live here.

use cutout_store::{Job, JobState};
use serde_json::{json, Value};

use super::results::result_url;
use super::video_spec::VideoJobSpec;
use crate::service::state::AppState;

/// The contract's status payload.
pub fn image_status(state: &AppState, job: &Job) -> Value {
    let final_url = (job.state == JobState::Completed)
        .then(|| result_url(state, job))
        .flatten();
    let warnings = job
        .result
        .as_ref()
        .and_then(|r| r.get("warnings").cloned())
        .unwrap_or_else(|| json!([]));
    let mut body = json!({
        "job_id": job.id,
        "mode": job.mode,
        "status": job.status,
        "state": if job.state.is_final() { "done" } else { "pending" },
        "progress": job.progress,
        "final_url": final_url,
        "final_urls": final_url.iter().collect::<Vec<_>>(),
        "warnings": warnings,
    });
    if job.state == JobState::Failed {
        body["error"] = json!({
            "code": job.error_code,
            "message": job.error_message,
        });
    }
    body
}

/// The vendor's status word for a video job.
pub fn video_status(job: &Job) -> &'static str {
    match job.state {
        JobState::Draft => "created",
        JobState::Queued => "pending",
        JobState::Running => "processing",
        JobState::Completed => "completed",
        JobState::Failed if job.error_code.as_deref() == Some("cancelled") => "cancelled",
        JobState::Failed => "failed",
    }
}

/// A video job as `GET /v1/jobs/{id}` and its webhooks show it.
pub fn video_job(state: &AppState, job: &Job) -> Value {
    let spec: Option<VideoJobSpec> = serde_json::from_value(job.spec.clone()).ok();
    let output_url = (job.state == JobState::Completed)
        .then(|| result_url(state, job))
        .flatten();
    let error = job
        .error_code
        .as_ref()
        .map(|c| json!({"code": c, "message": job.error_message}));
    // A remote video's cost is known (and reserved) once the worker has probed it.
    let billing = match job.state {
        JobState::Draft => "not_reserved",
        JobState::Completed => "charged",
        JobState::Failed if job.cost > 0 => "refunded",
        JobState::Failed => "not_charged",
        _ if job.cost > 0 => "reserved",
        _ => "pending",
    };
    json!({
        "id": job.id,
        "status": video_status(job),
        "progress": job.progress,
        "output_url": output_url,
        "output_format": spec.as_ref().map(|s| s.output_format.as_str()),
        "model": spec.as_ref().map(|s| s.model.as_str()),
        "error": error,
        "created_at": crate::time::rfc3339(job.created_at),
        "duration_seconds": job.result.as_ref().and_then(|r| r.get("duration_seconds")).cloned(),
        "credits": job.cost,
        "billing_status": billing,
        "attempts": job.attempts,
        "webhook_url": spec.as_ref().and_then(|s| s.webhook_url.clone()),
        "webhook_events": ["job.started", "job.completed", "job.failed"],
    })
}
