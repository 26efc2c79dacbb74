//! The bg_remove add-on: `POST /api/v1/assets/file/addons/bg_remove` (multipart `image`) and
//! `GET|POST /api/v1/assets/{asset_id}/addons/bg_remove` (a stored asset).
//!
//! The cut-out is made inline (the contract answers with the PNG), on the blocking pool and
//! behind a bounded number of concurrent calls. `get_image_and_save` answers before the save:
//! the save is a queued job, so a restart in between loses nothing.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cutout_store::{CreateOutcome, IdemRecord, JobId, NewJob};
use serde_json::{json, Map, Value};

use super::assets::{owned, parse_id, read_form};
use super::intake::check_image;
use crate::addon::{self, AddonMode, AddonRequest, Disposition};
use crate::assets::{result_name, save_png, Png, SaveError, SaveTarget, Saved};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::idempotency::{idempotency_key, remember, request_hash};
use crate::spec::{self, JobSpec, Mode, OPTION_FIELDS};
use crate::state::AppState;
use crate::worker::{JobError, SaveJob};

/// One add-on call, whatever route it came in by.
struct Call {
    req: AddonRequest,
    /// Query parameters and form/JSON fields: the add-on's own and the processing options.
    fields: Map<String, Value>,
    input: Bytes,
    input_name: Option<String>,
    idem: Option<String>,
    hash: String,
    request_id: Option<String>,
}

