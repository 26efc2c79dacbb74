//! The asset store: upload, read, list, patch custom metadata, delete, and download originals and
//! conversions. Errors use the structured `{"error":{"code","message","request_id"}}` shape, and
//! another account's asset is a 404, never a 403, so ids cannot be probed.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cutout_store::{Asset, AssetId, BlobKey, Scope};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::error::OrInternal;
use crate::http::auth::Caller;
use crate::http::doc::StructuredError;
use crate::http::extract::QueryParams;
use crate::http::form::{check_image, Form, FormSpec};
use crate::http::idempotency::{remember, replay, request_hash};
use crate::http::Idempotency;
use crate::service::assets::{new_asset, FileFacts};
use crate::service::state::AppState;

use super::types::{AssetForm, AssetList, AssetPatch, AssetView, ConversionList, ListQuery};

/// Largest page of `GET /api/v1/assets`.
const MAX_PAGE: u32 = 100;

/// An asset id from a path or query; a malformed one names nothing, so it is a 404.
pub fn parse_id(s: &str) -> Result<AssetId, ApiError> {
    s.trim().parse().map_err(|_| ApiError::NotFound)
}

/// The caller's asset, or 404.
pub async fn owned(state: &AppState, caller: &Caller, id: AssetId) -> Result<Asset, ApiError> {
    state
        .repo
        .get_asset(caller.0.account, id)
        .await
        .or_internal("asset lookup failed")?
        .ok_or(ApiError::NotFound)
}

/// The caller's asset named by a path id, for a key that may read assets.
async fn readable(state: &AppState, caller: &Caller, id: &str) -> Result<Asset, ApiError> {
    caller.require(Scope::AssetsRead)?;
    owned(state, caller, parse_id(id)?).await
}

async fn full_view(state: &AppState, caller: &Caller, a: &Asset) -> Result<AssetView, ApiError> {
    let conversions = state
        .repo
        .list_conversions(caller.0.account, a.id)
        .await
        .or_internal("conversion lookup failed")?;
    Ok(AssetView::of(state, a, &conversions))
}

/// Upload an asset
///
/// Multipart `file` (or `image`), optional `name` and `custom_data` (or `metadata`), a JSON
/// object. Needs `assets:write`.
#[utoipa::path(post, path = "/api/v1/assets", tag = "Assets", operation_id = "createAsset",
    params(Idempotency),
    request_body(content = AssetForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored.", body = AssetView),
        (status = 400, description = "Bad request: the message names the broken rule.", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
        (status = 413, description = "The file is over the configured limit.", body = StructuredError),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Idempotency(idem): Idempotency,
    req: Request,
) -> Result<Response, ApiError> {
    caller.require(Scope::AssetsWrite)?;
    let Form { fields, file, .. } = read_form(&state, req, &["file", "image"]).await?;
    let file =
        file.ok_or_else(|| ApiError::BadRequest("the multipart field file is required".into()))?;
    let hash = request_hash("assets", &fields, Some(&file.sha256));
    if let Some(k) = &idem {
        if let Some(r) = replay(&state, &caller, k, &hash).await? {
            return Ok(r);
        }
    }
    let custom = match fields.get("custom_data").or_else(|| fields.get("metadata")) {
        None => json!({}),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return Err(ApiError::BadRequest(
                    "custom_data must be a JSON object".into(),
                ))
            }
        },
        Some(_) => {
            return Err(ApiError::BadRequest(
                "custom_data must be a JSON object".into(),
            ))
        }
    };
    let info = match check_image(&state, &file).await {
        Ok(Some(info)) => info,
        Ok(None) => {
            return Err(ApiError::BadRequest(
                "the file's image header could not be read".into(),
            ))
        }
        Err(msg) => return Err(ApiError::BadRequest(format!("file: {msg}"))),
    };
    let name = fields
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or(file.file_name.clone())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "image".into());
    let facts = FileFacts {
        name: name.chars().take(255).collect(),
        mime: info.mime.into(),
        size: file.size,
        width: info.width,
        height: info.height,
        sha256: file.sha256.clone(),
    };
    let asset = new_asset(AssetId::new(), caller.0.account, facts, custom, None);
    state
        .blobs
        .put_file(&asset.blob, &file.temp)
        .await
        .or_internal("storing an asset failed")?;
    if let Err(e) = state.repo.create_asset(&asset).await {
        crate::service::assets::delete_quietly(&state, &asset.blob).await;
        return Err(ApiError::internal("recording an asset failed", &e));
    }
    tracing::info!(asset_id = %asset.id, size = asset.size, "asset stored");
    let body = AssetView::of(&state, &asset, &[]);
    remember(&state, &caller, idem, hash, StatusCode::CREATED, &body).await
}

