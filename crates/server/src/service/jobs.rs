//! Jobs created, started and cancelled in one place. Every API family queues through
//! [`enqueue`], so the two things a hand-written create can forget happen every time: the idle
//! workers of this process are woken (a forgotten wake-up fails silently: the job waits for the
//! next poll), and a blob staged for a job that was not created is deleted.

use cutout_store::{
    AccountId, ApiKey, BlobKey, Cancelled, CreateOutcome, IdemRecord, JobId, NewJob, Started,
    StoreError,
};

use super::payload::JobPayload;
use super::state::AppState;

/// How many queued and running jobs a new one may join.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueBound {
    /// `limits.max_pending_jobs`.
    Configured,
    /// Never refused for a full queue: work the client has already paid for and received
    /// (an add-on save whose PNG was answered inline).
    Unbounded,
}

/// A job to create.
#[derive(Debug)]
pub struct NewWork {
    pub id: JobId,
    pub payload: JobPayload,
    pub input_key: Option<BlobKey>,
    pub cost: i64,
    pub queue: QueueBound,
    /// Created as a draft: charged and queued only when started.
    pub draft: bool,
    /// A blob written for this job alone, deleted when the job is not created (a refusal, or
    /// an idempotent twin that got there first).
    pub staged: Option<BlobKey>,
}

/// Why a job could not be created.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("the job's spec cannot be encoded: {0}")]
    Encode(#[from] serde_json::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates the job for `caller` (charged, idempotent, bounded), wakes this process's workers
/// when it is queued, and cleans up what was staged for it when it was not created.
pub async fn enqueue(
    state: &AppState,
    caller: &ApiKey,
    work: NewWork,
    idem: Option<IdemRecord>,
) -> Result<CreateOutcome, EnqueueError> {
    let mode = work.payload.mode().to_owned();
    let (kind, spec) = work.payload.into_parts()?;
    let job = NewJob {
        id: work.id,
        account: caller.account,
        key: caller.id,
        kind,
        mode,
        spec,
        input_key: work.input_key,
        max_attempts: state.config.jobs.max_attempts,
        cost: work.cost,
        max_pending: match work.queue {
            QueueBound::Configured => state.config.limits.max_pending_jobs,
            QueueBound::Unbounded => u64::MAX,
        },
        draft: work.draft,
    };
    let outcome = state.repo.create_job(job, idem).await;
    match &outcome {
        Ok(CreateOutcome::Created(job)) => {
            tracing::info!(job_id = %job.id, kind = %job.kind, draft = work.draft, "job created");
            if !work.draft {
                state.wake.notify_waiters();
            }
        }
        Ok(_) => {
            if let Some(staged) = &work.staged {
                super::assets::delete_quietly(state, staged).await;
            }
        }
        // Not known to be refused (a commit may have landed): the blob stays for the sweeper.
        Err(_) => {}
    }
    Ok(outcome?)
}

/// Starts a draft of `account`: charged and queued, and this process's workers woken.
pub async fn start(
    state: &AppState,
    account: AccountId,
    id: JobId,
    actor: &str,
) -> Result<Option<Started>, StoreError> {
    let max_pending = state.config.limits.max_pending_jobs;
    let started = state
        .repo
        .start_job(account, id, actor, max_pending)
        .await?;
    if let Some(Started::Now(_)) = &started {
        tracing::info!(job_id = %id, "draft started");
        state.wake.notify_waiters();
    }
    Ok(started)
}

/// Cancels a queued or running job of `account` (refunded); a worker running it loses its
/// claim at its next heartbeat and stops.
pub async fn cancel(
    state: &AppState,
    account: AccountId,
    id: JobId,
    actor: &str,
) -> Result<Option<Cancelled>, StoreError> {
    let cancelled = state.repo.cancel_job(account, id, actor).await?;
    if let Some(Cancelled::Now) = &cancelled {
        tracing::info!(job_id = %id, actor, "job cancelled");
    }
    Ok(cancelled)
}
