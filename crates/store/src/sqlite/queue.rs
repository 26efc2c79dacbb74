//! The queue: claims, heartbeats, progress, final states, re-queues and the reaper of stale
//! claims. SQLite serialises writers (`BEGIN IMMEDIATE`), so a claim is a select and an update
//! in one write transaction.

use async_trait::async_trait;

use super::sequence_tx::SqliteTx;
use super::tx::*;
use super::{parse_id, SqliteRepo};
use crate::ids::{now_ms, JobId, Millis};
use crate::kinds::JobKind;
use crate::model::*;
use crate::repo::QueueRepo;
use crate::sequence;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

#[async_trait]
impl QueueRepo for SqliteRepo {
    async fn claim_next(&self, worker: &str, kinds: &[JobKind]) -> R<Option<Job>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let placeholders = vec!["?"; kinds.len().max(1)].join(", ");
        let sql = format!(
            "SELECT id FROM jobs WHERE state = 'queued' AND run_after <= ? AND kind IN ({placeholders}) \
             ORDER BY run_after, id LIMIT 1"
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql).bind(now);
        for k in kinds {
            q = q.bind(k.as_str());
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
        let done = sequence::finish(&mut SqliteTx(&mut tx), id, worker, finish, deliveries).await?;
        tx.commit().await?;
        Ok(done)
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
}