/// An asset form: text fields and the file under one of `file_fields` (the first is the name
/// a refusal mentions).
pub(super) async fn read_form(
    state: &AppState,
    req: Request,
    file_fields: &'static [&'static str],
) -> Result<Form, ApiError> {
    let spec = FormSpec {
        file_fields,
        max_bytes: state.config.limits.max_input_bytes,
        second_file: Some(|| ApiError::BadRequest("send one file per asset".into())),
        text_fields: true,
        other_files: &[],
    };
    Form::read(state, req, &spec).await
}

/// An asset's metadata, conversions and lineage
#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "Assets", operation_id = "getAsset",
    params(("id" = String, Path, format = Uuid, description = "The asset's id.")),
    responses(
        (status = 200, description = "The asset.", body = AssetView),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
        (status = 404, description = "No such asset for this account.", body = StructuredError),
    ))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AssetView>, ApiError> {
    let a = readable(&state, &caller, &id).await?;
    Ok(Json(full_view(&state, &caller, &a).await?))
}

/// List assets, newest first
///
/// `next_cursor` fetches the next page.
#[utoipa::path(get, path = "/api/v1/assets", tag = "Assets", operation_id = "listAssets",
    params(ListQuery),
    responses(
        (status = 200, description = "A page.", body = AssetList),
        (status = 400, description = "`limit` or `cursor` is not valid.", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<AssetList>, ApiError> {
    caller.require(Scope::AssetsRead)?;
    let limit = match q.limit.as_deref().map(str::parse::<u32>) {
        None => 20,
        Some(Ok(n)) if (1..=MAX_PAGE).contains(&n) => n,
        Some(_) => return Err(ApiError::BadRequest(format!("limit must be 1-{MAX_PAGE}"))),
    };
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(c.parse::<AssetId>().map_err(|_| {
            ApiError::BadRequest("cursor is not a cursor this API returned".into())
        })?),
    };
    // One extra row tells whether another page exists.
    let mut rows = state
        .repo
        .list_assets(caller.0.account, cursor, limit + 1)
        .await
        .or_internal("listing assets failed")?;
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let mut data = Vec::with_capacity(rows.len());
    for a in &rows {
        data.push(full_view(&state, &caller, a).await?);
    }
    let next = has_more.then(|| rows.last().map(|a| a.id)).flatten();
    Ok(Json(AssetList {
        data,
        has_more,
        next_cursor: next.map(|id| id.to_string()),
    }))
}

/// Merge-patch custom metadata
///
/// `{"custom_data": {...}}`, applied as a JSON merge patch (RFC 7396): `null` removes a key.
#[utoipa::path(patch, path = "/api/v1/assets/{id}", tag = "Assets", operation_id = "patchAsset",
    params(("id" = String, Path, format = Uuid, description = "The asset's id.")),
    request_body = AssetPatch,
    responses(
        (status = 200, description = "The asset.", body = AssetView),
        (status = 400, description = "Bad request: the message names the broken rule.", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
        (status = 404, description = "No such asset for this account.", body = StructuredError),
    ))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<AssetView>, ApiError> {
    caller.require(Scope::AssetsWrite)?;
    let id = parse_id(&id)?;
    let patch = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(mut m)) => match m.remove("custom_data") {
            Some(p @ Value::Object(_)) => p,
            _ => return Err(ApiError::BadRequest(
                "send {\"custom_data\": {...}}: a JSON object merged into the asset's custom data"
                    .into(),
            )),
        },
        _ => {
            return Err(ApiError::BadRequest(
                "the body must be a JSON object".into(),
            ))
        }
    };
    let a = state
        .repo
        .patch_asset_custom(caller.0.account, id, &patch)
        .await
        .or_internal("patching an asset failed")?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(full_view(&state, &caller, &a).await?))
}

