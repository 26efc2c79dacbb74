//! The statements every transaction is built from: row mapping, the job's audit event, charges
//! and refunds on the ledger, idempotency records and the webhook outbox. `jobs`, `videos` and
//! `misc` compose them; none of them calls another.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::{parse_id, parse_json, parse_name};
use crate::ids::{now_ms, AccountId, JobId, KeyId};
use crate::model::*;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

pub(super) const JOB_COLUMNS: &str =
    "id, account_id, key_id, kind, mode, spec, input_key, state, status, \
    progress, attempts, max_attempts, claimed_by, result, error_code, error_message, cost, \
    created_at, updated_at, finished_at";

pub(super) fn job_from_row(row: &PgRow) -> R<Job> {
    let state: String = row.try_get("state")?;
    Ok(Job {
        id: parse_id(&row.try_get::<String, _>("id")?, "job")?,
        account: parse_id(&row.try_get::<String, _>("account_id")?, "account")?,
        key: parse_id(&row.try_get::<String, _>("key_id")?, "key")?,
        kind: parse_name(&row.try_get::<String, _>("kind")?, "job kind")?,
        mode: row.try_get("mode")?,
        spec: parse_json(Some(row.try_get("spec")?))?.unwrap_or_default(),
        input_key: row.try_get("input_key")?,
        state: JobState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("job state {state:?}")))?,
        status: row.try_get("status")?,
        progress: row.try_get::<i64, _>("progress")?.clamp(0, 100) as u8,
        attempts: row.try_get::<i64, _>("attempts")? as u32,
        max_attempts: row.try_get::<i64, _>("max_attempts")? as u32,
        claimed_by: row.try_get("claimed_by")?,
        result: parse_json(row.try_get("result")?)?,
        error_code: row.try_get("error_code")?,
        error_message: row.try_get("error_message")?,
        cost: row.try_get("cost")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// Appends one transition to the audit trail.
pub(super) async fn event(
    conn: &mut PgConnection,
    job: JobId,
    from: Option<JobState>,
    to: JobState,
    actor: &str,
    cause: &str,
) -> R<()> {
    sqlx::query(
        "INSERT INTO job_events (job_id, at, from_state, to_state, actor, cause) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(job.to_string())
    .bind(now_ms())
    .bind(from.map(JobState::as_str))
    .bind(to.as_str())
    .bind(actor)
    .bind(cause)
    .execute(conn)
    .await?;
    Ok(())
}

/// Debits `cost` from the account and writes the job's charge line; `Ok(Err(balance))` when the
/// balance is short (nothing written).
pub(super) async fn charge(
    conn: &mut PgConnection,
    account: AccountId,
    job: JobId,
    cost: i64,
) -> R<Result<(), i64>> {
    let debited =
        sqlx::query("UPDATE accounts SET balance = balance - $1 WHERE id = $2 AND balance >= $3")
            .bind(cost)
            .bind(account.to_string())
            .bind(cost)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if debited == 0 {
        let balance: Option<i64> = sqlx::query_scalar("SELECT balance FROM accounts WHERE id = $1")
            .bind(account.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        return Ok(Err(balance.unwrap_or(0)));
    }
    if cost > 0 {
        sqlx::query(
            "INSERT INTO ledger (account_id, delta, reason, job_id, created_at) VALUES ($1, $2, 'charge', $3, $4)",
        )
        .bind(account.to_string())
        .bind(-cost)
        .bind(job.to_string())
        .bind(now_ms())
        .execute(conn)
        .await?;
    }
    Ok(Ok(()))
}

/// What the job was actually charged (0 for a draft never started).
pub(super) async fn charged(conn: &mut PgConnection, job: JobId) -> R<i64> {
    let paid: Option<i64> =
        sqlx::query_scalar("SELECT -delta FROM ledger WHERE job_id = $1 AND reason = 'charge'")
            .bind(job.to_string())
            .fetch_optional(conn)
            .await?;
    Ok(paid.unwrap_or(0))
}

/// Gives a job's charge back, once: the ledger's unique (job, reason) index makes a second refund
/// a no-op whatever path (worker, reaper, retry) gets there. What was never charged (a draft) is
/// not refunded.
pub(super) async fn refund(conn: &mut PgConnection, job: &Job) -> R<()> {
    let paid = charged(&mut *conn, job.id).await?;
    if paid <= 0 {
        return Ok(());
    }
    let inserted = sqlx::query(
        "INSERT INTO ledger (account_id, delta, reason, job_id, created_at) VALUES ($1, $2, 'refund', $3, $4) \
         ON CONFLICT DO NOTHING",
    )
    .bind(job.account.to_string())
    .bind(paid)
    .bind(job.id.to_string())
    .bind(now_ms())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        sqlx::query("UPDATE accounts SET balance = balance + $1 WHERE id = $2")
            .bind(paid)
            .bind(job.account.to_string())
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn load(conn: &mut PgConnection, id: JobId) -> R<Option<Job>> {
    load_with(conn, id, "").await
}

/// The job's row, locked until the transaction ends: the shared sequences decide on what they
/// read (is it still this worker's? still a draft?), and concurrent writers on other nodes
/// must wait for that decision rather than act on the same state.
pub(super) async fn load_locked(conn: &mut PgConnection, id: JobId) -> R<Option<Job>> {
    load_with(conn, id, "FOR UPDATE").await
}

async fn load_with(conn: &mut PgConnection, id: JobId, lock: &str) -> R<Option<Job>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 {lock}");
    let row = sqlx::query(&sql)
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(job_from_row).transpose()
}

pub(super) async fn insert_deliveries(
    conn: &mut PgConnection,
    job: &Job,
    deliveries: Vec<NewDelivery>,
) -> R<()> {
    for d in deliveries {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, job_id, account_id, event, url, body, next_at, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)",
        )
        .bind(crate::DeliveryId::new().to_string())
        .bind(job.id.to_string())
        .bind(job.account.to_string())
        .bind(d.event)
        .bind(d.url)
        .bind(d.body)
        .bind(now_ms())
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Jobs that hold a queue slot.
pub(super) async fn pending_count(conn: &mut PgConnection) -> R<u64> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
            .fetch_one(conn)
            .await?;
    Ok(n as u64)
}

pub(super) async fn idem_get(
    conn: &mut PgConnection,
    key: KeyId,
    idem_key: &str,
) -> R<Option<IdemRecord>> {
    let row: Option<(String, i64, String)> = sqlx::query_as(
        "SELECT request_hash, status, body FROM idempotency WHERE key_id = $1 AND idem_key = $2",
    )
    .bind(key.to_string())
    .bind(idem_key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(request_hash, status, body)| IdemRecord {
        key,
        idem_key: idem_key.to_owned(),
        request_hash,
        status: status as u16,
        body,
    }))
}

pub(super) async fn idem_insert(conn: &mut PgConnection, rec: &IdemRecord) -> R<bool> {
    let n = sqlx::query(
        "INSERT INTO idempotency (key_id, idem_key, request_hash, status, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(rec.key.to_string())
    .bind(&rec.idem_key)
    .bind(&rec.request_hash)
    .bind(rec.status as i64)
    .bind(&rec.body)
    .bind(now_ms())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}
