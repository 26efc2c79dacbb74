//! `POST /v1.0/removebg` and `GET /v1.0/account`.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use cutout_core::decode::{check_dimensions, probe_with};
use cutout_core::CutoutError;
use cutout_store::Scope;
use serde_json::{Map, Value};

use super::error::RemoveBgErrors;
use super::output::{answer, finish};
use super::params::{self, Backdrop, Kind, RemoveBgRequest, SizeClass};
use super::types::{
    RemoveBgAccount, RemoveBgAccountApi, RemoveBgAccountAttributes, RemoveBgAccountCredits,
    RemoveBgAccountData, RemoveBgAnswer, RemoveBgForm,
};
use crate::error::{ApiError, ErrorCode, OrInternal};
use crate::http::auth::Caller;
use crate::http::form::{Form, FormSpec};
use crate::service::inline::{self, Charge};
use crate::service::render::{cut_out_then, decode_limits, fetch};
use crate::service::state::AppState;
use crate::service::JobError;

/// A 400 with remove.bg's body and a specific code (what `ApiError` cannot say).
fn refuse(title: &str, code: &str, detail: impl Into<String>) -> Response {
    let body = RemoveBgErrors::one(title, code, Some(detail.into()));
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// Remove the background (remove.bg API v1.0)
///
/// Synchronous: answers with the result. Credits by result size (`removebg.credits_preview`
/// up to 0.25 MP, else `removebg.credits_full`), charged only on success.
#[utoipa::path(post, path = "/v1.0/removebg", tag = "remove.bg",
    operation_id = "removeBg",
    request_body(content(
        (RemoveBgForm = "multipart/form-data"),
        (RemoveBgForm = "application/x-www-form-urlencoded"),
        (RemoveBgForm = "application/json"),
    )),
    responses(
        (status = 200, description = "The result, as `format` says; with `Accept: application/json`, \
            the JSON form.",
            headers(
                ("X-Type" = String, description = "What `type` was asked (`auto`: `other`)."),
                ("X-Width" = u32, description = "The result's width."),
                ("X-Height" = u32, description = "The result's height."),
                ("X-Credits-Charged" = i64, description = "Credits this call cost."),
                ("X-Foreground-Top" = u32, description = "The subject's box in the result."),
                ("X-Foreground-Left" = u32, description = "The subject's box in the result."),
                ("X-Foreground-Width" = u32, description = "The subject's box in the result."),
                ("X-Foreground-Height" = u32, description = "The subject's box in the result."),
            ),
            content(
                (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/webp"),
                (Vec<u8> = "application/zip"), (RemoveBgAnswer = "application/json"),
            )),
        (status = 400, description = "A bad parameter, no or several sources, or an image that \
            cannot be read or is over the limits.", body = RemoveBgErrors),
        (status = 401, description = "Never sent: remove.bg answers a missing or bad key with 403.",
            body = RemoveBgErrors),
        (status = 402, description = "Not enough credits.", body = RemoveBgErrors),
        (status = 403, description = "Missing or invalid API key, or the key lacks `images:write`.",
            body = RemoveBgErrors),
        (status = 503, description = "Every inference slot stayed busy for `removebg.max_wait_ms`; \
            retry after `Retry-After`.", body = RemoveBgErrors),
    ))]
pub async fn remove_bg(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    caller.require(Scope::ImagesWrite)?;
    let wants_json = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let input = match read_request(&state, req).await {
        Ok(i) => i,
        Err(Refusal(r)) => return Ok(r),
    };
    let rb = match params::parse(&input.fields) {
        Ok(r) => r,
        Err(e) => return Ok(refuse("Invalid parameters", "invalid_parameter", e)),
    };
    if let Some(m) = &rb.model {
        if !state.segmenters.image_models().contains(m) {
            let detail = format!("model: `{m}` is not installed here (see GET /v1/models)");
            return Ok(refuse("Invalid parameters", "invalid_parameter", detail));
        }
    }
    let image = match source(&state, &input, &rb).await {
        Ok(b) => b,
        Err(Refusal(r)) => return Ok(r),
    };
    let limits = decode_limits(&state);
    let header = probe_with(&image, &limits).and_then(|(_, w, h)| check_dimensions(w, h, &limits));
    if let Err(e) = header {
        let e = CutoutError::Decode(e);
        return Ok(refuse("Failed to read the image", e.code(), e.to_string()));
    }
    let background = match (&rb.backdrop, input.bg_file) {
        (Backdrop::Url(u), _) => match fetch(&state, u).await {
            Ok(b) => Some(b),
            Err(e) => {
                return Ok(refuse(
                    "Failed to fetch bg_image_url",
                    "invalid_parameter",
                    e.to_string(),
                ))
            }
        },
        (Backdrop::File, file) => file,
        _ => None,
    };
    run(&state, &caller, rb, image, background, wants_json).await
}

