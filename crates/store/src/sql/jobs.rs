//! Jobs' lifecycle: created (charged, idempotent), read, listed, started, cancelled, charged
//! late, and their audit trail. The money-moving sequences are `sequence`'s.

use async_trait::async_trait;

use super::schema::JOB_COLUMNS;
use super::value::query;
use super::{rows, sequence, statements as st, Backend, Conn, SqlRepo};
use crate::ids::{AccountId, JobId};
use crate::kinds::JobKind;
use crate::model::*;
use crate::repo::JobRepo;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

#[async_trait]
impl<B: Backend> JobRepo for SqlRepo<B> {
    async fn create_job(&self, job: NewJob, idem: Option<IdemRecord>) -> R<CreateOutcome> {
        let mut tx = self.db.begin().await?;
        let out = sequence::create_job(&mut tx, job, idem).await?;
        // Anything else wrote nothing that should stay; dropping the transaction rolls it back.
        if matches!(out, CreateOutcome::Created(_)) {
            B::commit(tx).await?;
        }
        Ok(out)
    }

    async fn get_job(&self, id: JobId) -> R<Option<Job>> {
        st::load(&mut self.db.conn().await?, id).await
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
            "SELECT {} FROM jobs WHERE account_id = $1 AND kind = $2 \
             AND (CAST($3 AS TEXT) IS NULL OR state = $3) ORDER BY id DESC LIMIT $4 OFFSET $5",
            *JOB_COLUMNS
        );
        let q = query(sql)
            .bind(account)
            .bind(kind.as_str())
            .bind(state.map(JobState::as_str))
            .bind(limit as i64)
            .bind(offset as i64);
        let rows = self.db.conn().await?.fetch_all(q).await?;
        rows.iter().map(rows::job).collect()
    }

    async fn start_job(
        &self,
        account: AccountId,
        id: JobId,
        actor: &str,
        max_pending: u64,
    ) -> R<Option<Started>> {
        let mut tx = self.db.begin().await?;
        let out = sequence::start_job(&mut tx, account, id, actor, max_pending).await?;
        B::commit(tx).await?;
        Ok(out)
    }

    async fn cancel_job(&self, account: AccountId, id: JobId, actor: &str) -> R<Option<Cancelled>> {
        let mut tx = self.db.begin().await?;
        let out = sequence::cancel_job(&mut tx, account, id, actor).await?;
        B::commit(tx).await?;
        Ok(out)
    }

    async fn charge_claimed(&self, id: JobId, worker: &str, cost: i64) -> R<Charged> {
        let mut tx = self.db.begin().await?;
        let out = sequence::charge_claimed(&mut tx, id, worker, cost).await?;
        B::commit(tx).await?;
        Ok(out)
    }

    async fn events(&self, id: JobId) -> R<Vec<JobEvent>> {
        let q = query(
            "SELECT at, from_state, to_state, actor, cause FROM job_events \
             WHERE job_id = $1 ORDER BY id",
        )
        .bind(id);
        let rows = self.db.conn().await?.fetch_all(q).await?;
        rows.iter()
            .map(|r| {
                Ok(JobEvent {
                    at: r.get("at")?,
                    from: r.parsed_opt("from_state")?,
                    to: r.parsed("to_state")?,
                    actor: r.get("actor")?,
                    cause: r.get("cause")?,
                })
            })
            .collect()
    }
}
