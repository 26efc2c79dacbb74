//! Jobs' lifecycle: created (charged, idempotent), read, listed, started, cancelled, charged
//! late, and their audit trail. The money-moving sequences are `crate::sequence`'s.

use async_trait::async_trait;

use super::sequence_tx::SqliteTx;
use super::tx::*;
use super::SqliteRepo;
use crate::ids::{AccountId, JobId};
use crate::kinds::JobKind;
use crate::model::*;
use crate::repo::JobRepo;
use crate::sequence;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

#[async_trait]
impl JobRepo for SqliteRepo {
    async fn create_job(&self, job: NewJob, idem: Option<IdemRecord>) -> R<CreateOutcome> {
        let mut tx = self.write().await?;
        let out = sequence::create_job(&mut SqliteTx(&mut tx), job, idem).await?;
        // Anything else wrote nothing that should stay; dropping the transaction rolls it back.
        if matches!(out, CreateOutcome::Created(_)) {
            tx.commit().await?;
        }
        Ok(out)
    }

    async fn get_job(&self, id: JobId) -> R<Option<Job>> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, id).await
    }

    async fn list_jobs(
        &self,
        account: AccountId,
        kind: JobKind,
        state: Option<JobState>,
        limit: u32,
        offset: u32,
    ) -> R<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE account_id = ? AND kind = ? \
             AND (? IS NULL OR state = ?) ORDER BY id DESC LIMIT ? OFFSET ?"
        );
        let st = state.map(JobState::as_str);
        let rows = sqlx::query(&sql)
            .bind(account.to_string())
            .bind(kind.as_str())
            .bind(st)
            .bind(st)
            .bind(limit as i64)
            .bind(offset as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn start_job(
        &self,
        account: AccountId,
        id: JobId,
        actor: &str,
        max_pending: u64,
    ) -> R<Option<Started>> {
        let mut tx = self.write().await?;
        let out =
            sequence::start_job(&mut SqliteTx(&mut tx), account, id, actor, max_pending).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn cancel_job(&self, account: AccountId, id: JobId, actor: &str) -> R<Option<Cancelled>> {
        let mut tx = self.write().await?;
        let out = sequence::cancel_job(&mut SqliteTx(&mut tx), account, id, actor).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn charge_claimed(&self, id: JobId, worker: &str, cost: i64) -> R<Charged> {
        let mut tx = self.write().await?;
        let out = sequence::charge_claimed(&mut SqliteTx(&mut tx), id, worker, cost).await?;
        tx.commit().await?;
        Ok(out)
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
}
