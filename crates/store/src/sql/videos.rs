//! Uploaded videos.

use async_trait::async_trait;

use super::value::query;
use super::{Backend, Conn, SqlRepo};
use crate::ids::{AccountId, VideoId};
use crate::model::*;
use crate::repo::VideoRepo;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

#[async_trait]
impl<B: Backend> VideoRepo for SqlRepo<B> {
    async fn create_upload(&self, u: &VideoUpload) -> R<()> {
        let q = query(
            "INSERT INTO video_uploads (id, account_id, blob, filename, size, info, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(u.id)
        .bind(u.account)
        .bind(&u.blob)
        .bind(&u.filename)
        .bind(u.size as i64)
        .bind(u.info.to_string())
        .bind(u.created_at);
        self.db.conn().await?.execute(q).await?;
        Ok(())
    }

    async fn get_upload(&self, account: AccountId, id: VideoId) -> R<Option<VideoUpload>> {
        let q = query(
            "SELECT blob, filename, size, info, created_at FROM video_uploads \
             WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(account);
        let row = self.db.conn().await?.fetch_optional(q).await?;
        row.map(|r| {
            Ok(VideoUpload {
                id,
                account,
                blob: r.get("blob")?,
                filename: r.get("filename")?,
                size: r.get::<i64>("size")? as u64,
                info: r.json("info")?,
                created_at: r.get("created_at")?,
            })
        })
        .transpose()
    }
}
