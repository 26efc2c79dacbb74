use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::{parse_id, parse_json, SqliteRepo};
use crate::ids::{now_ms, AccountId, JobId, Millis};
use crate::model::*;
use crate::repo::JobRepo;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

pub(super) const JOB_COLUMNS: &str =
    "id, account_id, key_id, kind, mode, spec, input_key, state, status, \
    progress, attempts, max_attempts, claimed_by, result, error_code, error_message, cost, \
    created_at, updated_at, finished_at";

pub(super) fn job_from_row(row: &SqliteRow) -> R<Job> {
    let state: String = row.try_get("state")?;
    Ok(Job {
        id: parse_id(&row.try_get::<String, _>("id")?, "job")?,
        account: parse_id(&row.try_get::<String, _>("account_id")?, "account")?,
        key: parse_id(&row.try_get::<String, _>("key_id")?, "key")?,
        kind: row.try_get("kind")?,
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
    conn: &mut SqliteConnection,
    job: JobId,
    from: Option<JobState>,
    to: JobState,
    actor: &str,
    cause: &str,
) -> R<()> {
    sqlx::query(
        "INSERT INTO job_events (job_id, at, from_state, to_state, actor, cause) \
         VALUES (?, ?, ?, ?, ?, ?)",
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
    conn: &mut SqliteConnection,
    account: AccountId,
    job: JobId,
    cost: i64,
) -> R<Result<(), i64>> {
    let debited =
        sqlx::query("UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ?")
            .bind(cost)
            .bind(account.to_string())
            .bind(cost)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if debited == 0 {
        let balance: Option<i64> = sqlx::query_scalar("SELECT balance FROM accounts WHERE id = ?")
            .bind(account.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        return Ok(Err(balance.unwrap_or(0)));
    }
    if cost > 0 {
        sqlx::query(
            "INSERT INTO ledger (account_id, delta, reason, job_id, created_at) VALUES (?, ?, 'charge', ?, ?)",
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
pub(super) async fn charged(conn: &mut SqliteConnection, job: JobId) -> R<i64> {
    let paid: Option<i64> =
        sqlx::query_scalar("SELECT -delta FROM ledger WHERE job_id = ? AND reason = 'charge'")
            .bind(job.to_string())
            .fetch_optional(conn)
            .await?;
    Ok(paid.unwrap_or(0))
}

/// Gives a job's charge back, once: the ledger's unique (job, reason) index makes a second refund
/// a no-op whatever path (worker, reaper, retry) gets there. What was never charged (a draft) is
/// not refunded.
pub(super) async fn refund(conn: &mut SqliteConnection, job: &Job) -> R<()> {
    let paid = charged(&mut *conn, job.id).await?;
    if paid <= 0 {
        return Ok(());
    }
    let inserted = sqlx::query(
        "INSERT INTO ledger (account_id, delta, reason, job_id, created_at) VALUES (?, ?, 'refund', ?, ?) \
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
        sqlx::query("UPDATE accounts SET balance = balance + ? WHERE id = ?")
            .bind(paid)
            .bind(job.account.to_string())
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn load(conn: &mut SqliteConnection, id: JobId) -> R<Option<Job>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?");
    let row = sqlx::query(&sql)
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(job_from_row).transpose()
}

pub(super) async fn insert_deliveries(
    conn: &mut SqliteConnection,
    job: &Job,
    deliveries: Vec<NewDelivery>,
) -> R<()> {
    for d in deliveries {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, job_id, account_id, event, url, body, next_at, state, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
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
pub(super) async fn pending_count(conn: &mut SqliteConnection) -> R<u64> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
            .fetch_one(conn)
            .await?;
    Ok(n as u64)
}

impl SqliteRepo {
    async fn insert_job(&self, job: NewJob, idem: Option<IdemRecord>) -> R<CreateOutcome> {
        let mut tx = self.write().await?;
        if let Some(rec) = &idem {
            if let Some(prev) = super::misc::idem_get(&mut tx, rec.key, &rec.idem_key).await? {
                return Ok(if prev.request_hash == rec.request_hash {
                    CreateOutcome::Replay(prev)
                } else {
                    CreateOutcome::IdemConflict
                });
            }
        }
        let now = now_ms();
        // A draft reserves nothing and takes no queue slot until it is started.
        let state = if job.draft {
            JobState::Draft
        } else {
            if pending_count(&mut tx).await? >= job.max_pending {
                return Ok(CreateOutcome::QueueFull);
            }
            if let Err(balance) = charge(&mut tx, job.account, job.id, job.cost).await? {
                return Ok(CreateOutcome::InsufficientCredits { balance });
            }
            JobState::Queued
        };
        sqlx::query(
            "INSERT INTO jobs (id, account_id, key_id, kind, mode, spec, input_key, state, status, \
             max_attempts, run_after, cost, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(job.id.to_string())
        .bind(job.account.to_string())
        .bind(job.key.to_string())
        .bind(&job.kind)
        .bind(&job.mode)
        .bind(job.spec.to_string())
        .bind(&job.input_key)
        .bind(state.as_str())
        .bind(state.as_str())
        .bind(job.max_attempts.max(1) as i64)
        .bind(now)
        .bind(job.cost)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        event(&mut tx, job.id, None, state, "api", "created").await?;
        if let Some(rec) = idem {
            super::misc::idem_insert(&mut tx, &rec).await?;
        }
        let created = load(&mut tx, job.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("job vanished".into()))?;
        tx.commit().await?;
        Ok(CreateOutcome::Created(Box::new(created)))
    }
}

#[async_trait]
impl JobRepo for SqliteRepo {
    async fn create_job(&self, job: NewJob, idem: Option<IdemRecord>) -> R<CreateOutcome> {
        self.insert_job(job, idem).await
    }

    async fn get_job(&self, id: JobId) -> R<Option<Job>> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, id).await
    }

    async fn claim_next(&self, worker: &str, kinds: &[&str]) -> R<Option<Job>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let placeholders = vec!["?"; kinds.len().max(1)].join(", ");
        let sql = format!(
            "SELECT id FROM jobs WHERE state = 'queued' AND run_after <= ? AND kind IN ({placeholders}) \
             ORDER BY run_after, id LIMIT 1"
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql).bind(now);
        for k in kinds {
            q = q.bind(*k);
        }
        let Some(id) = q.fetch_optional(&mut *tx).await? else {
            return Ok(None);
        };
        sqlx::query(
            "UPDATE jobs SET state = 'running', status = 'processing', claimed_by = ?, heartbeat_at = ?, \
             attempts = attempts + 1, updated_at = ? WHERE id = ?",
        )
        .bind(worker)
        .bind(now)
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        let id: JobId = parse_id(&id, "job")?;
        event(
            &mut tx,
            id,
            Some(JobState::Queued),
            JobState::Running,
            worker,
            "claimed",
        )
        .await?;
        let job = load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn heartbeat(&self, id: JobId, worker: &str) -> R<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND state = 'running' AND claimed_by = ?",
        )
        .bind(now_ms())
        .bind(id.to_string())
        .bind(worker)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn set_progress(&self, id: JobId, worker: &str, status: &str, progress: u8) -> R<bool> {
        let now = now_ms();
        let n = sqlx::query(
            "UPDATE jobs SET status = ?, progress = ?, heartbeat_at = ?, updated_at = ? \
             WHERE id = ? AND state = 'running' AND claimed_by = ?",
        )
        .bind(status)
        .bind(progress.min(100) as i64)
        .bind(now)
        .bind(now)
        .bind(id.to_string())
        .bind(worker)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn finish(
        &self,
        id: JobId,
        worker: &str,
        finish: Finish,
        deliveries: Vec<NewDelivery>,
    ) -> R<bool> {
        let mut tx = self.write().await?;
        let Some(job) = load(&mut tx, id).await? else {
            return Ok(false);
        };
        if job.state != JobState::Running || job.claimed_by.as_deref() != Some(worker) {
            return Ok(false);
        }
        let now = now_ms();
        let (to, cause) = match &finish {
            Finish::Completed { result } => {
                sqlx::query(
                    "UPDATE jobs SET state = 'completed', status = 'completed', progress = 100, result = ?, \
                     claimed_by = NULL, updated_at = ?, finished_at = ? WHERE id = ?",
                )
                .bind(result.to_string())
                .bind(now)
                .bind(now)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
                (JobState::Completed, "processed".to_owned())
            }
            Finish::Failed { code, message } => {
                sqlx::query(
                    "UPDATE jobs SET state = 'failed', status = 'failed', error_code = ?, error_message = ?, \
                     claimed_by = NULL, updated_at = ?, finished_at = ? WHERE id = ?",
                )
                .bind(code)
                .bind(message)
                .bind(now)
                .bind(now)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
                refund(&mut tx, &job).await?;
                (JobState::Failed, code.clone())
            }
        };
        event(&mut tx, id, Some(JobState::Running), to, worker, &cause).await?;
        insert_deliveries(&mut tx, &job, deliveries).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn requeue(
        &self,
        id: JobId,
        worker: &str,
        run_after: Millis,
        cause: &str,
        count_attempt: bool,
    ) -> R<bool> {
        let mut tx = self.write().await?;
        let n = sqlx::query(
            "UPDATE jobs SET state = 'queued', status = 'queued', progress = 0, claimed_by = NULL, \
             heartbeat_at = NULL, run_after = ?, updated_at = ?, \
             attempts = attempts - CASE WHEN ? THEN 0 ELSE 1 END \
             WHERE id = ? AND state = 'running' AND claimed_by = ?",
        )
        .bind(run_after)
        .bind(now_ms())
        .bind(count_attempt)
        .bind(id.to_string())
        .bind(worker)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            event(
                &mut tx,
                id,
                Some(JobState::Running),
                JobState::Queued,
                worker,
                cause,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn reap_stale(&self, stale_before: Millis) -> R<Vec<JobId>> {
        let mut tx = self.write().await?;
        let sql =
            format!("SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'running' AND heartbeat_at < ?");
        let rows = sqlx::query(&sql)
            .bind(stale_before)
            .fetch_all(&mut *tx)
            .await?;
        let now = now_ms();
        let mut touched = Vec::with_capacity(rows.len());
        for row in &rows {
            let job = job_from_row(row)?;
            if job.attempts >= job.max_attempts {
                sqlx::query(
                    "UPDATE jobs SET state = 'failed', status = 'failed', error_code = 'worker_lost', \
                     error_message = 'the worker processing this job stopped responding too many times', \
                     claimed_by = NULL, updated_at = ?, finished_at = ? WHERE id = ?",
                )
                .bind(now)
                .bind(now)
                .bind(job.id.to_string())
                .execute(&mut *tx)
                .await?;
                refund(&mut tx, &job).await?;
                event(
                    &mut tx,
                    job.id,
                    Some(JobState::Running),
                    JobState::Failed,
                    "reaper",
                    "worker_lost",
                )
                .await?;
            } else {
                sqlx::query(
                    "UPDATE jobs SET state = 'queued', status = 'queued', progress = 0, claimed_by = NULL, \
                     heartbeat_at = NULL, run_after = ?, updated_at = ? WHERE id = ?",
                )
                .bind(now)
                .bind(now)
                .bind(job.id.to_string())
                .execute(&mut *tx)
                .await?;
                event(
                    &mut tx,
                    job.id,
                    Some(JobState::Running),
                    JobState::Queued,
                    "reaper",
                    "heartbeat_lost",
                )
                .await?;
            }
            touched.push(job.id);
        }
        tx.commit().await?;
        Ok(touched)
    }

    async fn pending_count(&self) -> R<u64> {
        let mut conn = self.pool.acquire().await?;
        pending_count(&mut conn).await
    }

    async fn count_by_state(&self) -> R<Vec<(JobState, u64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
        Ok(JobState::ALL
            .into_iter()
            .map(|st| {
                let n = rows
                    .iter()
                    .find(|(s, _)| s == st.as_str())
                    .map_or(0, |r| r.1);
                (st, n as u64)
            })
            .collect())
    }

    async fn events(&self, id: JobId) -> R<Vec<JobEvent>> {
        let rows: Vec<(i64, Option<String>, String, String, String)> = sqlx::query_as(
            "SELECT at, from_state, to_state, actor, cause FROM job_events WHERE job_id = ? ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at, from, to, actor, cause)| JobEvent {
                at,
                from,
                to,
                actor,
                cause,
            })
            .collect())
    }

    async fn next_run_after(&self) -> R<Option<Millis>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(run_after) FROM jobs WHERE state = 'queued'")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
