//! Assets and their conversions, every call scoped by account.

use async_trait::async_trait;

use super::schema::{placeholders, ASSETS, ASSET_COLUMNS};
use super::value::query;
use super::{rows, Backend, Conn, SqlRepo};
use crate::ids::{now_ms, AccountId, AssetId};
use crate::model::*;
use crate::repo::AssetRepo;
use crate::{BlobKey, StoreError};

type R<T> = Result<T, StoreError>;

const CONVERSION_COLUMNS: &str =
    "c.name, c.blob, c.mime, c.size, c.width, c.height, c.created_at, c.updated_at";

/// The account's asset, its row locked until the transaction ends where the engine locks rows,
/// so a read-modify-write (merge patch, conversion switch, delete) is not lost to a concurrent
/// one on another node.
async fn owned<C: Conn>(c: &mut C, account: AccountId, id: AssetId) -> R<Option<Asset>> {
    let sql = format!(
        "SELECT {} FROM assets WHERE id = $1 AND account_id = $2 {}",
        *ASSET_COLUMNS,
        C::ROW_LOCK
    );
    let row = c.fetch_optional(query(sql).bind(id).bind(account)).await?;
    row.as_ref().map(rows::asset).transpose()
}

#[async_trait]
impl<B: Backend> AssetRepo for SqlRepo<B> {
    async fn create_asset(&self, a: &Asset) -> R<()> {
        let sql = format!(
            "INSERT INTO assets ({}) VALUES ({})",
            *ASSET_COLUMNS,
            placeholders(1, ASSETS.columns.len())
        );
        let q = query(sql)
            .bind(a.id)
            .bind(a.account)
            .bind(&a.name)
            .bind(&a.mime)
            .bind(a.size as i64)
            .bind(a.width as i64)
            .bind(a.height as i64)
            .bind(&a.sha256)
            .bind(&a.blob)
            .bind(a.custom.to_string())
            .bind(a.source)
            .bind(a.created_at)
            .bind(a.updated_at);
        self.db.conn().await?.execute(q).await?;
        Ok(())
    }

    async fn get_asset(&self, account: AccountId, id: AssetId) -> R<Option<Asset>> {
        let sql = format!(
            "SELECT {} FROM assets WHERE id = $1 AND account_id = $2",
            *ASSET_COLUMNS
        );
        let q = query(sql).bind(id).bind(account);
        let row = self.db.conn().await?.fetch_optional(q).await?;
        row.as_ref().map(rows::asset).transpose()
    }

    async fn list_assets(
        &self,
        account: AccountId,
        before: Option<AssetId>,
        limit: u32,
    ) -> R<Vec<Asset>> {
        // UUIDv7 text sorts like the ids' creation times; "~" sorts after every id.
        let sql = format!(
            "SELECT {} FROM assets WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            *ASSET_COLUMNS
        );
        let q = query(sql)
            .bind(account)
            .bind(before.map_or_else(|| "~".to_owned(), |b| b.to_string()))
            .bind(limit as i64);
        let rows = self.db.conn().await?.fetch_all(q).await?;
        rows.iter().map(rows::asset).collect()
    }

    async fn patch_asset_custom(
        &self,
        account: AccountId,
        id: AssetId,
        patch: &serde_json::Value,
    ) -> R<Option<Asset>> {
        let mut tx = self.db.begin().await?;
        let Some(mut asset) = owned(&mut tx, account, id).await? else {
            return Ok(None);
        };
        crate::merge_patch(&mut asset.custom, patch);
        asset.updated_at = now_ms();
        let q = query("UPDATE assets SET custom = $1, updated_at = $2 WHERE id = $3")
            .bind(asset.custom.to_string())
            .bind(asset.updated_at)
            .bind(id);
        tx.execute(q).await?;
        B::commit(tx).await?;
        Ok(Some(asset))
    }

    async fn delete_asset(&self, account: AccountId, id: AssetId) -> R<Option<Vec<BlobKey>>> {
        let mut tx = self.db.begin().await?;
        let Some(asset) = owned(&mut tx, account, id).await? else {
            return Ok(None);
        };
        let q = query("SELECT blob FROM asset_conversions WHERE asset_id = $1").bind(id);
        let mut blobs = tx
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| r.get::<BlobKey>("blob"))
            .collect::<R<Vec<_>>>()?;
        blobs.push(asset.blob);
        tx.execute(query("DELETE FROM asset_conversions WHERE asset_id = $1").bind(id))
            .await?;
        tx.execute(query("DELETE FROM assets WHERE id = $1").bind(id))
            .await?;
        B::commit(tx).await?;
        Ok(Some(blobs))
    }

    async fn put_conversion(
        &self,
        account: AccountId,
        asset: AssetId,
        c: &Conversion,
    ) -> R<PutConversion> {
        let mut tx = self.db.begin().await?;
        if owned(&mut tx, account, asset).await?.is_none() {
            return Ok(PutConversion::NoAsset);
        }
        let q = query("SELECT blob FROM asset_conversions WHERE asset_id = $1 AND name = $2")
            .bind(asset)
            .bind(&c.name);
        let old: Option<BlobKey> = tx.fetch_optional(q).await?.map(|r| r.first()).transpose()?;
        let q = query(
            "INSERT INTO asset_conversions (asset_id, name, blob, mime, size, width, height, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (asset_id, name) DO UPDATE SET blob = excluded.blob, \
             mime = excluded.mime, size = excluded.size, width = excluded.width, \
             height = excluded.height, updated_at = excluded.updated_at",
        )
        .bind(asset)
        .bind(&c.name)
        .bind(&c.blob)
        .bind(&c.mime)
        .bind(c.size as i64)
        .bind(c.width as i64)
        .bind(c.height as i64)
        .bind(c.created_at)
        .bind(c.updated_at);
        tx.execute(q).await?;
        let q = query("UPDATE assets SET updated_at = $1 WHERE id = $2")
            .bind(c.updated_at)
            .bind(asset);
        tx.execute(q).await?;
        B::commit(tx).await?;
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
        let sql = format!(
            "SELECT {CONVERSION_COLUMNS} FROM asset_conversions c JOIN assets a \
             ON a.id = c.asset_id WHERE a.id = $1 AND a.account_id = $2 AND c.name = $3"
        );
        let q = query(sql).bind(asset).bind(account).bind(name);
        let row = self.db.conn().await?.fetch_optional(q).await?;
        row.as_ref().map(rows::conversion).transpose()
    }

    async fn list_conversions(&self, account: AccountId, asset: AssetId) -> R<Vec<Conversion>> {
        let sql = format!(
            "SELECT {CONVERSION_COLUMNS} FROM asset_conversions c JOIN assets a \
             ON a.id = c.asset_id WHERE a.id = $1 AND a.account_id = $2 ORDER BY c.name"
        );
        let q = query(sql).bind(asset).bind(account);
        let rows = self.db.conn().await?.fetch_all(q).await?;
        rows.iter().map(rows::conversion).collect()
    }
}
