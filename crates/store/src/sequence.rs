//! The transactions whose order matters for money and exactly-once, written once for every
//! backend: create (idempotency → queue bound → charge → insert → event → idempotency record),
//! start a draft, cancel, finish, and a late charge. Each backend implements [`Tx`], the
//! statements these are built from, on its own transaction, and commits after the sequence.
//!
//! The queue mechanics (claim, heartbeat, re-queue, reap) stay in each backend: how to claim a
//! row without two workers getting it is exactly what differs between databases.

use crate::ids::{AccountId, JobId, KeyId, Millis};
use crate::model::*;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

/// How a job's row changes state.
pub(crate) enum StateChange<'a> {
    /// A draft joins the queue now.
    Queue,
    Complete {
        result: &'a serde_json::Value,
    },
    /// `status` is what clients see (`failed`, or `cancelled`).
    Fail {
        status: &'a str,
        code: &'a str,
        message: &'a str,
    },
}

/// The statements of one open transaction. Nothing here commits.
#[allow(async_fn_in_trait)] // used only with concrete backends, whose futures are known
pub(crate) trait Tx {
    async fn load(&mut self, id: JobId) -> R<Option<Job>>;
    async fn insert_job(&mut self, job: &NewJob, state: JobState, now: Millis) -> R<()>;
    async fn change_state(&mut self, id: JobId, change: StateChange<'_>, now: Millis) -> R<()>;
    /// Records what a job was charged once its cost became known (a remote video).
    async fn set_cost(&mut self, id: JobId, cost: i64, now: Millis) -> R<()>;
    /// Appends one transition to the audit trail.
    async fn event(
        &mut self,
        job: JobId,
        from: Option<JobState>,
        to: JobState,
        actor: &str,
        cause: &str,
    ) -> R<()>;
    /// Debits `cost` and writes the job's charge line; `Ok(Err(balance))` when short.
    async fn charge(&mut self, account: AccountId, job: JobId, cost: i64) -> R<Result<(), i64>>;
    /// What the job was charged (0 when never).
    async fn charged(&mut self, job: JobId) -> R<i64>;
    /// Gives the job's charge back, at most once whatever path gets there.
    async fn refund(&mut self, job: &Job) -> R<()>;
    /// Jobs queued or running.
    async fn pending_count(&mut self) -> R<u64>;
    async fn idem_get(&mut self, key: KeyId, idem_key: &str) -> R<Option<IdemRecord>>;
    /// False when a record for the key already exists (nothing written).
    async fn idem_insert(&mut self, rec: &IdemRecord) -> R<bool>;
    async fn insert_deliveries(&mut self, job: &Job, deliveries: Vec<NewDelivery>) -> R<()>;
}

/// A queued job (or a draft), charged, with its idempotency record; or why not. The caller
/// commits only a `Created` outcome.
pub(crate) async fn create_job(
    tx: &mut impl Tx,
    job: NewJob,
    idem: Option<IdemRecord>,
) -> R<CreateOutcome> {
    if let Some(rec) = &idem {
        if let Some(prev) = tx.idem_get(rec.key, &rec.idem_key).await? {
            return Ok(if prev.request_hash == rec.request_hash {
                CreateOutcome::Replay(prev)
            } else {
                CreateOutcome::IdemConflict
            });
        }
    }
    // A draft reserves nothing and takes no queue slot until it is started.
    let state = if job.draft {
        JobState::Draft
    } else {
        if tx.pending_count().await? >= job.max_pending {
            return Ok(CreateOutcome::QueueFull);
        }
        if let Err(balance) = tx.charge(job.account, job.id, job.cost).await? {
            return Ok(CreateOutcome::InsufficientCredits { balance });
        }
        JobState::Queued
    };
    tx.insert_job(&job, state, crate::now_ms()).await?;
    tx.event(job.id, None, state, "api", "created").await?;
    if let Some(rec) = idem {
        // A twin request on another node got its record in while this one ran (the insert
        // waited for it): answer as it did. Only `Created` is committed, so nothing of this
        // attempt stays.
        if !tx.idem_insert(&rec).await? {
            let prev = tx.idem_get(rec.key, &rec.idem_key).await?;
            let prev = prev.ok_or_else(vanished)?;
            return Ok(if prev.request_hash == rec.request_hash {
                CreateOutcome::Replay(prev)
            } else {
                CreateOutcome::IdemConflict
            });
        }
    }
    let created = tx.load(job.id).await?.ok_or_else(vanished)?;
    Ok(CreateOutcome::Created(Box::new(created)))
}

/// Charges and queues a draft of `account`.
pub(crate) async fn start_job(
    tx: &mut impl Tx,
    account: AccountId,
    id: JobId,
    actor: &str,
    max_pending: u64,
) -> R<Option<Started>> {
    let Some(job) = tx.load(id).await?.filter(|j| j.account == account) else {
        return Ok(None);
    };
    if job.state != JobState::Draft {
        return Ok(Some(Started::NotDraft(job.state)));
    }
    if tx.pending_count().await? >= max_pending {
        return Ok(Some(Started::QueueFull));
    }
    if let Err(balance) = tx.charge(account, id, job.cost).await? {
        return Ok(Some(Started::InsufficientCredits { balance }));
    }
    tx.change_state(id, StateChange::Queue, crate::now_ms())
        .await?;
    tx.event(
        id,
        Some(JobState::Draft),
        JobState::Queued,
        actor,
        "started",
    )
    .await?;
    let job = tx.load(id).await?.ok_or_else(vanished)?;
    Ok(Some(Started::Now(Box::new(job))))
}

/// Fails a queued or running job of `account` as cancelled, with its refund.
pub(crate) async fn cancel_job(
    tx: &mut impl Tx,
    account: AccountId,
    id: JobId,
    actor: &str,
) -> R<Option<Cancelled>> {
    let Some(job) = tx.load(id).await?.filter(|j| j.account == account) else {
        return Ok(None);
    };
    if job.state.is_final() {
        return Ok(Some(Cancelled::AlreadyFinal(job.state)));
    }
    let cancelled = StateChange::Fail {
        status: "cancelled",
        code: "cancelled",
        message: "cancelled by the client",
    };
    tx.change_state(id, cancelled, crate::now_ms()).await?;
    tx.refund(&job).await?;
    tx.event(id, Some(job.state), JobState::Failed, actor, "cancelled")
        .await?;
    Ok(Some(Cancelled::Now))
}

/// Moves a job `worker` holds to its final state: a failure is refunded, and the webhooks are
/// queued in the same transaction. False when the claim was lost (nothing changed).
pub(crate) async fn finish(
    tx: &mut impl Tx,
    id: JobId,
    worker: &str,
    finish: Finish,
    deliveries: Vec<NewDelivery>,
) -> R<bool> {
    let Some(job) = tx.load(id).await?.filter(|j| held_by(j, worker)) else {
        return Ok(false);
    };
    let now = crate::now_ms();
    let (to, cause) = match &finish {
        Finish::Completed { result } => {
            tx.change_state(id, StateChange::Complete { result }, now)
                .await?;
            (JobState::Completed, "processed")
        }
        Finish::Failed { code, message } => {
            let failed = StateChange::Fail {
                status: "failed",
                code,
                message,
            };
            tx.change_state(id, failed, now).await?;
            tx.refund(&job).await?;
            (JobState::Failed, code.as_str())
        }
    };
    tx.event(id, Some(JobState::Running), to, worker, cause)
        .await?;
    tx.insert_deliveries(&job, deliveries).await?;
    Ok(true)
}

/// Debits `cost` for a job `worker` holds, once per job.
pub(crate) async fn charge_claimed(
    tx: &mut impl Tx,
    id: JobId,
    worker: &str,
    cost: i64,
) -> R<Charged> {
    let Some(job) = tx.load(id).await?.filter(|j| held_by(j, worker)) else {
        return Ok(Charged::NotClaimed);
    };
    if tx.charged(id).await? > 0 {
        return Ok(Charged::Already);
    }
    if let Err(balance) = tx.charge(job.account, id, cost).await? {
        return Ok(Charged::InsufficientCredits { balance });
    }
    tx.set_cost(id, cost, crate::now_ms()).await?;
    Ok(Charged::Now)
}

fn held_by(job: &Job, worker: &str) -> bool {
    job.state == JobState::Running && job.claimed_by.as_deref() == Some(worker)
}

fn vanished() -> StoreError {
    StoreError::Corrupt("job vanished".into())
}
