//! The asset store's operations, shared by the asset routes, the bg_remove add-on and the worker
//! that finishes `get_image_and_save` in the background.
//!
//! Blobs are written before the rows that point at them, under keys never reused, so a reader
//! following a row always finds a whole file; a blob whose row write failed is deleted again.

use bytes::Bytes;
use cutout_store::{
    now_ms, AccountId, Asset, AssetId, BlobKey, Conversion, PutConversion, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::service::state::AppState;

/// Where an add-on result is saved, resolved when the request is accepted (so a background
/// save does not depend on the source asset still existing).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "disposition", rename_all = "snake_case")]
pub enum SaveTarget {
    AddConversion {
        asset_id: AssetId,
        conversion_name: String,
    },
    AddNewAsset {
        /// Chosen when the request is accepted, so a save retried after a crash cannot create
        /// a second asset.
        new_asset_id: AssetId,
        /// Lineage, when the request named a source asset.
        source_asset_id: Option<AssetId>,
        /// The custom metadata the new asset starts with (the source's for `metadata=inherit`).
        custom: Value,
        name: String,
    },
}

/// What a save produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Saved {
    Conversion { asset_id: AssetId, name: String },
    NewAsset { id: AssetId },
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The asset the conversion belongs to was deleted meanwhile.
    #[error("asset {0} no longer exists")]
    AssetGone(AssetId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A PNG produced by the add-on, with its size.
pub struct Png {
    pub bytes: Bytes,
    pub width: u32,
    pub height: u32,
}

/// Saves `png` as the target says. Replacing a conversion switches its row to a fresh blob in
/// one statement, then deletes the old blob.
pub async fn save_png(
    state: &AppState,
    account: AccountId,
    target: &SaveTarget,
    png: &Png,
) -> Result<Saved, SaveError> {
    match target {
        SaveTarget::AddConversion {
            asset_id,
            conversion_name,
        } => {
            let blob = BlobKey::asset_conversion(*asset_id, conversion_name)
                .ok_or_else(|| StoreError::BadKey(conversion_name.clone()))?;
            let now = now_ms();
            let row = Conversion {
                name: conversion_name.clone(),
                blob,
                mime: "image/png".into(),
                size: png.bytes.len() as u64,
                width: png.width,
                height: png.height,
                created_at: now,
                updated_at: now,
            };
            state.blobs.put_bytes(&row.blob, png.bytes.clone()).await?;
            let put = state.repo.put_conversion(account, *asset_id, &row).await;
            match put {
                Ok(PutConversion::Created) => {}
                Ok(PutConversion::Replaced { old_blob }) => {
                    if old_blob != row.blob {
                        delete_quietly(state, &old_blob).await;
                    }
                }
                Ok(PutConversion::NoAsset) => {
                    delete_quietly(state, &row.blob).await;
                    return Err(SaveError::AssetGone(*asset_id));
                }
                Err(e) => {
                    delete_quietly(state, &row.blob).await;
                    return Err(e.into());
                }
            }
            Ok(Saved::Conversion {
                asset_id: *asset_id,
                name: conversion_name.clone(),
            })
        }
        SaveTarget::AddNewAsset {
            new_asset_id,
            source_asset_id,
            custom,
            name,
        } => {
            if state
                .repo
                .get_asset(account, *new_asset_id)
                .await?
                .is_some()
            {
                return Ok(Saved::NewAsset { id: *new_asset_id });
            }
            let facts = FileFacts {
                name: name.clone(),
                mime: "image/png".into(),
                size: png.bytes.len() as u64,
                width: png.width,
                height: png.height,
                sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&png.bytes)),
            };
            let asset = new_asset(
                *new_asset_id,
                account,
                facts,
                custom.clone(),
                *source_asset_id,
            );
            state
                .blobs
                .put_bytes(&asset.blob, png.bytes.clone())
                .await?;
            if let Err(e) = state.repo.create_asset(&asset).await {
                delete_quietly(state, &asset.blob).await;
                return Err(e.into());
            }
            Ok(Saved::NewAsset { id: asset.id })
        }
    }
}

/// What is known about a stored file.
pub struct FileFacts {
    pub name: String,
    pub mime: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
}

/// A fresh asset record; its original lives at [`BlobKey::asset_original`].
pub fn new_asset(
    id: AssetId,
    account: AccountId,
    file: FileFacts,
    custom: Value,
    source: Option<AssetId>,
) -> Asset {
    let now = now_ms();
    Asset {
        id,
        account,
        name: file.name,
        mime: file.mime,
        size: file.size,
        width: file.width,
        height: file.height,
        sha256: file.sha256,
        blob: BlobKey::asset_original(id),
        custom,
        source,
        created_at: now,
        updated_at: now,
    }
}

/// Best effort: an orphaned blob costs disk, not correctness.
pub async fn delete_quietly(state: &AppState, blob: &BlobKey) {
    if let Err(e) = state.blobs.delete(blob).await {
        tracing::warn!(error = %e, %blob, "deleting a blob failed; it is left behind");
    }
}

/// The name a saved result gets: the source's stem plus `-bg_removed.png`.
pub fn result_name(source: Option<&str>) -> String {
    let stem = source
        .map(|n| n.rsplit_once('.').map_or(n, |(s, _)| s))
        .filter(|s| !s.is_empty())
        .unwrap_or("image");
    format!("{stem}-bg_removed.png")
}

/// The spec of an `asset_save` job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SaveJob {
    /// The PNG, staged when the request was answered.
    pub staged: BlobKey,
    pub target: SaveTarget,
    pub width: u32,
    pub height: u32,
    /// Kept after the save when an `Idempotency-Key` replay serves it.
    pub keep_staged: bool,
    #[serde(default)]
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn result_names_keep_the_source_stem() {
        assert_eq!(
            super::result_name(Some("cat.photo.jpg")),
            "cat.photo-bg_removed.png"
        );
        assert_eq!(super::result_name(Some("noext")), "noext-bg_removed.png");
        assert_eq!(super::result_name(None), "image-bg_removed.png");
    }
}
