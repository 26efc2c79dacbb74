//! Job workers: claim from the database, heartbeat while running, retry or abort on failure,
//! a panic boundary per job, and a graceful shutdown with a deadline. Workers run domain
//! operations from `service` only; they never reach into the HTTP side.

mod asset_save;
mod image;
mod video;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use cutout_store::{now_ms, Finish, Job, JobKind, NewDelivery};
use futures_util::FutureExt;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::error::ErrorCode;
use crate::service::payload::JobPayload;
use crate::service::state::AppState;
use crate::service::JobError;

/// The job kinds these workers run.
const KINDS: &[JobKind] = &[JobKind::Image, JobKind::AssetSave, JobKind::Video];

/// Runs `count` worker loops plus the reaper and the webhook sender until `stop` is cancelled,
/// then gives in-flight jobs `grace` to finish before re-queueing them.
pub fn spawn(state: AppState, stop: CancellationToken) -> JoinSet<()> {
    let mut set = JoinSet::new();
    let count = state.config.worker_count();
    let node = uuid::Uuid::new_v4().simple().to_string();
    for i in 0..count {
        let id = format!("{}-{i}", &node[..12]);
        set.spawn(worker_loop(state.clone(), id, stop.clone()));
    }
    set.spawn(reaper_loop(state.clone(), stop.clone()));
    set.spawn(notices_loop(state.clone(), stop.clone()));
    set.spawn(crate::service::webhook::sender_loop(state, stop));
    set
}

/// Waits for the tasks of [`spawn`], at most `grace` plus a margin.
pub async fn join(mut set: JoinSet<()>, grace: Duration) {
    let all = async { while set.join_next().await.is_some() {} };
    if tokio::time::timeout(grace + Duration::from_secs(2), all)
        .await
        .is_err()
    {
        tracing::warn!("workers did not stop in time");
    }
}

async fn worker_loop(state: AppState, id: String, stop: CancellationToken) {
    let poll = Duration::from_millis(state.config.jobs.poll_interval_ms.max(10));
    while !stop.is_cancelled() {
        // Registered before the claim so a wake-up between the two is not lost.
        let woken = state.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        match state.repo.claim_next(&id, KINDS).await {
            Ok(Some(job)) => run_claimed(&state, job, &id, &stop).await,
            Ok(None) => {
                tokio::select! {
                    _ = woken => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = stop.cancelled() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, worker = %id, "claiming a job failed");
                tokio::time::sleep(poll).await;
            }
        }
    }
}

/// Claims and runs jobs in this task until none is runnable; returns how many ran. Tests use it
/// to drain the queue on demand with workers turned off.
pub async fn drain(state: &AppState) -> usize {
    let stop = CancellationToken::new();
    let mut n = 0;
    while let Ok(Some(job)) = state.repo.claim_next("drain", KINDS).await {
        run_claimed(state, job, "drain", &stop).await;
        n += 1;
    }
    n
}

/// Wakes this process's idle workers when another process queues work (PostgreSQL's
/// LISTEN/NOTIFY). A broken channel is reopened after a pause; meanwhile the workers' poll
/// still finds the work. Backends without notices end this task at once.
async fn notices_loop(state: AppState, stop: CancellationToken) {
    while !stop.is_cancelled() {
        let mut notices = match state.repo.work_notices().await {
            Ok(Some(n)) => n,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "listening for queued work failed; polling meanwhile");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                    _ = stop.cancelled() => return,
                }
            }
        };
        loop {
            tokio::select! {
                next = notices.next() => match next {
                    Ok(()) => state.wake.notify_waiters(),
                    Err(e) => {
                        tracing::warn!(error = %e, "the queued-work channel broke; reopening");
                        break;
                    }
                },
                _ = stop.cancelled() => return,
            }
        }
    }
}

