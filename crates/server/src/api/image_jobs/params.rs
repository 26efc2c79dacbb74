//! `/api/v1/params`: named parameter presets per account, used by `mode=params`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cutout_store::Scope;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::error::OrInternal;
use crate::http::auth::Caller;
use crate::http::idempotency::{remember, replay, request_hash};
use crate::http::Idempotency;
use crate::service::spec::{self, Mode, OPTION_FIELDS};
use crate::service::state::AppState;

use super::error::{
    BadRequest, Forbidden, InternalError, NotFound, RateLimited, Unauthorized, ValidationError,
};
use super::types::{PresetCreate, PresetList, PresetPut, PresetView};

fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::field(
            "name",
            "must be 1-64 characters of A-Z a-z 0-9 _ - .",
        ))
    }
}

/// A preset's options are validated like a request's, so a stored preset always works.
fn check_options(state: &AppState, opts: &Map<String, Value>) -> Result<(), ApiError> {
    if let Some(bad) = opts.keys().find(|k| !OPTION_FIELDS.contains(&k.as_str())) {
        return Err(ApiError::field(
            "params",
            format!(
                "unknown option {bad:?}; known: {}",
                OPTION_FIELDS.join(", ")
            ),
        ));
    }
    let models = state.segmenters.image_models();
    let ctx = spec::Context {
        models: &models,
        default_model: &state.config.inference.default_model,
        allow_hosts: &state.config.fetch.allow_hosts,
    };
    spec::parse_options(opts, Mode::Params, None, None, &ctx)
        .map(|_| ())
        .map_err(ApiError::Validation)
}

fn parse_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        )),
        Err(e) => Err(ApiError::BadRequest(format!("invalid JSON: {e}"))),
    }
}

/// List parameter sets
#[utoipa::path(get, path = "/api/v1/params", tag = "Parameter sets", operation_id = "listParams",
    responses(
        (status = 200, description = "The account's parameter sets.", body = PresetList),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<PresetList>, ApiError> {
    let presets = state
        .repo
        .list_presets(caller.0.account)
        .await
        .or_internal("listing presets failed")?;
    Ok(Json(PresetList {
        params: presets.iter().map(PresetView::from).collect(),
    }))
}

/// Get a parameter set
#[utoipa::path(get, path = "/api/v1/params/{name}", tag = "Parameter sets", operation_id = "getParams",
    params(("name" = String, Path, description = "The preset's name: 1-64 characters of A-Z a-z 0-9 _ - .")),
    responses(
        (status = 200, description = "The parameter set.", body = PresetView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    ))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<PresetView>, ApiError> {
    let p = state
        .repo
        .get_preset(caller.0.account, &name)
        .await
        .or_internal("reading a preset failed")?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(PresetView::from(&p)))
}

/// Create or replace a parameter set
///
/// `{"name": ..., "params": {...}}`. The options are validated like a request's, so a stored
/// set always works. Needs `params:write`.
#[utoipa::path(post, path = "/api/v1/params", tag = "Parameter sets", operation_id = "createParams",
    params(Idempotency),
    request_body = PresetCreate,
    responses(
        (status = 201, description = "Created.", body = PresetView),
        (status = 200, description = "Replaced.", body = PresetView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = ValidationError),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Idempotency(idem): Idempotency,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.require(Scope::ParamsWrite)?;
    let fields = parse_body(&body)?;
    let hash = request_hash("params.create", &fields, None);
    if let Some(k) = &idem {
        if let Some(r) = replay(&state, &caller, k, &hash).await? {
            return Ok(r);
        }
    }
    let name = fields
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::field("name", "name is required"))?;
    let opts = match fields.get("params") {
        Some(Value::Object(o)) => o.clone(),
        _ => {
            return Err(ApiError::field(
                "params",
                "params must be an object of options",
            ))
        }
    };
    let (status, body) = save(&state, &caller, name, &opts).await?;
    remember(&state, &caller, idem, hash, status, &body).await
}

/// Create or replace a named parameter set
///
/// The body is the options object (or `{"params": {...}}`). Needs `params:write`.
#[utoipa::path(put, path = "/api/v1/params/{name}", tag = "Parameter sets", operation_id = "putParams",
    params(("name" = String, Path, description = "The preset's name: 1-64 characters of A-Z a-z 0-9 _ - .")),
    request_body = PresetPut,
    responses(
        (status = 201, description = "Created.", body = PresetView),
        (status = 200, description = "Replaced.", body = PresetView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = ValidationError),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    ))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.require(Scope::ParamsWrite)?;
    let mut fields = parse_body(&body)?;
    if let Some(Value::Object(inner)) = fields.remove("params") {
        fields = inner;
    }
    let (status, body) = save(&state, &caller, &name, &fields).await?;
    Ok((status, Json(body)).into_response())
}

async fn save(
    state: &AppState,
    caller: &Caller,
    name: &str,
    opts: &Map<String, Value>,
) -> Result<(StatusCode, PresetView), ApiError> {
    check_name(name)?;
    check_options(state, opts)?;
    // A null or empty option is an absent one (as at job creation): not stored, never echoed.
    let opts: Map<String, Value> = opts
        .iter()
        .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
        .map(|(k, v)| {
            // Stored as the schema says, however the client spelled them: booleans as booleans
            // (`1`, `yes`, ...), every other option as text (`"crop_margin": 0` → `"0"`).
            let flag = matches!(k.as_str(), "crop" | "only_mask");
            let v = match (flag, crate::service::spec::boolean(v), v) {
                (true, Some(b), _) => Value::Bool(b),
                (false, _, Value::Number(n)) => Value::String(n.to_string()),
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    let fail = |e: cutout_store::StoreError| ApiError::internal("saving a preset failed", &e);
    let created = state
        .repo
        .put_preset(caller.0.account, name, &Value::Object(opts.clone()))
        .await
        .map_err(fail)?;
    let stored = state
        .repo
        .get_preset(caller.0.account, name)
        .await
        .map_err(fail)?
        .ok_or(ApiError::Internal)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, PresetView::from(&stored)))
}

/// Delete a parameter set
#[utoipa::path(delete, path = "/api/v1/params/{name}", tag = "Parameter sets", operation_id = "deleteParams",
    params(("name" = String, Path, description = "The preset's name: 1-64 characters of A-Z a-z 0-9 _ - .")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::ParamsWrite)?;
    let gone = state
        .repo
        .delete_preset(caller.0.account, &name)
        .await
        .or_internal("deleting a preset failed")?;
    if gone {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