/// Waits (boundedly) for an inference slot, charges, cuts out, and refunds a failure.
async fn run(
    state: &AppState,
    caller: &Caller,
    rb: RemoveBgRequest,
    image: Bytes,
    background: Option<Bytes>,
    wants_json: bool,
) -> Result<Response, ApiError> {
    let cfg = &state.config.removebg;
    let cost = match rb.size {
        SizeClass::Preview => cfg.credits_preview,
        _ => cfg.credits_full,
    };
    let charge = Charge {
        account: caller.0.account,
        cost,
        max_wait: Some(Duration::from_millis(cfg.max_wait_ms)),
        what: "remove.bg call",
    };
    let model = rb
        .model
        .clone()
        .unwrap_or_else(|| model_for(state, rb.kind));
    let kind = rb.kind.header();
    let limits = decode_limits(state);
    let render = || {
        cut_out_then(state, &model, image, move |cutout| {
            finish(cutout, &rb, background.as_deref(), &limits)
        })
    };
    match inline::charged_render(state, charge, render).await {
        Ok(f) => Ok(answer(f, kind, cost, wants_json)),
        Err(refused) => failure(refused.into_render()?),
    }
}

/// The model for `type`: the portrait model for people when it is installed.
fn model_for(state: &AppState, kind: Kind) -> String {
    let cfg = &state.config;
    let person = &cfg.removebg.person_model;
    if kind == Kind::Person && state.segmenters.image_models().contains(person) {
        person.clone()
    } else {
        cfg.inference.default_model.clone()
    }
}

fn failure(e: JobError) -> Result<Response, ApiError> {
    match e {
        JobError::Abort { code, message } if code != ErrorCode::INTERNAL => Ok(refuse(
            "Failed to process the image",
            code.as_str(),
            message,
        )),
        JobError::Abort { message, .. } => {
            Err(ApiError::internal("remove.bg call failed", &message))
        }
        JobError::Broken { code, message } => {
            tracing::error!(%code, error = %message, "remove.bg processing cannot run here");
            Err(ApiError::Unavailable {
                reason: "processing is unavailable on this server",
                retry_after_secs: 60,
            })
        }
        JobError::Retry { code, message } => {
            tracing::warn!(%code, error = %message, "remove.bg processing failed; the client may retry");
            Err(ApiError::Unavailable {
                reason: "processing is temporarily unavailable, retry later",
                retry_after_secs: 5,
            })
        }
    }
}

/// A finished refusal, already in remove.bg's shape.
struct Refusal(Response);

/// The request's parameters and files, whatever its content type.
struct Input {
    fields: Map<String, Value>,
    image_file: Option<Bytes>,
    b64_file: Option<Bytes>,
    bg_file: Option<Bytes>,
}

