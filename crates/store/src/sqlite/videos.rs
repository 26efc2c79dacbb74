//! Video uploads and the video API's job queries on SQLite.

use async_trait::async_trait;

use super::tx::{charge, charged, event, job_from_row, load, pending_count, refund, JOB_COLUMNS};
use super::{parse_json, SqliteRepo};
use crate::ids::{now_ms, AccountId, JobId, VideoId};
use crate::kinds::JobKind;
use crate::model::*;
use crate::repo::VideoRepo;
use crate::{BlobKey, StoreError};

type R<T> = Result<T, StoreError>;

#[async_trait]
impl VideoRepo for SqliteRepo {
    async fn create_upload(&self, u: &VideoUpload) -> R<()> {
        sqlx::query(
            "INSERT INTO video_uploads (id, account_id, blob, filename, size, info, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(u.id.to_string())
        .bind(u.account.to_string())
        .bind(&u.blob)
        .bind(&u.filename)
        .bind(u.size as i64)
        .bind(u.info.to_string())
        .bind(u.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_upload(&self, account: AccountId, id: VideoId) -> R<Option<VideoUpload>> {
        let row: Option<(BlobKey, String, i64, String, i64)> = sqlx::query_as(
            "SELECT blob, filename, size, info, created_at FROM video_uploads \
             WHERE id = ? AND account_id = ?",
        )
        .bind(id.to_string())
        .bind(account.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some((blob, filename, size, info, created_at)) = row else {
            return Ok(None);
        };
        Ok(Some(VideoUpload {
            id,
            account,
            blob,
            filename,
            size: size as u64,
            info: parse_json(Some(info))?.unwrap_or_default(),
            created_at,
        }))
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

    async fn cancel_job(&self, account: AccountId, id: JobId, actor: &str) -> R<Option<Cancelled>> {
        let mut tx = self.write().await?;
        let Some(job) = load(&mut tx, id).await?.filter(|j| j.account == account) else {
            return Ok(None);
        };
        if job.state.is_final() {
            return Ok(Some(Cancelled::AlreadyFinal(job.state)));
        }
        let now = now_ms();
        sqlx::query(
            "UPDATE jobs SET state = 'failed', status = 'cancelled', error_code = 'cancelled', \
             error_message = 'cancelled by the client', claimed_by = NULL, updated_at = ?, \
             finished_at = ? WHERE id = ?",
        )
        .bind(now)
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        refund(&mut tx, &job).await?;
        event(
            &mut tx,
            id,
            Some(job.state),
            JobState::Failed,
            actor,
            "cancelled",
        )
        .await?;
        tx.commit().await?;
        Ok(Some(Cancelled::Now))
    }

    async fn start_job(
        &self,
        account: AccountId,
        id: JobId,
        actor: &str,
        max_pending: u64,
    ) -> R<Option<Started>> {
        let mut tx = self.write().await?;
        let Some(job) = load(&mut tx, id).await?.filter(|j| j.account == account) else {
            return Ok(None);
        };
        if job.state != JobState::Draft {
            return Ok(Some(Started::NotDraft(job.state)));
        }
        if pending_count(&mut tx).await? >= max_pending {
            return Ok(Some(Started::QueueFull));
        }
        if let Err(balance) = charge(&mut tx, account, id, job.cost).await? {
            return Ok(Some(Started::InsufficientCredits { balance }));
        }
        let now = now_ms();
        sqlx::query(
            "UPDATE jobs SET state = 'queued', status = 'queued', run_after = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(now)
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        event(
            &mut tx,
            id,
            Some(JobState::Draft),
            JobState::Queued,
            actor,
            "started",
        )
        .await?;
        let job = load(&mut tx, id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("job vanished".into()))?;
        tx.commit().await?;
        Ok(Some(Started::Now(Box::new(job))))
    }

    async fn charge_claimed(&self, id: JobId, worker: &str, cost: i64) -> R<Charged> {
        let mut tx = self.write().await?;
        let Some(job) = load(&mut tx, id)
            .await?
            .filter(|j| j.state == JobState::Running && j.claimed_by.as_deref() == Some(worker))
        else {
            return Ok(Charged::NotClaimed);
        };
        if charged(&mut tx, id).await? > 0 {
            return Ok(Charged::Already);
        }
        if let Err(balance) = charge(&mut tx, job.account, id, cost).await? {
            return Ok(Charged::InsufficientCredits { balance });
        }
        sqlx::query("UPDATE jobs SET cost = ?, updated_at = ? WHERE id = ?")
            .bind(cost)
            .bind(now_ms())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Charged::Now)
    }
}
