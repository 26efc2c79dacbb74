//! `POST /api/v1/upload`: JSON (`file_url`) or multipart (`file`), validated into a job that is
//! charged and queued in one transaction.

use std::path::PathBuf;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cutout_store::{BlobKey, CreateOutcome, JobId, Scope};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::error::OrInternal;
use crate::http::auth::Caller;
use crate::http::form::{check_image, Form, FormSpec, Upload};
use crate::http::idempotency::{replay, request_hash};
use crate::http::{Idempotency, RequestId};
use crate::service::jobs::{self, NewWork, QueueBound};
use crate::service::payload::JobPayload;
use crate::service::spec::{self, Mode, OPTION_FIELDS};
use crate::service::state::AppState;

use super::error::{
    BadRequest, Forbidden, InsufficientCredits, InternalError, PayloadTooLarge, RateLimited,
    Unauthorized, Unavailable, ValidationError,
};
use super::types::{UploadAccepted, UploadJsonRequest, UploadMultipartRequest};

/// The raw request: fields as JSON values, and the uploaded file if any.
struct Raw {
    fields: Map<String, Value>,
    file: Option<Upload>,
}

/// Create an image job
///
/// Creates an asynchronous background-removal job from a remote `file_url` (JSON or form) or an
/// uploaded `file` (multipart/form-data), charges its credits and queues it. Poll
/// `GET /api/v1/status?job_id=...` for the result. Needs the `images:write` scope. A body
/// without Content-Type is read as JSON.
#[utoipa::path(post, path = "/api/v1/upload", tag = "Image jobs", operation_id = "createUpload",
    params(Idempotency),
    request_body(content(
        (UploadJsonRequest = "application/json"),
        (UploadMultipartRequest = "multipart/form-data"),
    )),
    responses(
        (status = 202, description = "The job was accepted and queued.", body = UploadAccepted),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 402, response = InsufficientCredits),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = ValidationError),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Idempotency(idem): Idempotency,
    request_id: RequestId,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, ApiError> {
    caller.require(Scope::ImagesWrite)?;
    let raw = read_request(&state, &headers, req).await?;
    let hash = request_hash(
        "upload",
        &raw.fields,
        raw.file.as_ref().map(|f| f.sha256.as_str()),
    );
    if let Some(k) = &idem {
        // A retry gets its first answer even if validation would now differ (a preset deleted
        // since); the authoritative check is inside the job's transaction.
        if let Some(r) = replay(&state, &caller, k, &hash).await? {
            return Ok(r);
        }
    }
    let mut spec = validate(&state, &caller, &raw).await?;
    spec.request_id = request_id.0;
    let job_id = JobId::new();
    let input_key = match &raw.file {
        Some(f) => Some(store_input(&state, job_id, f).await?),
        None => None,
    };
    let body = serde_json::to_value(UploadAccepted {
        job_id,
        status: "queued",
        mode: spec.mode,
    })
    .or_internal("answer encoding")?;
    let record = idem.map(|k| cutout_store::IdemRecord {
        key: caller.0.id,
        idem_key: k,
        request_hash: hash,
        status: 202,
        body: body.to_string(),
    });
    let work = NewWork {
        id: job_id,
        payload: JobPayload::Image(spec),
        staged: input_key.clone(),
        input_key,
        cost: state.config.jobs.credits_per_image,
        queue: QueueBound::Configured,
        draft: false,
    };
    let outcome = jobs::enqueue(&state, &caller.0, work, record)
        .await
        .or_internal("creating a job failed")?;
    match outcome {
        CreateOutcome::Created(_) => Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response()),
        CreateOutcome::Replay(rec) => Ok(crate::http::idempotency::response_of(&rec, true)),
        CreateOutcome::IdemConflict => Err(crate::http::idempotency::conflict()),
        CreateOutcome::InsufficientCredits { .. } => Err(ApiError::InsufficientCredits),
        CreateOutcome::QueueFull => Err(ApiError::Unavailable {
            reason: "the job queue is full, retry later",
            retry_after_secs: 5,
        }),
    }
}

async fn read_request(
    state: &AppState,
    headers: &HeaderMap,
    req: Request,
) -> Result<Raw, ApiError> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.starts_with("multipart/form-data") {
        read_multipart(state, req).await
    } else if ctype.starts_with("application/json") || ctype.is_empty() {
        let limit = state.config.server.max_json_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| {
                ApiError::PayloadTooLarge(format!("JSON bodies are limited to {limit} bytes"))
            })?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(fields)) => Ok(Raw { fields, file: None }),
            Ok(_) => Err(ApiError::BadRequest(
                "the body must be a JSON object".into(),
            )),
            Err(e) => Err(ApiError::BadRequest(format!("invalid JSON: {e}"))),
        }
    } else {
        Err(ApiError::BadRequest(
            "send application/json (with file_url) or multipart/form-data (with file)".into(),
        ))
    }
}

