//! [`Tx`] on a PostgreSQL transaction: the shared sequences (`crate::sequence`) run on these.

use sqlx::PgConnection;

use super::tx;
use crate::ids::{AccountId, JobId, KeyId, Millis};
use crate::model::*;
use crate::sequence::{StateChange, Tx};
use crate::StoreError;

type R<T> = Result<T, StoreError>;

pub(super) struct PgTx<'c>(pub &'c mut PgConnection);

impl Tx for PgTx<'_> {
    async fn load(&mut self, id: JobId) -> R<Option<Job>> {
        tx::load_locked(self.0, id).await
    }

    async fn insert_job(&mut self, job: &NewJob, state: JobState, now: Millis) -> R<()> {
        sqlx::query(
            "INSERT INTO jobs (id, account_id, key_id, kind, mode, spec, input_key, state, status, \
             max_attempts, run_after, cost, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(job.id.to_string())
        .bind(job.account.to_string())
        .bind(job.key.to_string())
        .bind(job.kind.as_str())
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
        .execute(&mut *self.0)
        .await?;
        if state == JobState::Queued {
            super::notify_work(self.0).await?;
        }
        Ok(())
    }

    async fn change_state(&mut self, id: JobId, change: StateChange<'_>, now: Millis) -> R<()> {
        let queued = matches!(change, StateChange::Queue);
        let q = match change {
            StateChange::Queue => sqlx::query(
                "UPDATE jobs SET state = 'queued', status = 'queued', run_after = $1, \
                 updated_at = $2 WHERE id = $3",
            )
            .bind(now)
            .bind(now),
            StateChange::Complete { result } => sqlx::query(
                "UPDATE jobs SET state = 'completed', status = 'completed', progress = 100, \
                 result = $1, claimed_by = NULL, updated_at = $2, finished_at = $3 WHERE id = $4",
            )
            .bind(result.to_string())
            .bind(now)
            .bind(now),
            StateChange::Fail {
                status,
                code,
                message,
            } => sqlx::query(
                "UPDATE jobs SET state = 'failed', status = $1, error_code = $2, error_message = $3, \
                 claimed_by = NULL, updated_at = $4, finished_at = $5 WHERE id = $6",
            )
            .bind(status.to_owned())
            .bind(code.to_owned())
            .bind(message.to_owned())
            .bind(now)
            .bind(now),
        };
        q.bind(id.to_string()).execute(&mut *self.0).await?;
        if queued {
            super::notify_work(self.0).await?;
        }
        Ok(())
    }

    async fn set_cost(&mut self, id: JobId, cost: i64, now: Millis) -> R<()> {
        sqlx::query("UPDATE jobs SET cost = $1, updated_at = $2 WHERE id = $3")
            .bind(cost)
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn event(
        &mut self,
        job: JobId,
        from: Option<JobState>,
        to: JobState,
        actor: &str,
        cause: &str,
    ) -> R<()> {
        tx::event(self.0, job, from, to, actor, cause).await
    }

    async fn charge(&mut self, account: AccountId, job: JobId, cost: i64) -> R<Result<(), i64>> {
        tx::charge(self.0, account, job, cost).await
    }

    async fn charged(&mut self, job: JobId) -> R<i64> {
        tx::charged(self.0, job).await
    }

    async fn refund(&mut self, job: &Job) -> R<()> {
        tx::refund(self.0, job).await
    }

    /// Counted under a transaction-scoped advisory lock: creates and starts on different nodes
    /// take turns between this count and their commit, so the queue bound is exact (SQLite gets
    /// the same from its single writer).
    async fn pending_count(&mut self) -> R<u64> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('cutout_queue_bound'))")
            .execute(&mut *self.0)
            .await?;
        tx::pending_count(self.0).await
    }

    async fn idem_get(&mut self, key: KeyId, idem_key: &str) -> R<Option<IdemRecord>> {
        tx::idem_get(self.0, key, idem_key).await
    }

    async fn idem_insert(&mut self, rec: &IdemRecord) -> R<bool> {
        tx::idem_insert(self.0, rec).await
    }

    async fn insert_deliveries(&mut self, job: &Job, deliveries: Vec<NewDelivery>) -> R<()> {
        tx::insert_deliveries(self.0, job, deliveries).await
    }
}
