//! Webhooks: deliveries are enqueued with the job's final state (an outbox), then sent signed as
//! NOTES.md §2 says, retried with exponential backoff.

use std::time::Duration;

use cutout_store::{now_ms, Delivery, Finish, Job, JobKind, JobPhase, JobState, NewDelivery};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::views::{JobStatus, VideoJob};
use crate::service::signing::webhook_signature;
use crate::service::state::AppState;

/// The delivery for a job about to be finished with `finish`.
pub fn delivery_for(state: &AppState, job: &Job, finish: &Finish, url: String) -> NewDelivery {
    let mut done = job.clone();
    let event = match finish {
        Finish::Completed { result } => {
            done.state = JobState::Completed;
            done.status = JobPhase::Completed;
            done.progress = 100;
            done.result = Some(result.clone());
            "job.completed"
        }
        Finish::Failed { code, message, .. } => {
            done.state = JobState::Failed;
            done.status = JobPhase::Failed;
            done.error_code = Some(code.clone());
            done.error_message = Some(message.clone());
            "job.failed"
        }
    };
    delivery(state, &done, event, url)
}

/// `job.started`, for a video job a worker has just begun.
pub fn started(state: &AppState, job: &Job, url: String) -> NewDelivery {
    delivery(state, job, "job.started", url)
}

/// The signed body carries the job as its status endpoint shows it (per API family).
fn delivery(state: &AppState, job: &Job, event: &str, url: String) -> NewDelivery {
    let data = if job.kind == JobKind::Video {
        serde_json::to_value(VideoJob::of(state, job))
    } else {
        serde_json::to_value(JobStatus::of(state, job))
    }
    .unwrap_or_default();
    let body = json!({
        "event": event,
        "created_at": crate::time::rfc3339(now_ms()),
        "data": data,
    });
    NewDelivery {
        event: event.into(),
        url,
        body: body.to_string(),
    }
}

/// Sends due deliveries until `stop`.
pub async fn sender_loop(state: AppState, stop: CancellationToken) {
    while !stop.is_cancelled() {
        deliver_due(&state).await;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.cancelled() => {}
        }
    }
}

/// One pass over the due deliveries; returns how many were attempted (tests call it directly).
pub async fn deliver_due(state: &AppState) -> usize {
    let due = match state.repo.due_deliveries(now_ms(), 32).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "reading due webhooks failed");
            return 0;
        }
    };
    for d in &due {
        send(state, d).await;
    }
    due.len()
}

async fn send(state: &AppState, d: &Delivery) {
    let cfg = &state.config.webhooks;
    let secret = match state.repo.webhook_secret(d.account).await {
        Ok(Some(s)) => s,
        _ => return,
    };
    let ts = now_ms() / 1000;
    let headers = [
        ("x-webhook-event", d.event.clone()),
        ("x-webhook-delivery-id", d.id.to_string()),
        ("x-webhook-timestamp", ts.to_string()),
        (
            "x-webhook-signature",
            webhook_signature(&secret, ts, &d.body),
        ),
    ];
    let sent = state
        .fetcher
        .post(
            &d.url,
            &headers,
            d.body.clone(),
            Duration::from_secs(cfg.timeout_secs),
        )
        .await;
    let error = match sent {
        Ok(s) if (200..300).contains(&s) => {
            if let Err(e) = state.repo.delivery_done(d).await {
                tracing::warn!(error = %e, "recording a webhook delivery failed");
            }
            tracing::info!(job_id = %d.job, event = %d.event, "webhook delivered");
            return;
        }
        Ok(s) => format!("HTTP {s}"),
        Err(e) => e.to_string(),
    };
    let attempts = d.attempts + 1;
    let next = (attempts < cfg.max_attempts).then(|| {
        let backoff = cfg
            .retry_backoff_secs
            .saturating_mul(1 << attempts.min(20))
            .min(3600);
        now_ms() + backoff as i64 * 1000
    });
    tracing::warn!(job_id = %d.job, event = %d.event, attempts, error = %error, gave_up = next.is_none(), "webhook delivery failed");
    if let Err(e) = state.repo.delivery_failed(d, &error, next).await {
        tracing::warn!(error = %e, "recording a webhook failure failed");
    }
}