/// The form's fields; `params` may be an inline JSON object there too, as in a JSON body.
async fn read_multipart(state: &AppState, req: Request) -> Result<Raw, ApiError> {
    let spec = FormSpec {
        file_fields: &["file"],
        max_bytes: state.config.limits.max_input_bytes,
        second_file: Some(|| ApiError::field("file", "send one file per job")),
        text_fields: true,
        other_files: &[],
    };
    let Form {
        mut fields, file, ..
    } = Form::read(state, req, &spec).await?;
    if let Some(Value::String(text)) = fields.get("params") {
        if let Ok(inline @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
            fields.insert("params".into(), inline);
        }
    }
    Ok(Raw { fields, file })
}

/// Everything a 422 can be about, checked before anything is stored or charged.
async fn validate(
    state: &AppState,
    caller: &Caller,
    raw: &Raw,
) -> Result<spec::ProcessingRequest, ApiError> {
    let f = &raw.fields;
    let file_url = f
        .get("file_url")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let mut errors = crate::error::FieldErrors::new();
    match (&raw.file, file_url) {
        (Some(_), Some(_)) => errors
            .entry("file".into())
            .or_default()
            .push("give file or file_url, not both".into()),
        (None, None) => errors
            .entry("file".into())
            .or_default()
            .push("file or file_url is required".into()),
        _ => {}
    }
    if let Some(u) = &raw.file {
        if let Err(msg) = check_image(state, u).await {
            errors.entry("file".into()).or_default().push(msg);
        }
    }
    if let Some(u) = file_url {
        if let Err(e) = crate::net::fetch::check_url(u, &state.config.fetch.allow_hosts) {
            errors
                .entry("file_url".into())
                .or_default()
                .push(e.to_string());
        }
    }
    let mode_name = f
        .get("mode")
        .and_then(Value::as_str)
        .map(|m| m.trim().to_ascii_lowercase());
    let mode = match mode_name.as_deref() {
        None | Some("") | Some("clipping") => Mode::Clipping,
        Some("background") => Mode::Background,
        Some("params") => Mode::Params,
        Some(_) => {
            errors
                .entry("mode".into())
                .or_default()
                .push("must be one of background, clipping, params".into());
            Mode::Clipping
        }
    };
    let (merged, preset) = merge_params(state, caller, f, mode, &mut errors).await?;
    let models = state.segmenters.image_models();
    let ctx = spec::Context {
        models: &models,
        default_model: &state.config.inference.default_model,
        allow_hosts: &state.config.fetch.allow_hosts,
    };
    let parsed = spec::parse_options(&merged, mode, file_url.map(str::to_owned), preset, &ctx);
    match parsed {
        Ok(s) if errors.is_empty() => Ok(s),
        Ok(_) => Err(ApiError::Validation(errors)),
        Err(more) => {
            for (k, v) in more {
                errors.entry(k).or_default().extend(v);
            }
            Err(ApiError::Validation(errors))
        }
    }
}

/// For `mode=params`: the preset's (or inline object's) options, overridden by the request's own.
async fn merge_params(
    state: &AppState,
    caller: &Caller,
    f: &Map<String, Value>,
    mode: Mode,
    errors: &mut crate::error::FieldErrors,
) -> Result<(Map<String, Value>, Option<String>), ApiError> {
    let mut merged = Map::new();
    let mut preset_name = None;
    let mut err = |m: &str| {
        errors
            .entry("params".into())
            .or_default()
            .push(m.to_owned())
    };
    match (mode, f.get("params").filter(|v| !v.is_null())) {
        (Mode::Params, None) => err("params is required when mode=params"),
        (Mode::Params, Some(Value::String(name))) => {
            let found = state
                .repo
                .get_preset(caller.0.account, name.trim())
                .await
                .or_internal("preset lookup failed")?;
            match found {
                Some(p) => {
                    merged.extend(p.params.as_object().cloned().unwrap_or_default());
                    preset_name = Some(p.name);
                }
                None => err(&format!(
                    "no parameter set named {:?}; create it with PUT /api/v1/params/{{name}}",
                    name.trim()
                )),
            }
        }
        (Mode::Params, Some(Value::Object(inline))) => {
            if let Some(bad) = inline.keys().find(|k| !OPTION_FIELDS.contains(&k.as_str())) {
                err(&format!(
                    "unknown option {bad:?}; known: {}",
                    OPTION_FIELDS.join(", ")
                ));
            }
            merged.extend(inline.clone());
        }
        (Mode::Params, Some(_)) => err("must be a parameter set name or an object"),
        // Other modes ignore `params`, as the vendor does: clients that always send it still work.
        (_, _) => {}
    }
    for (k, v) in f {
        if k != "params" && k != "mode" && k != "file_url" {
            merged.insert(k.clone(), v.clone());
        }
    }
    Ok((merged, preset_name))
}

async fn store_input(state: &AppState, job: JobId, f: &Upload) -> Result<BlobKey, ApiError> {
    let key = BlobKey::job_input(job);
    let path: PathBuf = f.temp.to_path_buf();
    state
        .blobs
        .put_file(&key, &path)
        .await
        .or_internal("storing an upload failed")?;
    Ok(key)
}
