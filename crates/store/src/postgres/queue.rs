//! The queue: claims, heartbeats, progress, final states, re-queues and the reaper of stale
//! claims, for many processes at once: a claim locks its row with `FOR UPDATE SKIP LOCKED`, the
//! reaper skips rows a finishing worker holds, and re-queues send `NOTIFY`.

use async_trait::async_trait;

use super::sequence_tx::PgTx;
use super::tx::*;
use super::{parse_id, PgRepo};
use crate::ids::{now_ms, JobId, Millis};
use crate::kinds::JobKind;
use crate::model::*;
use crate::repo::QueueRepo;
use crate::sequence;
use crate::{StoreError, WorkNotices};

type R<T> = Result<T, StoreError>;

#[async_trait]
impl QueueRepo for PgRepo {
    /// One statement: the oldest runnable row that no other transaction holds is locked
    /// (`SKIP LOCKED` passes over rows other workers are claiming) and marked as this worker's.
    async fn claim_next(&self, worker: &str, kinds: &[JobKind]) -> R<Option<Job>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let claimed: Option<String> = sqlx::query_scalar(
            "UPDATE jobs SET state = 'running', status = 'processing', claimed_by = $1, \
             heartbeat_at = $2, attempts = attempts + 1, updated_at = $2 \
             WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_after <= $2 \
                         AND kind = ANY($3) ORDER BY run_after, id LIMIT 1 \
                         FOR UPDATE SKIP LOCKED) \
             RETURNING id",
        )
        .bind(worker)
        .bind(now)
        .bind(&kinds)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = claimed else {
            return Ok(None);
        };
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
            "UPDATE jobs SET heartbeat_at = $1 WHERE id = $2 AND state = 'running' AND claimed_by = $3",
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
            "UPDATE jobs SET status = $1, progress = $2, heartbeat_at = $3, updated_at = $4 \
             WHERE id = $5 AND state = 'running' AND claimed_by = $6",
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
        let done = sequence::finish(&mut PgTx(&mut tx), id, worker, finish, deliveries).await?;
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
             heartbeat_at = NULL, run_after = $1, updated_at = $2, \
             attempts = attempts - CASE WHEN $3 THEN 0 ELSE 1 END \
             WHERE id = $4 AND state = 'running' AND claimed_by = $5",
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
            super::notify_work(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn reap_stale(&self, stale_before: Millis) -> R<Vec<JobId>> {
        let mut tx = self.write().await?;
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'running' AND heartbeat_at < $1 \
             FOR UPDATE SKIP LOCKED"
        );
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
                     claimed_by = NULL, updated_at = $1, finished_at = $2 WHERE id = $3",
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
                     heartbeat_at = NULL, run_after = $1, updated_at = $2 WHERE id = $3",
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
        if !touched.is_empty() {
            super::notify_work(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(touched)
    }

    async fn work_notices(&self) -> R<Option<Box<dyn WorkNotices>>> {
        Ok(Some(Box::new(super::PgNotices::open(&self.pool).await?)))
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
