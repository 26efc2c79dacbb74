//! The statements transactions are built from: loading a job, its state changes and audit
//! events, charges and refunds on the ledger, idempotency records and the webhook outbox.
//! `sequence` and the repository modules compose them; none of them calls another.

use super::backend::Conn;
use super::rows;
use super::schema::JOB_COLUMNS;
use super::value::query;
use crate::ids::{now_ms, AccountId, DeliveryId, JobId, KeyId, Millis};
use crate::kinds::JobPhase;
use crate::model::*;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

pub(crate) async fn load(c: &mut impl Conn, id: JobId) -> R<Option<Job>> {
    load_with(c, id, "").await
}

/// The job's row, locked until the transaction ends where the engine locks rows: the sequences
/// decide on what they read, and concurrent writers on other nodes must wait for the decision.
pub(crate) async fn load_locked<C: Conn>(c: &mut C, id: JobId) -> R<Option<Job>> {
    load_with(c, id, C::ROW_LOCK).await
}

async fn load_with(c: &mut impl Conn, id: JobId, lock: &str) -> R<Option<Job>> {
    let sql = format!("SELECT {} FROM jobs WHERE id = $1 {lock}", *JOB_COLUMNS);
    let row = c.fetch_optional(query(sql).bind(id)).await?;
    row.as_ref().map(rows::job).transpose()
}

pub(crate) async fn insert_job<C: Conn>(
    c: &mut C,
    job: &NewJob,
    state: JobState,
    now: Millis,
) -> R<()> {
    c.execute(
        query(
            "INSERT INTO jobs (id, account_id, key_id, kind, mode, spec, input_key, state, \
             status, max_attempts, run_after, cost, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $10, $10)",
        )
        .bind(job.id)
        .bind(job.account)
        .bind(job.key)
        .bind(job.kind.as_str())
        .bind(&job.mode)
        .bind(job.spec.to_string())
        .bind(job.input_key.as_ref())
        .bind(state.as_str())
        .bind(job.max_attempts.max(1) as i64)
        .bind(now)
        .bind(job.cost),
    )
    .await?;
    if state == JobState::Queued {
        c.execute_opt(C::NOTIFY_WORK).await?;
    }
    Ok(())
}

/// How a job's row changes state.
pub(crate) enum StateChange<'a> {
    /// A draft joins the queue now.
    Queue,
    Complete {
        result: &'a serde_json::Value,
    },
    /// `status` is what clients see (failed, or cancelled).
    Fail {
        status: JobPhase,
        code: &'a str,
        message: &'a str,
    },
}