async fn reaper_loop(state: AppState, stop: CancellationToken) {
    let stale = Duration::from_secs(state.config.jobs.stale_after_secs.max(1));
    let every = (stale / 3).max(Duration::from_millis(500));
    let sweep_every = Duration::from_secs(state.config.jobs.sweep_interval_secs);
    let grace = Duration::from_secs(state.config.jobs.orphan_grace_secs);
    let mut last_sweep = Instant::now();
    while !stop.is_cancelled() {
        if !sweep_every.is_zero() && last_sweep.elapsed() >= sweep_every {
            last_sweep = Instant::now();
            if let Err(e) = crate::service::sweep::sweep_orphans(&state, grace).await {
                tracing::warn!(error = %e, "sweeping orphaned blobs failed");
            }
        }
        match state
            .repo
            .reap_stale(now_ms() - stale.as_millis() as i64)
            .await
        {
            Ok(ids) if !ids.is_empty() => {
                tracing::warn!(jobs = ?ids, "re-queued jobs whose worker stopped heartbeating");
                state.wake.notify_waiters();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reaping stale jobs failed"),
        }
        tokio::select! { _ = tokio::time::sleep(every) => {}, _ = stop.cancelled() => {} }
    }
}

async fn run_claimed(state: &AppState, job: Job, worker: &str, stop: &CancellationToken) {
    let payload = JobPayload::of(&job);
    // From the raw spec when it cannot be read, so a job failing on it is still logged with its
    // request and still announced to its webhook.
    let raw = |field: &str| {
        job.spec
            .get(field)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let (request_id, webhook) = match &payload {
        Ok(p) => (
            p.request_id().map(str::to_owned),
            p.webhook_url().map(str::to_owned),
        ),
        Err(_) => (raw("request_id"), raw("webhook_url")),
    };
    let request_id = request_id.unwrap_or_default();
    let span = tracing::info_span!("job", job_id = %job.id, request_id, kind = %job.kind, attempt = job.attempts);
    async {
        let started = Instant::now();
        let heartbeat = heartbeat(state.clone(), job.clone(), worker.to_owned());
        let work = AssertUnwindSafe(dispatch(state, &job, payload, worker)).catch_unwind();
        let outcome = tokio::select! {
            r = work => Some(r),
            _ = shutdown_deadline(state, stop) => None,
        };
        heartbeat.abort();
        let Some(outcome) = outcome else {
            // Not the job's fault: put it back without spending an attempt.
            let _ = state
                .repo
                .requeue(job.id, worker, now_ms(), "shutdown", false)
                .await;
            tracing::info!("released at shutdown");
            return;
        };
        let result = outcome.unwrap_or_else(|panic| {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %msg, "job panicked");
            Err(JobError::abort(
                ErrorCode::INTERNAL,
                "processing failed unexpectedly",
            ))
        });
        settle(state, &job, webhook, worker, result).await;
        crate::metrics::Metrics::observe(
            &state.metrics.job_seconds,
            job.kind.as_str(),
            started.elapsed().as_secs_f64(),
        );
    }
    .instrument(span)
    .await
}

/// Runs one attempt of a job by its kind; the result is what the job stores. A payload this
/// version cannot read fails the job at once.
async fn dispatch(
    state: &AppState,
    job: &Job,
    payload: Result<JobPayload, serde_json::Error>,
    worker: &str,
) -> Result<serde_json::Value, JobError> {
    let payload = payload.map_err(|e| {
        JobError::abort(ErrorCode::INVALID_JOB, format!("unreadable job spec: {e}"))
    })?;
    match payload {
        JobPayload::Image(spec) => {
            let info = image::run(state, job, spec, worker).await?;
            serde_json::to_value(&info).map_err(|e| JobError::abort(ErrorCode::INTERNAL, e))
        }
        JobPayload::AssetSave(spec) => asset_save::run(state, job, spec).await,
        JobPayload::Video(spec) => video::run(state, job, spec, worker).await,
    }
}

/// Resolves `grace` after `stop` is cancelled.
fn shutdown_deadline<'a>(
    state: &'a AppState,
    stop: &'a CancellationToken,
) -> impl Future<Output = ()> + 'a {
    let grace = Duration::from_secs(state.config.jobs.shutdown_grace_secs);
    async move {
        stop.cancelled().await;
        tokio::time::sleep(grace).await;
    }
}

fn heartbeat(state: AppState, job: Job, worker: String) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_secs(state.config.jobs.heartbeat_secs.max(1));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match state.repo.heartbeat(job.id, &worker).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(job_id = %job.id, "lost the claim on this job");
                    return;
                }
                Err(e) => tracing::warn!(job_id = %job.id, error = %e, "heartbeat failed"),
            }
        }
    })
}

/// Records the attempt's outcome: done, retried later with backoff, or failed and refunded.
async fn settle(
    state: &AppState,
    job: &Job,
    webhook: Option<String>,
    worker: &str,
    result: Result<serde_json::Value, JobError>,
) {
    let (finish, outcome) = match result {
        Ok(result) => (Finish::Completed { result }, "completed"),
        Err(JobError::Retry { code, message }) if job.attempts < job.max_attempts => {
            let backoff = state
                .config
                .jobs
                .retry_backoff_secs
                .saturating_mul(1 << job.attempts.min(10).saturating_sub(1));
            tracing::warn!(%code, error = %message, backoff_secs = backoff, "attempt failed, will retry");
            let at = now_ms() + backoff as i64 * 1000;
            if let Err(e) = state
                .repo
                .requeue(job.id, worker, at, code.as_str(), true)
                .await
            {
                tracing::error!(error = %e, "re-queueing failed");
            }
            state
                .metrics
                .jobs_finished
                .get_or_create(&crate::metrics::NameLabels {
                    name: "retried".into(),
                })
                .inc();
            return;
        }
        Err(
            JobError::Retry { code, message }
            | JobError::Abort { code, message }
            | JobError::Broken { code, message },
        ) => {
            tracing::warn!(%code, error = %message, "job failed");
            (
                Finish::Failed {
                    code: code.as_str().into(),
                    message,
                },
                "failed",
            )
        }
    };
    let deliveries: Vec<NewDelivery> = webhook
        .map(|url| crate::service::webhook::delivery_for(state, job, &finish, url))
        .into_iter()
        .collect();
    match state.repo.finish(job.id, worker, finish, deliveries).await {
        Ok(true) => tracing::info!(outcome, "job finished"),
        Ok(false) => tracing::warn!("job was taken from this worker; result discarded"),
        Err(e) => {
            tracing::error!(error = %e, "recording the job's outcome failed; it will be retried")
        }
    }
    state
        .metrics
        .jobs_finished
        .get_or_create(&crate::metrics::NameLabels {
            name: outcome.into(),
        })
        .inc();
}