/// Delete an asset, its file and its conversions
///
/// Assets made from it keep their `source_asset_id` as a record of lineage.
#[utoipa::path(delete, path = "/api/v1/assets/{id}", tag = "Assets", operation_id = "deleteAsset",
    params(("id" = String, Path, format = Uuid, description = "The asset's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
        (status = 404, description = "No such asset for this account.", body = StructuredError),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::AssetsWrite)?;
    let blobs = state
        .repo
        .delete_asset(caller.0.account, parse_id(&id)?)
        .await
        .or_internal("deleting an asset failed")?
        .ok_or(ApiError::NotFound)?;
    for b in &blobs {
        crate::service::assets::delete_quietly(&state, b).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Download the original
#[utoipa::path(get, path = "/api/v1/assets/{id}/file", tag = "Assets", operation_id = "getAssetFile",
    params(("id" = String, Path, format = Uuid, description = "The asset's id.")),
    responses(
        (status = 200, description = "The file, with its sniffed type.", content_type = "image/*", body = Vec<u8>),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
        (status = 404, description = "No such asset for this account.", body = StructuredError),
    ))]
pub async fn file(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let a = readable(&state, &caller, &id).await?;
    let bytes = read_blob(&state, &a.blob)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(file_response(bytes, &a.mime, &a.name))
}

/// List an asset's conversions
#[utoipa::path(get, path = "/api/v1/assets/{id}/conversions", tag = "Assets",
    operation_id = "listConversions",
    params(("id" = String, Path, format = Uuid, description = "The asset's id.")),
    responses(
        (status = 200, description = "The conversions.", body = ConversionList),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
        (status = 404, description = "No such asset for this account.", body = StructuredError),
    ))]
pub async fn conversions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ConversionList>, ApiError> {
    let a = readable(&state, &caller, &id).await?;
    let full = full_view(&state, &caller, &a).await?;
    Ok(Json(ConversionList {
        data: full.conversions,
    }))
}

/// Download a conversion
#[utoipa::path(get, path = "/api/v1/assets/{id}/conversions/{name}", tag = "Assets",
    operation_id = "getConversion",
    params(("id" = String, Path, format = Uuid, description = "The asset's id."), ("name" = String, Path, description = "The conversion's name.")),
    responses(
        (status = 200, description = "The file.", content_type = "image/png", body = Vec<u8>),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
        (status = 404, description = "No such asset for this account.", body = StructuredError),
    ))]
pub async fn conversion(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(Scope::AssetsRead)?;
    let id = parse_id(&id)?;
    // A concurrent replace may delete the blob between reading the row and the file; the row
    // then already points at the new blob, so one more look finds a whole file.
    for _ in 0..3 {
        let c = state
            .repo
            .get_conversion(caller.0.account, id, &name)
            .await
            .or_internal("conversion lookup failed")?
            .ok_or(ApiError::NotFound)?;
        if let Some(bytes) = read_blob(&state, &c.blob).await? {
            return Ok(file_response(bytes, &c.mime, &format!("{name}.png")));
        }
    }
    Err(ApiError::NotFound)
}

async fn read_blob(state: &AppState, blob: &BlobKey) -> Result<Option<bytes::Bytes>, ApiError> {
    state
        .blobs
        .get(blob)
        .await
        .or_internal("reading a blob failed")
}

fn file_response(bytes: bytes::Bytes, mime: &str, name: &str) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    // Only safe characters go into the header; the name is the client's.
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._- ".contains(*c))
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    // An uploaded SVG is a document that may carry scripts: opened from this origin, it must
    // not run them or load anything.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    resp
}