fn query_map(q: HashMap<String, String>) -> Map<String, Value> {
    q.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `POST /api/v1/assets/file/addons/bg_remove`.
pub async fn on_upload(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, ApiError> {
    caller.require("addons:bg_remove")?;
    let mut fields = query_map(q);
    let parsed = addon::parse(&fields, None).map_err(ApiError::BadRequest)?;
    let idem = idempotency_key(&headers)?;
    let mp = Multipart::from_request(req, &state).await.map_err(|e| {
        ApiError::BadRequest(format!(
            "send multipart/form-data with an image field: {}",
            e.body_text()
        ))
    })?;
    let (form, upload) = read_form(&state, mp).await?;
    let upload = upload
        .ok_or_else(|| ApiError::BadRequest("the multipart field image is required".into()))?;
    match check_image(&state, &upload).await {
        Ok(_) => {}
        Err(msg) => return Err(ApiError::BadRequest(format!("image: {msg}"))),
    }
    for (k, v) in form {
        fields.entry(k).or_insert(v);
    }
    let input = tokio::fs::read(&upload.temp)
        .await
        .map_err(|e| ApiError::internal("reading an upload", &e))?;
    let call = Call {
        req: parsed,
        hash: request_hash("bg_remove", &fields, Some(&upload.sha256)),
        fields,
        input: input.into(),
        input_name: upload.file_name.clone(),
        idem,
        request_id: request_id(&headers),
    };
    run(&state, &caller, call).await
}

/// `GET|POST /api/v1/assets/{asset_id}/addons/bg_remove`; a POST may carry the processing
/// options as a JSON object.
pub async fn on_asset(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require("addons:bg_remove")?;
    caller.require("assets:read")?;
    let id = parse_id(&id)?;
    let mut fields = query_map(q);
    let parsed = addon::parse(&fields, Some(id)).map_err(ApiError::BadRequest)?;
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
    let key = cutout_store::BlobKey::parse(&asset.blob)
        .map_err(|e| ApiError::internal("bad blob key", &e))?;
    let input = state
        .blobs
        .get(&key)
        .await
        .map_err(|e| ApiError::internal("reading an asset failed", &e))?
        .ok_or(ApiError::NotFound)?;
    let call = Call {
        req: parsed,
        hash: request_hash(&format!("bg_remove:{id}"), &fields, Some(&asset.sha256)),
        fields,
        input,
        input_name: Some(asset.name),
        idem: idempotency_key(&headers)?,
        request_id: request_id(&headers),
    };
    run(&state, &caller, call).await
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
                HeaderValue::from_str(&job.to_string())
                    .map_err(|e| ApiError::internal("job id header", &e))?,
            );
            Ok(resp)
        }
        _ => {
            if let Some(k) = call.idem {
                let blob = format!("addons/{}.png", JobId::new());
                stage(state, &blob, &png).await?;
                let rec = png_record(caller, k, call.hash, &blob);
                let stored =
                    state.repo.put_idem(rec.clone()).await.map_err(|e| {
                        ApiError::internal("storing an idempotency record failed", &e)
                    })?;
                if stored != rec {
                    crate::assets::delete_quietly(state, &blob).await;
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
    caller.require("assets:write")?;
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
fn job_spec(state: &AppState, fields: &Map<String, Value>) -> Result<JobSpec, ApiError> {
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
        default_model: &state.config.jobs.default_model,
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

/// Waits for an inline slot, charges the call, and makes the cut-out; a failure refunds.
async fn charged_render(
    state: &AppState,
    caller: &Caller,
    spec: &JobSpec,
    input: Bytes,
) -> Result<Png, ApiError> {
    // The request deadline bounds the wait: a saturated server answers 503, not a pile-up.
    let _slot = state
        .inline_slots
        .acquire()
        .await
        .map_err(|e| ApiError::internal("inline slots closed", &e))?;
    let cost = state.config.jobs.credits_per_image;
    let account = caller.0.account;
    if cost > 0 {
        let charged = state
            .repo
            .credit(account, -cost, "charge")
            .await
            .map_err(|e| ApiError::internal("charging failed", &e))?;
        if charged.is_none() {
            return Err(ApiError::InsufficientCredits);
        }
    }
    match crate::worker::render(state, spec, input).await {
        Ok((out, _)) => Ok(Png {
            width: out.width,
            height: out.height,
            bytes: out.bytes.into(),
        }),
        Err(e) => {
            if cost > 0 {
                if let Err(r) = state.repo.credit(account, cost, "refund").await {
                    tracing::error!(error = %r, cost, "refunding a failed add-on call failed");
                }
            }
            Err(render_error(e))
        }
    }
}

fn render_error(e: JobError) -> ApiError {
    match e {
        JobError::Abort {
            code: "internal_error",
            message,
        } => ApiError::internal("add-on processing failed", &message),
        JobError::Abort { message, .. } => ApiError::BadRequest(message),
        JobError::Retry { code, message } => {
            tracing::warn!(code, error = %message, "add-on processing failed; the client may retry");
            ApiError::Unavailable {
                reason: "processing is temporarily unavailable, retry later",
                retry_after_secs: 5,
            }
        }
    }
}

fn save_error(e: SaveError) -> ApiError {
    match e {
        SaveError::AssetGone(_) => ApiError::NotFound,
        SaveError::Store(e) => ApiError::internal("saving an add-on result failed", &e),
    }
}

/// The contract's `save_image` body.
fn save_body(req: &AddonRequest, saved: &Saved) -> Value {
    match saved {
        Saved::Conversion { asset_id, name } => json!({
            "status": "ok", "mode": "save_image", "disposition": "add_conversion",
            "asset_id": asset_id, "conversion_name": name,
        }),
        Saved::NewAsset { id } => {
            let mut b = json!({
                "status": "ok", "mode": "save_image", "disposition": "add_new_asset",
                "new_asset_id": id,
            });
            if let Some(Disposition::AddNewAsset { source, inherit }) = &req.save {
                if let (Some(src), true) = (source, req.asset_id_given) {
                    b["source_asset_id"] = json!(src);
                }
                if *inherit {
                    b["metadata"] = json!("inherit");
                }
            }
            b
        }
    }
}

async fn stage(state: &AppState, blob: &str, png: &Png) -> Result<(), ApiError> {
    let key = cutout_store::BlobKey::parse(blob).map_err(|e| ApiError::internal("blob key", &e))?;
    state
        .blobs
        .put_bytes(&key, png.bytes.clone())
        .await
        .map_err(|e| ApiError::internal("staging a result failed", &e))
}

fn png_record(caller: &Caller, idem_key: String, hash: String, blob: &str) -> IdemRecord {
    IdemRecord {
        key: caller.0.id,
        idem_key,
        request_hash: hash,
        status: 200,
        body: json!({ "png_blob": blob }).to_string(),
    }
}

/// Stages the PNG and queues the save, with the idempotency record in the same transaction.
async fn queue_save(
    state: &AppState,
    caller: &Caller,
    call: &Call,
    target: SaveTarget,
    png: &Png,
) -> Result<JobId, ApiError> {
    let id = JobId::new();
    let staged = format!("addons/{id}.png");
    stage(state, &staged, png).await?;
    let spec = SaveJob {
        staged: staged.clone(),
        target,
        width: png.width,
        height: png.height,
        keep_staged: call.idem.is_some(),
        request_id: call.request_id.clone(),
    };
    let job = NewJob {
        id,
        account: caller.0.account,
        key: caller.0.id,
        kind: "asset_save".into(),
        mode: AddonMode::GetImageAndSave.as_str().into(),
        spec: serde_json::to_value(&spec).map_err(|e| ApiError::internal("save spec", &e))?,
        input_key: None,
        max_attempts: state.config.jobs.max_attempts,
        // Charged already; and a save must never be refused once the client has its PNG.
        cost: 0,
        max_pending: u64::MAX,
    };
    let rec = call
        .idem
        .clone()
        .map(|k| png_record(caller, k, call.hash.clone(), &staged));
    let outcome = state
        .repo
        .create_job(job, rec)
        .await
        .map_err(|e| ApiError::internal("queueing a save failed", &e))?;
    match outcome {
        CreateOutcome::Created(_) => {
            tracing::info!(job_id = %id, "add-on save queued");
            state.wake.notify_waiters();
        }
        // A concurrent twin with the same Idempotency-Key queued it already.
        _ => crate::assets::delete_quietly(state, &staged).await,
    }
    Ok(id)
}

/// A stored response for this Idempotency-Key: JSON, or a PNG kept as a blob.
async fn replay(
    state: &AppState,
    caller: &Caller,
    key: &str,
    hash: &str,
) -> Result<Option<Response>, ApiError> {
    let Some(rec) = state
        .repo
        .get_idem(caller.0.id, key)
        .await
        .map_err(|e| ApiError::internal("idempotency lookup failed", &e))?
    else {
        return Ok(None);
    };
    if rec.request_hash != hash {
        return Err(crate::idempotency::conflict());
    }
    let blob = serde_json::from_str::<Value>(&rec.body)
        .ok()
        .and_then(|v| v.get("png_blob")?.as_str().map(str::to_owned));
    let Some(blob) = blob else {
        return Ok(Some(crate::idempotency::response_of(&rec)));
    };
    let key =
        cutout_store::BlobKey::parse(&blob).map_err(|e| ApiError::internal("blob key", &e))?;
    let bytes = state
        .blobs
        .get(&key)
        .await
        .map_err(|e| ApiError::internal("reading a stored result failed", &e))?
        .ok_or_else(|| ApiError::internal("stored result missing", &blob))?;
    let mut resp = png_response(bytes);
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(Some(resp))
}

fn png_response(bytes: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "image/png")], bytes).into_response()
}
