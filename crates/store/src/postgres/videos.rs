//! Video uploads and the video API's job queries on PostgreSQL.

use async_trait::async_trait;

use super::{parse_json, PgRepo};
use crate::ids::{AccountId, VideoId};
use crate::model::*;
use crate::repo::VideoRepo;
use crate::{BlobKey, StoreError};

type R<T> = Result<T, StoreError>;

#[async_trait]
impl VideoRepo for PgRepo {
    async fn create_upload(&self, u: &VideoUpload) -> R<()> {
        sqlx::query(
            "INSERT INTO video_uploads (id, account_id, blob, filename, size, info, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
             WHERE id = $1 AND account_id = $2",
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
}
