//! The bg_remove add-on: `POST /api/v1/assets/file/addons/bg_remove` (multipart `image`) and
//! `GET|POST /api/v1/assets/{asset_id}/addons/bg_remove` (a stored asset).
//!
//! The cut-out is made inline (the contract answers with the PNG), on the blocking pool and
//! behind a bounded number of concurrent calls. `get_image_and_save` answers before the save:
//! the save is a queued job, so a restart in between loses nothing.

use std::collections::HashMap;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use cutout_store::{JobId, Scope};
use serde_json::{json, Map, Value};

use super::addon_output::{
    charged_render, png_record, png_response, queue_save, replay, save_body, save_error, stage,
};
use super::addon_params::{self, AddonMode, Call, Disposition};
use super::handlers::{owned, parse_id, read_form};
use crate::error::ApiError;
use crate::error::OrInternal;
use crate::http::auth::Caller;
use crate::http::form::check_image;
use crate::http::form::Form;
use crate::http::idempotency::{remember, request_hash};
use crate::http::{Idempotency, RequestId};
use crate::service::assets::{result_name, save_png, SaveTarget};
use crate::service::spec::{self, Mode, ProcessingRequest, OPTION_FIELDS};
use crate::service::state::AppState;

use super::types::{AddonForm, AddonQuery, BgRemoveSaved};
use crate::http::doc::StructuredError;

fn query_map(q: HashMap<String, String>) -> Map<String, Value> {
    q.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
}

/// Remove the background of an uploaded image (the bg_remove add-on)
///
/// Multipart field `image`. Needs `addons:bg_remove` (and `assets:write` to save). One credit
/// per call, refunded if processing fails.
#[utoipa::path(post, path = "/api/v1/assets/file/addons/bg_remove", tag = "Assets",
    operation_id = "bgRemoveUpload",
    params(AddonQuery, Idempotency),
    request_body(content = AddonForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "`get_image` and `get_image_and_save`: the PNG (a save runs in the \
            background; `X-Save-Job-Id` names it). `save_image`: JSON.",
            content(
                (Vec<u8> = "image/png"),
                (BgRemoveSaved = "application/json"),
            )),
        (status = 400, description = "Bad request: the message names the broken rule.", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 402, description = "Not enough credits (one per call, refunded if processing fails).", body = StructuredError),
        (status = 403, description = "The key lacks `addons:bg_remove` (or `assets:write` to save).", body = StructuredError),
        (status = 404, description = "No such asset for this account.", body = StructuredError),
        (status = 413, description = "The image is over the configured limit.", body = StructuredError),
        (status = 503, description = "Processing is busy or temporarily unavailable; retry after `Retry-After`.", body = StructuredError),
    ))]
pub async fn on_upload(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
    Idempotency(idem): Idempotency,
    request_id: RequestId,
    req: Request,
) -> Result<Response, ApiError> {
    caller.require(Scope::AddonsBgRemove)?;
    let mut fields = query_map(q);
    let parsed = addon_params::parse(&fields, None).map_err(ApiError::BadRequest)?;
    let Form {
        fields: form,
        file: upload,
        ..
    } = read_form(&state, req, &["image", "file"]).await?;
    let upload = upload
        .ok_or_else(|| ApiError::BadRequest("the multipart field image is required".into()))?;
    check_image(&state, &upload)
        .await
        .map_err(|msg| ApiError::BadRequest(format!("image: {msg}")))?;
    for (k, v) in form {
        fields.entry(k).or_insert(v);
    }
    let input = tokio::fs::read(&upload.temp)
        .await
        .or_internal("reading an upload")?;
    let call = Call {
        req: parsed,
        hash: request_hash("bg_remove", &fields, Some(&upload.sha256)),
        fields,
        input: input.into(),
        input_name: upload.file_name.clone(),
        idem,
        request_id: request_id.0,
    };
    run(&state, &caller, call).await
}