pub(crate) async fn change_state<C: Conn>(
    c: &mut C,
    id: JobId,
    change: StateChange<'_>,
    now: Millis,
) -> R<()> {
    let queued = matches!(change, StateChange::Queue);
    let q = match change {
        StateChange::Queue => query(
            "UPDATE jobs SET state = 'queued', status = 'queued', run_after = $2, \
             updated_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(now),
        StateChange::Complete { result } => query(
            "UPDATE jobs SET state = 'completed', status = 'completed', progress = 100, \
             result = $3, claimed_by = NULL, updated_at = $2, finished_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .bind(result.to_string()),
        StateChange::Fail {
            status,
            code,
            message,
        } => query(
            "UPDATE jobs SET state = 'failed', status = $3, error_code = $4, error_message = $5, \
             claimed_by = NULL, updated_at = $2, finished_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .bind(status.as_str())
        .bind(code)
        .bind(message),
    };
    c.execute(q).await?;
    if queued {
        c.execute_opt(C::NOTIFY_WORK).await?;
    }
    Ok(())
}

/// Records what a job was charged once its cost became known (a remote video).
pub(crate) async fn set_cost(c: &mut impl Conn, id: JobId, cost: i64, now: Millis) -> R<()> {
    c.execute(
        query("UPDATE jobs SET cost = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(cost)
            .bind(now),
    )
    .await?;
    Ok(())
}

/// Appends one transition to the audit trail.
pub(crate) async fn event(
    c: &mut impl Conn,
    job: JobId,
    from: Option<JobState>,
    to: JobState,
    actor: &str,
    cause: &str,
) -> R<()> {
    c.execute(
        query(
            "INSERT INTO job_events (job_id, at, from_state, to_state, actor, cause) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(job)
        .bind(now_ms())
        .bind(from.map(JobState::as_str))
        .bind(to.as_str())
        .bind(actor)
        .bind(cause),
    )
    .await?;
    Ok(())
}

/// Debits `cost` from the account and writes the job's charge line; `Ok(Err(balance))` when the
/// balance is short (nothing written).
pub(crate) async fn charge(
    c: &mut impl Conn,
    account: AccountId,
    job: JobId,
    cost: i64,
) -> R<Result<(), i64>> {
    let debited = c
        .execute(
            query("UPDATE accounts SET balance = balance - $2 WHERE id = $1 AND balance >= $2")
                .bind(account)
                .bind(cost),
        )
        .await?;
    if debited == 0 {
        let row = c
            .fetch_optional(query("SELECT balance FROM accounts WHERE id = $1").bind(account))
            .await?;
        let balance = row.map(|r| r.first::<i64>()).transpose()?;
        return Ok(Err(balance.unwrap_or(0)));
    }
    if cost > 0 {
        c.execute(
            query(
                "INSERT INTO ledger (account_id, delta, reason, job_id, created_at) \
                 VALUES ($1, $2, 'charge', $3, $4)",
            )
            .bind(account)
            .bind(-cost)
            .bind(job)
            .bind(now_ms()),
        )
        .await?;
    }
    Ok(Ok(()))
}

/// What the job was actually charged (0 for a draft never started).
pub(crate) async fn charged(c: &mut impl Conn, job: JobId) -> R<i64> {
    let row = c
        .fetch_optional(
            query("SELECT -delta FROM ledger WHERE job_id = $1 AND reason = 'charge'").bind(job),
        )
        .await?;
    Ok(row.map(|r| r.first::<i64>()).transpose()?.unwrap_or(0))
}

/// Gives a job's charge back, once: the ledger's unique (job, reason) index makes a second refund
/// a no-op whatever path (worker, reaper, retry) gets there. What was never charged (a draft) is
/// not refunded.
pub(crate) async fn refund(c: &mut impl Conn, job: &Job) -> R<()> {
    let paid = charged(c, job.id).await?;
    if paid <= 0 {
        return Ok(());
    }
    let inserted = c
        .execute(
            query(
                "INSERT INTO ledger (account_id, delta, reason, job_id, created_at) \
                 VALUES ($1, $2, 'refund', $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(job.account)
            .bind(paid)
            .bind(job.id)
            .bind(now_ms()),
        )
        .await?;
    if inserted == 1 {
        c.execute(
            query("UPDATE accounts SET balance = balance + $2 WHERE id = $1")
                .bind(job.account)
                .bind(paid),
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn insert_deliveries(
    c: &mut impl Conn,
    job: &Job,
    deliveries: Vec<NewDelivery>,
) -> R<()> {
    for d in deliveries {
        let now = now_ms();
        c.execute(
            query(
                "INSERT INTO webhook_deliveries (id, job_id, account_id, event, url, body, \
                 next_at, state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $7)",
            )
            .bind(DeliveryId::new())
            .bind(job.id)
            .bind(job.account)
            .bind(d.event)
            .bind(d.url)
            .bind(d.body)
            .bind(now),
        )
        .await?;
    }
    Ok(())
}

/// Jobs that hold a queue slot.
pub(crate) async fn pending_count(c: &mut impl Conn) -> R<u64> {
    let row = c
        .fetch_one(query(
            "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')",
        ))
        .await?;
    Ok(row.first::<i64>()? as u64)
}

/// [`pending_count`] for a transaction that may add to the queue: under the dialect's lock,
/// creates and starts on different nodes take turns between this count and their commit, so
/// the queue bound is exact.
pub(crate) async fn pending_count_locked<C: Conn>(c: &mut C) -> R<u64> {
    c.execute_opt(C::QUEUE_BOUND_LOCK).await?;
    pending_count(c).await
}

pub(crate) async fn idem_get(
    c: &mut impl Conn,
    key: KeyId,
    idem_key: &str,
) -> R<Option<IdemRecord>> {
    let row = c
        .fetch_optional(
            query(
                "SELECT request_hash, status, body FROM idempotency \
                 WHERE key_id = $1 AND idem_key = $2",
            )
            .bind(key)
            .bind(idem_key),
        )
        .await?;
    row.map(|r| {
        Ok(IdemRecord {
            key,
            idem_key: idem_key.to_owned(),
            request_hash: r.get("request_hash")?,
            status: r.get::<i64>("status")? as u16,
            body: r.get("body")?,
        })
    })
    .transpose()
}

/// False when a record for the key already exists (nothing written).
pub(crate) async fn idem_insert(c: &mut impl Conn, rec: &IdemRecord) -> R<bool> {
    let n = c
        .execute(
            query(
                "INSERT INTO idempotency (key_id, idem_key, request_hash, status, body, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(rec.key)
            .bind(&rec.idem_key)
            .bind(&rec.request_hash)
            .bind(rec.status as i64)
            .bind(&rec.body)
            .bind(now_ms()),
        )
        .await?;
    Ok(n == 1)
}
