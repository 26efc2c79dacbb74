//! Assets and conversions on PostgreSQL.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::{parse_id, PgRepo};
use crate::ids::{now_ms, AccountId, AssetId};
use crate::model::*;
use crate::repo::AssetRepo;
use crate::{BlobKey, StoreError};

type R<T> = Result<T, StoreError>;

const ASSET_COLUMNS: &str = "id, account_id, name, mime, size, width, height, sha256, blob, \
                             custom, source_asset_id, created_at, updated_at";
const CONVERSION_COLUMNS: &str = "name, blob, mime, size, width, height, created_at, updated_at";

fn asset_from_row(row: &PgRow) -> R<Asset> {
    let custom: String = row.try_get("custom")?;
    let source: Option<String> = row.try_get("source_asset_id")?;
    Ok(Asset {
        id: parse_id(&row.try_get::<String, _>("id")?, "asset")?,
        account: parse_id(&row.try_get::<String, _>("account_id")?, "account")?,
        name: row.try_get("name")?,
        mime: row.try_get("mime")?,
        size: row.try_get::<i64, _>("size")? as u64,
        width: row.try_get::<i64, _>("width")? as u32,
        height: row.try_get::<i64, _>("height")? as u32,
        sha256: row.try_get("sha256")?,
        blob: row.try_get("blob")?,
        custom: serde_json::from_str(&custom).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        source: source.map(|s| parse_id(&s, "asset")).transpose()?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn conversion_from_row(row: &PgRow) -> R<Conversion> {
    Ok(Conversion {
        name: row.try_get("name")?,
        blob: row.try_get("blob")?,
        mime: row.try_get("mime")?,
        size: row.try_get::<i64, _>("size")? as u64,
        width: row.try_get::<i64, _>("width")? as u32,
        height: row.try_get::<i64, _>("height")? as u32,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The account's asset, its row locked until the transaction ends so a read-modify-write
/// (merge patch, conversion switch, delete) is not lost to a concurrent one on another node.
async fn owned(conn: &mut sqlx::PgConnection, account: AccountId, id: AssetId) -> R<Option<Asset>> {
    let row = sqlx::query(&format!(
        "SELECT {ASSET_COLUMNS} FROM assets WHERE id = $1 AND account_id = $2 FOR UPDATE"
    ))
    .bind(id.to_string())
    .bind(account.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(asset_from_row).transpose()
}

#[async_trait]
impl AssetRepo for PgRepo {
    async fn create_asset(&self, a: &Asset) -> R<()> {
        sqlx::query(&format!(
            "INSERT INTO assets ({ASSET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(a.id.to_string())
        .bind(a.account.to_string())
        .bind(&a.name)
        .bind(&a.mime)
        .bind(a.size as i64)
        .bind(a.width as i64)
        .bind(a.height as i64)
        .bind(&a.sha256)
        .bind(&a.blob)
        .bind(a.custom.to_string())
        .bind(a.source.map(|s| s.to_string()))
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_asset(&self, account: AccountId, id: AssetId) -> R<Option<Asset>> {
        let mut conn = self.pool.acquire().await?;
        owned(&mut conn, account, id).await
    }

    async fn list_assets(
        &self,
        account: AccountId,
        before: Option<AssetId>,
        limit: u32,
    ) -> R<Vec<Asset>> {
        // UUIDv7 text sorts like the ids' creation times; "~" sorts after every id.
        let rows = sqlx::query(&format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE account_id = $1 AND id < $2 \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(account.to_string())
        .bind(before.map_or_else(|| "~".to_owned(), |b| b.to_string()))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(asset_from_row).collect()
    }

    async fn patch_asset_custom(
        &self,
        account: AccountId,
        id: AssetId,
        patch: &serde_json::Value,
    ) -> R<Option<Asset>> {
        let mut tx = self.write().await?;
        let Some(mut asset) = owned(&mut tx, account, id).await? else {
            return Ok(None);
        };
        crate::merge_patch(&mut asset.custom, patch);
        asset.updated_at = now_ms();
        sqlx::query("UPDATE assets SET custom = $1, updated_at = $2 WHERE id = $3")
            .bind(asset.custom.to_string())
            .bind(asset.updated_at)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(asset))
    }

    async fn delete_asset(&self, account: AccountId, id: AssetId) -> R<Option<Vec<BlobKey>>> {
        let mut tx = self.write().await?;
        let Some(asset) = owned(&mut tx, account, id).await? else {
            return Ok(None);
        };
        let mut blobs: Vec<BlobKey> =
            sqlx::query_scalar("SELECT blob FROM asset_conversions WHERE asset_id = $1")
                .bind(id.to_string())
                .fetch_all(&mut *tx)
                .await?;
        blobs.push(asset.blob);
        sqlx::query("DELETE FROM asset_conversions WHERE asset_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM assets WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(blobs))
    }

    async fn put_conversion(
        &self,
        account: AccountId,
        asset: AssetId,
        c: &Conversion,
    ) -> R<PutConversion> {
        let mut tx = self.write().await?;
        if owned(&mut tx, account, asset).await?.is_none() {
            return Ok(PutConversion::NoAsset);
        }
        let old: Option<BlobKey> = sqlx::query_scalar(
            "SELECT blob FROM asset_conversions WHERE asset_id = $1 AND name = $2",
        )
        .bind(asset.to_string())
        .bind(&c.name)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO asset_conversions (asset_id, name, blob, mime, size, width, height, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (asset_id, name) DO UPDATE SET blob = excluded.blob, \
             mime = excluded.mime, size = excluded.size, width = excluded.width, \
             height = excluded.height, updated_at = excluded.updated_at",
        )
        .bind(asset.to_string())
        .bind(&c.name)
        .bind(&c.blob)
        .bind(&c.mime)
        .bind(c.size as i64)
        .bind(c.width as i64)
        .bind(c.height as i64)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE assets SET updated_at = $1 WHERE id = $2")
            .bind(c.updated_at)
            .bind(asset.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(match old {
            Some(old_blob) => PutConversion::Replaced { old_blob },
            None => PutConversion::Created,
        })
    }

    async fn get_conversion(
        &self,
        account: AccountId,
        asset: AssetId,
        name: &str,
    ) -> R<Option<Conversion>> {
        let row = sqlx::query(&format!(
            "SELECT c.{} FROM asset_conversions c JOIN assets a ON a.id = c.asset_id \
             WHERE a.id = $1 AND a.account_id = $2 AND c.name = $3",
            CONVERSION_COLUMNS.replace(", ", ", c.")
        ))
        .bind(asset.to_string())
        .bind(account.to_string())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(conversion_from_row).transpose()
    }

    async fn list_conversions(&self, account: AccountId, asset: AssetId) -> R<Vec<Conversion>> {
        let rows = sqlx::query(&format!(
            "SELECT c.{} FROM asset_conversions c JOIN assets a ON a.id = c.asset_id \
             WHERE a.id = $1 AND a.account_id = $2 ORDER BY c.name",
            CONVERSION_COLUMNS.replace(", ", ", c.")
        ))
        .bind(asset.to_string())
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(conversion_from_row).collect()
    }
}
