//! The transactions whose order matters for money and exactly-once: create (idempotency →
//! queue bound → charge → insert → event → idempotency record), start a draft, cancel, finish,
//! and a late charge. Each runs on an open transaction of any backend; the caller commits.

use super::backend::Conn;
use super::statements::{self as st, StateChange};
use crate::ids::{AccountId, JobId};
use crate::kinds::JobPhase;
use crate::model::*;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

/// A queued job (or a draft), charged, with its idempotency record; or why not. The caller
/// commits only a `Created` outcome.
pub(crate) async fn create_job(
    tx: &mut impl Conn,
    job: NewJob,
    idem: Option<IdemRecord>,
) -> R<CreateOutcome> {
    if let Some(rec) = &idem {
        if let Some(prev) = st::idem_get(tx, rec.key, &rec.idem_key).await? {
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
        if st::pending_count_locked(tx).await? >= job.max_pending {
            return Ok(CreateOutcome::QueueFull);
        }
        if let Err(balance) = st::charge(tx, job.account, job.id, job.cost).await? {
            return Ok(CreateOutcome::InsufficientCredits { balance });
        }
        JobState::Queued
    };
    st::insert_job(tx, &job, state, crate::now_ms()).await?;
    st::event(tx, job.id, None, state, "api", "created").await?;
    if let Some(rec) = idem {
        // A twin request on another node got its record in while this one ran (the insert
        // waited for it): answer as it did. Only `Created` is committed, so nothing of this
        // attempt stays.
        if !st::idem_insert(tx, &rec).await? {
            let prev = st::idem_get(tx, rec.key, &rec.idem_key).await?;
            let prev = prev.ok_or_else(vanished)?;
            return Ok(if prev.request_hash == rec.request_hash {
                CreateOutcome::Replay(prev)
            } else {
                CreateOutcome::IdemConflict
            });
        }
    }
    let created = st::load_locked(tx, job.id).await?.ok_or_else(vanished)?;
    Ok(CreateOutcome::Created(Box::new(created)))
}

/// Charges and queues a draft of `account`.
pub(crate) async fn start_job(
    tx: &mut impl Conn,
    account: AccountId,
    id: JobId,
    actor: &str,
    max_pending: u64,
) -> R<Option<Started>> {
    let Some(job) = st::load_locked(tx, id)
        .await?
        .filter(|j| j.account == account)
    else {
        return Ok(None);
    };
    if job.state != JobState::Draft {
        return Ok(Some(Started::NotDraft(job.state)));
    }
    if st::pending_count_locked(tx).await? >= max_pending {
        return Ok(Some(Started::QueueFull));
    }
    if let Err(balance) = st::charge(tx, account, id, job.cost).await? {
        return Ok(Some(Started::InsufficientCredits { balance }));
    }
    st::change_state(tx, id, StateChange::Queue, crate::now_ms()).await?;
    st::event(
        tx,
        id,
        Some(JobState::Draft),
        JobState::Queued,
        actor,
        "started",
    )
    .await?;
    let job = st::load_locked(tx, id).await?.ok_or_else(vanished)?;
    Ok(Some(Started::Now(Box::new(job))))
}

/// Fails a queued or running job of `account` as cancelled, with its refund.
pub(crate) async fn cancel_job(
    tx: &mut impl Conn,
    account: AccountId,
    id: JobId,
    actor: &str,
) -> R<Option<Cancelled>> {
    let Some(job) = st::load_locked(tx, id)
        .await?
        .filter(|j| j.account == account)
    else {
        return Ok(None);
    };
    if job.state.is_final() {
        return Ok(Some(Cancelled::AlreadyFinal(job.state)));
    }
    let cancelled = StateChange::Fail {
        status: JobPhase::Cancelled,
        code: "cancelled",
        message: "cancelled by the client",
    };
    st::change_state(tx, id, cancelled, crate::now_ms()).await?;
    st::refund(tx, &job).await?;
    st::event(
        tx,
        id,
        Some(job.state),
        JobState::Failed,
        actor,
        "cancelled",
    )
    .await?;
    Ok(Some(Cancelled::Now))
}

/// Moves a job `worker` holds to its final state: a failure is refunded, and the webhooks are
/// queued in the same transaction. False when the claim was lost (nothing changed).
pub(crate) async fn finish(
    tx: &mut impl Conn,
    id: JobId,
    worker: &str,
    finish: Finish,
    deliveries: Vec<NewDelivery>,
) -> R<bool> {
    let Some(job) = st::load_locked(tx, id)
        .await?
        .filter(|j| held_by(j, worker))
    else {
        return Ok(false);
    };
    let now = crate::now_ms();
    let (to, cause) = match &finish {
        Finish::Completed { result } => {
            st::change_state(tx, id, StateChange::Complete { result }, now).await?;
            (JobState::Completed, "processed")
        }
        Finish::Failed { code, message } => {
            let failed = StateChange::Fail {
                status: JobPhase::Failed,
                code,
                message,
            };
            st::change_state(tx, id, failed, now).await?;
            st::refund(tx, &job).await?;
            (JobState::Failed, code.as_str())
        }
    };
    st::event(tx, id, Some(JobState::Running), to, worker, cause).await?;
    st::insert_deliveries(tx, &job, deliveries).await?;
    Ok(true)
}

/// Debits `cost` for a job `worker` holds, once per job.
pub(crate) async fn charge_claimed(
    tx: &mut impl Conn,
    id: JobId,
    worker: &str,
    cost: i64,
) -> R<Charged> {
    let Some(job) = st::load_locked(tx, id)
        .await?
        .filter(|j| held_by(j, worker))
    else {
        return Ok(Charged::NotClaimed);
    };
    if st::charged(tx, id).await? > 0 {
        return Ok(Charged::Already);
    }
    if let Err(balance) = st::charge(tx, job.account, id, cost).await? {
        return Ok(Charged::InsufficientCredits { balance });
    }
    st::set_cost(tx, id, cost, crate::now_ms()).await?;
    Ok(Charged::Now)
}

fn held_by(job: &Job, worker: &str) -> bool {
    job.state == JobState::Running && job.claimed_by.as_deref() == Some(worker)
}

fn vanished() -> StoreError {
    StoreError::Corrupt("job vanished".into())
}
