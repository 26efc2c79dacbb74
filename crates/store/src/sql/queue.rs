//! The queue: claims, heartbeats, progress, final states, re-queues and the reaper of stale
//! claims, for many processes at once. A claim is one `UPDATE ... WHERE id = (SELECT ...)`: on
//! PostgreSQL the inner select takes `FOR UPDATE SKIP LOCKED`, passing over rows other workers
//! are claiming; SQLite runs it inside a `BEGIN IMMEDIATE` transaction, which no other writer
//! can interleave with. Whatever queues work sends the dialect's `NOTIFY` in its transaction.

use async_trait::async_trait;

use super::schema::{placeholders, JOB_COLUMNS};
use super::value::query;
use super::{rows, sequence, statements as st, Backend, Conn, SqlRepo};
use crate::ids::{now_ms, JobId, Millis};
use crate::kinds::{JobKind, JobPhase};
use crate::model::*;
use crate::repo::QueueRepo;
use crate::{StoreError, WorkNotices};

type R<T> = Result<T, StoreError>;

#[async_trait]
impl<B: Backend> QueueRepo for SqlRepo<B> {
    async fn claim_next(&self, worker: &str, kinds: &[JobKind]) -> R<Option<Job>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let mut tx = self.db.begin().await?;
        let now = now_ms();
        let sql = format!(
            "UPDATE jobs SET state = 'running', status = 'processing', claimed_by = $1, \
             heartbeat_at = $2, attempts = attempts + 1, updated_at = $2 \
             WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_after <= $2 \
                         AND kind IN ({}) ORDER BY run_after, id LIMIT 1 {}) \
             RETURNING id",
            placeholders(3, kinds.len()),
            <B::Conn as Conn>::SKIP_LOCKED
        );
        let mut q = query(sql).bind(worker).bind(now);
        for k in kinds {
            q = q.bind(k.as_str());
        }
        let Some(row) = tx.fetch_optional(q).await? else {
            return Ok(None);
        };
        let id: JobId = row.parsed("id")?;
        st::event(
            &mut tx,
            id,
            Some(JobState::Queued),
            JobState::Running,
            worker,
            "claimed",
        )
        .await?;
        let job = st::load(&mut tx, id).await?;
        B::commit(tx).await?;
        Ok(job)
    }

    async fn heartbeat(&self, id: JobId, worker: &str) -> R<bool> {
        let q = query(
            "UPDATE jobs SET heartbeat_at = $1 WHERE id = $2 AND state = 'running' \
             AND claimed_by = $3",
        )
        .bind(now_ms())
        .bind(id)
        .bind(worker);
        Ok(self.db.conn().await?.execute(q).await? == 1)
    }

    async fn set_progress(
        &self,
        id: JobId,
        worker: &str,
        status: JobPhase,
        progress: u8,
    ) -> R<bool> {
        let q = query(
            "UPDATE jobs SET status = $1, progress = $2, heartbeat_at = $3, updated_at = $3 \
             WHERE id = $4 AND state = 'running' AND claimed_by = $5",
        )
        .bind(status.as_str())
        .bind(progress.min(100) as i64)
        .bind(now_ms())
        .bind(id)
        .bind(worker);
        Ok(self.db.conn().await?.execute(q).await? == 1)
    }

    async fn finish(
        &self,
        id: JobId,
        worker: &str,
        finish: Finish,
        deliveries: Vec<NewDelivery>,
    ) -> R<bool> {
        let mut tx = self.db.begin().await?;
        let done = sequence::finish(&mut tx, id, worker, finish, deliveries).await?;
        B::commit(tx).await?;
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
        let mut tx = self.db.begin().await?;
        let q = query(
            "UPDATE jobs SET state = 'queued', status = 'queued', progress = 0, \
             claimed_by = NULL, heartbeat_at = NULL, run_after = $1, updated_at = $2, \
             attempts = attempts - CASE WHEN $3 THEN 0 ELSE 1 END \
             WHERE id = $4 AND state = 'running' AND claimed_by = $5",
        )
        .bind(run_after)
        .bind(now_ms())
        .bind(count_attempt)
        .bind(id)
        .bind(worker);
        let n = tx.execute(q).await?;
        if n == 1 {
            let (from, to) = (Some(JobState::Running), JobState::Queued);
            st::event(&mut tx, id, from, to, worker, cause).await?;
            tx.execute_opt(<B::Conn as Conn>::NOTIFY_WORK).await?;
        }
        B::commit(tx).await?;
        Ok(n == 1)
    }

    async fn reap_stale(&self, stale_before: Millis) -> R<Vec<JobId>> {
        let mut tx = self.db.begin().await?;
        // Rows a finishing worker holds are skipped: it is alive after all.
        let sql = format!(
            "SELECT {} FROM jobs WHERE state = 'running' AND heartbeat_at < $1 {}",
            *JOB_COLUMNS,
            <B::Conn as Conn>::SKIP_LOCKED
        );
        let stale = tx.fetch_all(query(sql).bind(stale_before)).await?;
        let mut touched = Vec::with_capacity(stale.len());
        for row in &stale {
            let job = rows::job(row)?;
            reap_one(&mut tx, &job).await?;
            touched.push(job.id);
        }
        if !touched.is_empty() {
            tx.execute_opt(<B::Conn as Conn>::NOTIFY_WORK).await?;
        }
        B::commit(tx).await?;
        Ok(touched)
    }

    async fn pending_count(&self) -> R<u64> {
        st::pending_count(&mut self.db.conn().await?).await
    }

    async fn count_by_state(&self) -> R<Vec<(JobState, u64)>> {
        let q = query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state");
        let rows = self.db.conn().await?.fetch_all(q).await?;
        let mut counts = Vec::with_capacity(rows.len());
        for r in &rows {
            counts.push((r.get::<String>("state")?, r.get::<i64>("n")?));
        }
        Ok(JobState::ALL
            .into_iter()
            .map(|st| {
                let n = counts
                    .iter()
                    .find(|(s, _)| s == st.as_str())
                    .map_or(0, |r| r.1);
                (st, n as u64)
            })
            .collect())
    }

    async fn work_notices(&self) -> R<Option<Box<dyn WorkNotices>>> {
        self.db.work_notices().await
    }
}

/// A stale job goes back to the queue, or fails (refunded) when out of attempts.
async fn reap_one(tx: &mut impl Conn, job: &Job) -> R<()> {
    let now = now_ms();
    if job.attempts >= job.max_attempts {
        let q = query(
            "UPDATE jobs SET state = 'failed', status = 'failed', error_code = 'worker_lost', \
             error_message = 'the worker processing this job stopped responding too many times', \
             claimed_by = NULL, updated_at = $1, finished_at = $1 WHERE id = $2",
        );
        tx.execute(q.bind(now).bind(job.id)).await?;
        st::refund(tx, job).await?;
        let (from, to) = (Some(JobState::Running), JobState::Failed);
        st::event(tx, job.id, from, to, "reaper", "worker_lost").await
    } else {
        let q = query(
            "UPDATE jobs SET state = 'queued', status = 'queued', progress = 0, \
             claimed_by = NULL, heartbeat_at = NULL, run_after = $1, updated_at = $1 WHERE id = $2",
        );
        tx.execute(q.bind(now).bind(job.id)).await?;
        let (from, to) = (Some(JobState::Running), JobState::Queued);
        st::event(tx, job.id, from, to, "reaper", "heartbeat_lost").await
    }
}
