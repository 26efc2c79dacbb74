//! What the bg_remove add-on does once a call is accepted: charge and render (refunding a
//! failure), answer in the contract's shapes, queue background saves, and replay answers for a
//! repeated `Idempotency-Key` (a PNG answer is kept as a blob and served again).

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cutout_store::{BlobKey, IdemRecord, JobId};
use serde_json::{json, Value};

use super::addon_params::{AddonRequest, Call, Disposition};
use super::types::{BgRemoveSaved, DispositionWord};
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::error::OrInternal;
use crate::http::auth::Caller;
use crate::service::assets::SaveJob;
use crate::service::assets::{Png, SaveError, SaveTarget, Saved};
use crate::service::inline::{self, Charge};
use crate::service::jobs::{self, NewWork, QueueBound};
use crate::service::payload::JobPayload;
use crate::service::spec::ProcessingRequest;
use crate::service::state::AppState;
use crate::service::JobError;

/// Waits for an inline slot, charges the call, and makes the cut-out; a failure refunds.
pub(super) async fn charged_render(
    state: &AppState,
    caller: &Caller,
    spec: &ProcessingRequest,
    input: Bytes,
) -> Result<Png, ApiError> {
    let charge = Charge {
        account: caller.0.account,
        cost: state.config.jobs.credits_per_image,
        // The request deadline bounds the wait: a saturated server answers 503, not a pile-up.
        max_wait: None,
        what: "add-on call",
    };
    let render = || crate::service::render::render(state, spec, input);
    match inline::charged_render(state, charge, render).await {
        Ok((out, _)) => Ok(Png {
            width: out.width,
            height: out.height,
            bytes: out.bytes.into(),
        }),
        Err(refused) => Err(render_error(refused.into_render()?)),
    }
}

pub(super) fn render_error(e: JobError) -> ApiError {
    match e {
        JobError::Abort {
            code: ErrorCode::INTERNAL,
            message,
        } => ApiError::internal("add-on processing failed", &message),
        JobError::Abort { message, .. } => ApiError::BadRequest(message),
        // Not the request's fault, and not for the client to read about (paths, model files).
        JobError::Broken { code, message } => {
            tracing::error!(%code, error = %message, "add-on processing cannot run here");
            ApiError::Unavailable {
                reason: "processing is unavailable on this server",
                retry_after_secs: 60,
            }
        }
        // The background image the client named could not be had: its URL, not this server.
        JobError::Retry { code, message } if code.as_str().starts_with("fetch_") => {
            ApiError::BadRequest(format!("bg_image_url could not be fetched: {message}"))
        }
        JobError::Retry { code, message } => {
            tracing::warn!(%code, error = %message, "add-on processing failed; the client may retry");
            ApiError::Unavailable {
                reason: "processing is temporarily unavailable, retry later",
                retry_after_secs: 5,
            }
        }
    }
}

pub(super) fn save_error(e: SaveError) -> ApiError {
    match e {
        SaveError::AssetGone(_) => ApiError::NotFound,
        SaveError::Store(e) => ApiError::internal("saving an add-on result failed", &e),
    }
}

/// The contract's `save_image` body.
pub(super) fn save_body(req: &AddonRequest, saved: &Saved) -> BgRemoveSaved {
    let mut body = BgRemoveSaved {
        status: "ok",
        mode: "save_image",
        disposition: DispositionWord::AddConversion,
        asset_id: None,
        conversion_name: None,
        new_asset_id: None,
        source_asset_id: None,
        metadata: None,
    };
    match saved {
        Saved::Conversion { asset_id, name } => {
            body.asset_id = Some(*asset_id);
            body.conversion_name = Some(name.clone());
        }
        Saved::NewAsset { id } => {
            body.disposition = DispositionWord::AddNewAsset;
            body.new_asset_id = Some(*id);
            if let Some(Disposition::AddNewAsset { source, inherit }) = &req.save {
                body.source_asset_id = source.filter(|_| req.asset_id_given);
                body.metadata = inherit.then_some("inherit");
            }
        }
    }
    body
}

pub(super) async fn stage(state: &AppState, blob: &BlobKey, png: &Png) -> Result<(), ApiError> {
    state
        .blobs
        .put_bytes(blob, png.bytes.clone())
        .await
        .or_internal("staging a result failed")
}

pub(super) fn png_record(
    caller: &Caller,
    idem_key: String,
    hash: String,
    blob: &BlobKey,
) -> IdemRecord {
    IdemRecord {
        key: caller.0.id,
        idem_key,
        request_hash: hash,
        status: 200,
        body: json!({ "png_blob": blob }).to_string(),
    }
}

/// Stages the PNG and queues the save, with the idempotency record in the same transaction.
pub(super) async fn queue_save(
    state: &AppState,
    caller: &Caller,
    call: &Call,
    target: SaveTarget,
    png: &Png,
) -> Result<JobId, ApiError> {
    let id = JobId::new();
    let staged = BlobKey::addon_staged(id);
    stage(state, &staged, png).await?;
    let spec = SaveJob {
        staged: staged.clone(),
        target,
        width: png.width,
        height: png.height,
        keep_staged: call.idem.is_some(),
        request_id: call.request_id.clone(),
    };
    let rec = call
        .idem
        .clone()
        .map(|k| png_record(caller, k, call.hash.clone(), &staged));
    let work = NewWork {
        id,
        payload: JobPayload::AssetSave(spec),
        input_key: None,
        // Charged already; and a save must never be refused once the client has its PNG.
        cost: 0,
        queue: QueueBound::Unbounded,
        draft: false,
        // A concurrent twin with the same Idempotency-Key queued it already.
        staged: Some(staged),
    };
    jobs::enqueue(state, &caller.0, work, rec)
        .await
        .or_internal("queueing a save failed")?;
    Ok(id)
}

/// A stored response for this Idempotency-Key: JSON, or a PNG kept as a blob.
pub(super) async fn replay(
    state: &AppState,
    caller: &Caller,
    key: &str,
    hash: &str,
) -> Result<Option<Response>, ApiError> {
    let Some(rec) = crate::http::idempotency::stored(state, caller, key, hash).await? else {
        return Ok(None);
    };
    let blob = serde_json::from_str::<Value>(&rec.body)
        .ok()
        .and_then(|v| BlobKey::parse(v.get("png_blob")?.as_str()?).ok());
    let Some(blob) = blob else {
        return Ok(Some(crate::http::idempotency::response_of(&rec, true)));
    };
    let bytes = state
        .blobs
        .get(&blob)
        .await
        .or_internal("reading a stored result failed")?
        .ok_or_else(|| ApiError::internal("stored result missing", &blob))?;
    let mut resp = png_response(bytes);
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(Some(resp))
}

pub(super) fn png_response(bytes: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "image/png")], bytes).into_response()
}