/// Remove the background of a stored asset
///
/// Needs `addons:bg_remove` and `assets:read` (and `assets:write` to save). One credit per
/// call, refunded if processing fails.
#[utoipa::path(get, path = "/api/v1/assets/{id}/addons/bg_remove", tag = "Assets",
    operation_id = "bgRemoveAsset",
    params(("id" = String, Path, format = Uuid, description = "The asset's id."), AddonQuery, Idempotency),
    responses(
        (status = 200, description = "`get_image` and `get_image_and_save`: the PNG (a save runs in the \
            background; `X-Save-Job-Id` names it). `save_image`: JSON.",
            content(
                (Vec<u8> = "image/png"),
                (BgRemoveSaved = "application/json"),
            )),
        (status = 400, description = "Bad request: the message names the broken rule.", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 402, description = "Not enough credits (one per call, refunded if processing fails).", body = StructuredError),
        (status = 403, description = "The key lacks `addons:bg_remove` (or `assets:write` to save).", body = StructuredError),
        (status = 404, description = "No such asset for this account.", body = StructuredError),
        (status = 413, description = "The image is over the configured limit.", body = StructuredError),
        (status = 503, description = "Processing is busy or temporarily unavailable; retry after `Retry-After`.", body = StructuredError),
    ))]
pub async fn on_asset(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    Idempotency(idem): Idempotency,
    request_id: RequestId,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Scope::AddonsBgRemove)?;
    caller.require(Scope::AssetsRead)?;
    let id = parse_id(&id)?;
    let mut fields = query_map(q);
    let parsed = addon_params::parse(&fields, Some(id)).map_err(ApiError::BadRequest)?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => {
                for (k, v) in m {
                    fields.entry(k).or_insert(v);
                }
            }
            _ => {
                return Err(ApiError::BadRequest(
                    "the body must be a JSON object of processing options".into(),
                ))
            }
        }
    }
    let asset = owned(&state, &caller, id).await?;
    let input = state
        .blobs
        .get(&asset.blob)
        .await
        .or_internal("reading an asset failed")?
        .ok_or(ApiError::NotFound)?;
    let call = Call {
        req: parsed,
        hash: request_hash(&format!("bg_remove:{id}"), &fields, Some(&asset.sha256)),
        fields,
        input,
        input_name: Some(asset.name),
        idem,
        request_id: request_id.0,
    };
    run(&state, &caller, call).await
}

/// Remove the background of a stored asset (options may be a JSON body)
///
/// As the GET; the body, when not empty, is a JSON object of processing options (query
/// parameters win).
#[utoipa::path(post, path = "/api/v1/assets/{id}/addons/bg_remove", tag = "Assets",
    operation_id = "bgRemoveAssetPost",
    params(("id" = String, Path, format = Uuid, description = "The asset's id."), AddonQuery, Idempotency),
    request_body(content = Option<Object>, content_type = "application/json",
        description = "Processing options, as for image jobs."),
    responses(
        (status = 200, description = "`get_image` and `get_image_and_save`: the PNG (a save runs in the \
            background; `X-Save-Job-Id` names it). `save_image`: JSON.",
            content(
                (Vec<u8> = "image/png"),
                (BgRemoveSaved = "application/json"),
            )),
        (status = 400, description = "Bad request: the message names the broken rule.", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 402, description = "Not enough credits (one per call, refunded if processing fails).", body = StructuredError),
        (status = 403, description = "The key lacks `addons:bg_remove` (or `assets:write` to save).", body = StructuredError),
        (status = 404, description = "No such asset for this account.", body = StructuredError),
        (status = 413, description = "The image is over the configured limit.", body = StructuredError),
        (status = 503, description = "Processing is busy or temporarily unavailable; retry after `Retry-After`.", body = StructuredError),
    ))]
pub async fn on_asset_post(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    q: Query<HashMap<String, String>>,
    idem: Idempotency,
    request_id: RequestId,
    body: Bytes,
) -> Result<Response, ApiError> {
    on_asset(state, caller, id, q, idem, request_id, body).await
}

