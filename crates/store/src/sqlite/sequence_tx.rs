//! [`Tx`] on a SQLite transaction: the shared sequences (`crate::sequence`) run on these.

use sqlx::SqliteConnection;

use super::tx;
use crate::ids::{AccountId, JobId, KeyId, Millis};
use crate::model::*;
use crate::sequence::{StateChange, Tx};
use crate::StoreError;

type R<T> = Result<T, StoreError>;

pub(super) struct SqliteTx<'c>(pub &'c mut SqliteConnection);

impl Tx for SqliteTx<'_> {
    async fn load(&mut self, id: JobId) -> R<Option<Job>> {
        tx::load(self.0, id).await
    }

    async fn insert_job(&mut self, job: &NewJob, state: JobState, now: Millis) -> R<()> {
        sqlx::query(
            "INSERT INTO jobs (id, account_id, key_id, kind, mode, spec, input_key, state, status, \
             max_attempts, run_after, cost, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        Ok(())
    }

    async fn change_state(&mut self, id: JobId, change: StateChange<'_>, now: Millis) -> R<()> {
        let q = match change {
            StateChange::Queue => sqlx::query(
                "UPDATE jobs SET state = 'queued', status = 'queued', run_after = ?, \
                 updated_at = ? WHERE id = ?",
            )
            .bind(now)
            .bind(now),
            StateChange::Complete { result } => sqlx::query(
                "UPDATE jobs SET state = 'completed', status = 'completed', progress = 100, \
                 result = ?, claimed_by = NULL, updated_at = ?, finished_at = ? WHERE id = ?",
            )
            .bind(result.to_string())
            .bind(now)
            .bind(now),
            StateChange::Fail {
                status,
                code,
                message,
            } => sqlx::query(
                "UPDATE jobs SET state = 'failed', status = ?, error_code = ?, error_message = ?, \
                 claimed_by = NULL, updated_at = ?, finished_at = ? WHERE id = ?",
            )
            .bind(status.to_owned())
            .bind(code.to_owned())
            .bind(message.to_owned())
            .bind(now)
            .bind(now),
        };
        q.bind(id.to_string()).execute(&mut *self.0).await?;
        Ok(())
    }

    async fn set_cost(&mut self, id: JobId, cost: i64, now: Millis) -> R<()> {
        sqlx::query("UPDATE jobs SET cost = ?, updated_at = ? WHERE id = ?")
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

    async fn pending_count(&mut self) -> R<u64> {
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