async fn read_request(state: &AppState, req: Request) -> Result<Input, Refusal> {
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    // base64 is 4/3 of the bytes it carries.
    let max = state.config.limits.max_input_bytes.saturating_mul(4) / 3 + (64 << 10);
    let too_large = |_| {
        Refusal(refuse(
            "File too large",
            "file_too_large",
            format!("the request is over {max} bytes"),
        ))
    };
    if kind.starts_with("multipart/form-data") {
        let spec = FormSpec {
            file_fields: &["image_file"],
            max_bytes: max,
            second_file: None,
            text_fields: true,
            other_files: &["bg_image_file", "image_file_b64"],
        };
        let form = Form::read(state, req, &spec)
            .await
            .map_err(|e| Refusal(e.into_response_for(super::DIALECT, None)))?;
        let read = |u: &crate::http::form::Upload| std::fs::read(&u.temp).map(Bytes::from);
        let other = |name: &str| form.others.iter().find(|(n, _)| n == name).map(|(_, u)| u);
        let internal = |e: std::io::Error| {
            Refusal(
                ApiError::internal("reading an upload", &e).into_response_for(super::DIALECT, None),
            )
        };
        let mut fields = form.fields.clone();
        if other("bg_image_file").is_some() {
            fields.insert("bg_image_file".into(), Value::Bool(true));
        }
        return Ok(Input {
            image_file: form.file.as_ref().map(read).transpose().map_err(internal)?,
            b64_file: other("image_file_b64")
                .map(read)
                .transpose()
                .map_err(internal)?,
            bg_file: other("bg_image_file")
                .map(read)
                .transpose()
                .map_err(internal)?,
            fields,
        });
    }
    let body = axum::body::to_bytes(req.into_body(), max as usize)
        .await
        .map_err(too_large)?;
    let fields: Map<String, Value> = if kind.starts_with("application/json") {
        match serde_json::from_slice(&body) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(Refusal(refuse(
                    "Invalid JSON",
                    "invalid_parameter",
                    "the body must be a JSON object",
                )))
            }
        }
    } else if kind.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|e| Refusal(refuse("Invalid form", "invalid_parameter", e.to_string())))?;
        pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    } else {
        return Err(Refusal(refuse(
            "Unsupported content type",
            "invalid_parameter",
            "send multipart/form-data, application/x-www-form-urlencoded or application/json",
        )));
    };
    Ok(Input {
        fields,
        image_file: None,
        b64_file: None,
        bg_file: None,
    })
}

/// The photo's bytes from exactly one of `image_file`, `image_file_b64` and `image_url`.
async fn source(state: &AppState, input: &Input, rb: &RemoveBgRequest) -> Result<Bytes, Refusal> {
    let b64_text = input.fields.get("image_file_b64").and_then(Value::as_str);
    let given = [
        input.image_file.is_some(),
        input.b64_file.is_some() || b64_text.is_some_and(|s| !s.trim().is_empty()),
        rb.image_url.is_some(),
    ];
    match given.iter().filter(|g| **g).count() {
        0 => {
            return Err(Refusal(refuse(
                "No image given",
                "missing_source",
                "give image_file, image_file_b64 or image_url",
            )))
        }
        1 => {}
        _ => {
            return Err(Refusal(refuse(
                "Multiple sources",
                "invalid_parameter",
                "give only one of image_file, image_file_b64 and image_url",
            )))
        }
    }
    if let Some(file) = &input.image_file {
        return Ok(file.clone());
    }
    if let Some(url) = &rb.image_url {
        return fetch(state, url).await.map_err(|e| {
            Refusal(refuse(
                "Failed to fetch image_url",
                "invalid_parameter",
                e.to_string(),
            ))
        });
    }
    let text = match &input.b64_file {
        Some(b) => String::from_utf8_lossy(b).into_owned(),
        None => b64_text.unwrap_or_default().to_owned(),
    };
    // A data: URL's prefix is allowed; whitespace (line-wrapped base64) is ignored.
    let payload = text
        .split_once(',')
        .filter(|(p, _)| p.starts_with("data:"))
        .map_or(text.as_str(), |(_, d)| d);
    let clean: String = payload
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(clean)
        .map(Bytes::from)
        .map_err(|e| {
            Refusal(refuse(
                "Invalid image_file_b64",
                "invalid_parameter",
                format!("image_file_b64 is not base64: {e}"),
            ))
        })
}

/// Account balance (remove.bg API v1.0)
#[utoipa::path(get, path = "/v1.0/account", tag = "remove.bg", operation_id = "removeBgAccount",
    responses(
        (status = 200, description = "The account's credits.", body = RemoveBgAccount),
        (status = 401, description = "Never sent: remove.bg answers a missing or bad key with 403.",
            body = RemoveBgErrors),
        (status = 403, description = "Missing or invalid API key.", body = RemoveBgErrors),
    ))]
pub async fn account(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let balance = state
        .repo
        .get_account(caller.0.account)
        .await
        .or_internal("reading an account failed")?
        .map_or(0, |a| a.balance);
    let body = RemoveBgAccount {
        data: RemoveBgAccountData {
            attributes: RemoveBgAccountAttributes {
                credits: RemoveBgAccountCredits {
                    total: balance,
                    subscription: 0,
                    payg: balance,
                    enterprise: 0,
                },
                api: RemoveBgAccountApi {
                    free_calls: 0,
                    sizes: "all",
                },
            },
        },
    };
    Ok(axum::Json(body).into_response())
}