async fn run(state: &AppState, caller: &Caller, call: Call) -> Result<Response, ApiError> {
    let target = resolve_target(state, caller, &call).await?;
    let spec = job_spec(state, &call.fields)?;
    if let Some(k) = &call.idem {
        if let Some(r) = replay(state, caller, k, &call.hash).await? {
            return Ok(r);
        }
    }
    let png = charged_render(state, caller, &spec, call.input.clone()).await?;
    match (call.req.mode, target) {
        (AddonMode::SaveImage, Some(t)) => {
            let saved = save_png(state, caller.0.account, &t, &png)
                .await
                .map_err(save_error)?;
            let body = save_body(&call.req, &saved);
            remember(state, caller, call.idem, call.hash, StatusCode::OK, &body).await
        }
        (AddonMode::GetImageAndSave, Some(t)) => {
            let job = queue_save(state, caller, &call, t, &png).await?;
            let mut resp = png_response(png.bytes);
            resp.headers_mut().insert(
                "x-save-job-id",
                HeaderValue::from_str(&job.to_string()).or_internal("job id header")?,
            );
            Ok(resp)
        }
        _ => {
            if let Some(k) = call.idem {
                let blob = cutout_store::BlobKey::addon_staged(JobId::new());
                stage(state, &blob, &png).await?;
                let rec = png_record(caller, k, call.hash, &blob);
                let stored =
                    state.repo.put_idem(rec.clone()).await.map_err(|e| {
                        ApiError::internal("storing an idempotency record failed", &e)
                    })?;
                if stored != rec {
                    crate::service::assets::delete_quietly(state, &blob).await;
                }
            }
            Ok(png_response(png.bytes))
        }
    }
}

/// Looks up the assets a save names (404 when they are not the caller's) and fixes what the
/// save will write.
async fn resolve_target(
    state: &AppState,
    caller: &Caller,
    call: &Call,
) -> Result<Option<SaveTarget>, ApiError> {
    let Some(save) = &call.req.save else {
        return Ok(None);
    };
    caller.require(Scope::AssetsWrite)?;
    Ok(Some(match save {
        Disposition::AddConversion { asset_id, name } => {
            owned(state, caller, *asset_id).await?;
            SaveTarget::AddConversion {
                asset_id: *asset_id,
                conversion_name: name.clone(),
            }
        }
        Disposition::AddNewAsset { source, inherit } => {
            let src = match source {
                Some(id) => Some(owned(state, caller, *id).await?),
                None => None,
            };
            let custom = match (&src, inherit) {
                (Some(s), true) => s.custom.clone(),
                _ => json!({}),
            };
            let name = result_name(
                src.as_ref()
                    .map(|s| s.name.as_str())
                    .or(call.input_name.as_deref()),
            );
            SaveTarget::AddNewAsset {
                new_asset_id: cutout_store::AssetId::new(),
                source_asset_id: *source,
                custom,
                name,
            }
        }
    }))
}

/// The image-job options the add-on accepts, validated like an image job's; the result is PNG.
fn job_spec(state: &AppState, fields: &Map<String, Value>) -> Result<ProcessingRequest, ApiError> {
    let mut opts: Map<String, Value> = fields
        .iter()
        .filter(|(k, _)| OPTION_FIELDS.contains(&k.as_str()) && *k != "webhook_url")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match opts.get("output_format").and_then(Value::as_str) {
        None | Some("png") | Some("PNG") => {}
        Some(_) => {
            return Err(ApiError::BadRequest(
                "output_format: the bg_remove add-on returns PNG".into(),
            ))
        }
    }
    opts.insert("output_format".into(), json!("png"));
    let has_bg = ["bg_color", "bg_image_url"]
        .iter()
        .any(|k| opts.get(*k).is_some_and(|v| v.as_str() != Some("")));
    let mode = if has_bg {
        Mode::Background
    } else {
        Mode::Clipping
    };
    let models = state.segmenters.image_models();
    let ctx = spec::Context {
        models: &models,
        default_model: &state.config.inference.default_model,
        allow_hosts: &state.config.fetch.allow_hosts,
    };
    spec::parse_options(&opts, mode, None, None, &ctx).map_err(|errors| {
        let msg = errors
            .iter()
            .flat_map(|(f, m)| m.iter().map(move |m| format!("{f}: {m}")))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::BadRequest(msg)
    })
}
