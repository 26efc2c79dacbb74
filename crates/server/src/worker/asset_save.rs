//! Finishes `get_image_and_save`: the client already has its PNG; this job writes it as a
//! conversion or a new asset. Saving is idempotent (a conversion is replaced, a new asset's id
//! was fixed at request time), so a retry after a crash writes it once.

use bytes::Bytes;
use cutout_store::Job;
use serde_json::{json, Value};

use crate::error::ErrorCode;
use crate::service::assets::{delete_quietly, save_png, Png, SaveError, SaveJob, Saved};
use crate::service::state::AppState;
use crate::service::JobError;

pub async fn run(state: &AppState, job: &Job, spec: SaveJob) -> Result<Value, JobError> {
    let bytes: Bytes = state
        .blobs
        .get(&spec.staged)
        .await
        .map_err(|e| JobError::retry(ErrorCode::STORAGE, e))?
        .ok_or_else(|| JobError::abort(ErrorCode::INPUT_MISSING, "the staged result is gone"))?;
    let png = Png {
        bytes,
        width: spec.width,
        height: spec.height,
    };
    let saved = save_png(state, job.account, &spec.target, &png)
        .await
        .map_err(|e| match e {
            SaveError::AssetGone(_) => JobError::abort(ErrorCode::ASSET_MISSING, e),
            SaveError::Store(e) => JobError::retry(ErrorCode::STORAGE, e),
        })?;
    if !spec.keep_staged {
        delete_quietly(state, &spec.staged).await;
    }
    tracing::info!(?saved, "add-on result saved");
    Ok(match saved {
        Saved::Conversion { asset_id, name } => {
            json!({"asset_id": asset_id, "conversion_name": name})
        }
        Saved::NewAsset { id } => json!({"new_asset_id": id}),
    })
}
