//! The asset family's request and response bodies, as the API description shows them. Handlers
//! answer with these types; forms and add-on parameters are read field by field (so a refusal
//! names the rule it broke).

use cutout_store::{Asset, AssetId, Conversion};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::service::state::AppState;

/// An asset: its file's facts, the client's metadata, conversions and lineage.
#[derive(Serialize, ToSchema)]
pub struct AssetView {
    #[schema(value_type = String, format = Uuid)]
    pub id: AssetId,
    pub name: String,
    /// The sniffed type of the file.
    #[schema(examples("image/jpeg"))]
    pub content_type: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
    /// The client's own metadata (a JSON object), changed with `PATCH`.
    #[schema(value_type = Object)]
    pub custom_data: Value,
    /// Lineage: the asset this one was made from (the add-on's `add_new_asset`).
    #[schema(required, value_type = Option<String>, format = Uuid)]
    pub source_asset_id: Option<AssetId>,
    #[schema(format = Uri)]
    pub file_url: String,
    pub conversions: Vec<ConversionView>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A named derivative of an asset (the add-on's `add_conversion`).
#[derive(Serialize, ToSchema)]
pub struct ConversionView {
    #[schema(pattern = "^[a-zA-Z0-9_-]{1,30}$")]
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    /// Its file.
    #[schema(format = Uri)]
    pub url: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl AssetView {
    pub fn of(state: &AppState, a: &Asset, conversions: &[Conversion]) -> Self {
        let base = format!("{}/api/v1/assets/{}", state.public_url, a.id);
        let conversions = conversions
            .iter()
            .map(|c| ConversionView {
                name: c.name.clone(),
                content_type: c.mime.clone(),
                size: c.size,
                width: c.width,
                height: c.height,
                url: format!("{base}/conversions/{}", c.name),
                created_at: crate::time::rfc3339(c.created_at),
                updated_at: crate::time::rfc3339(c.updated_at),
            })
            .collect();
        Self {
            id: a.id,
            name: a.name.clone(),
            content_type: a.mime.clone(),
            size: a.size,
            width: a.width,
            height: a.height,
            sha256: a.sha256.clone(),
            custom_data: a.custom.clone(),
            source_asset_id: a.source,
            file_url: format!("{base}/file"),
            conversions,
            created_at: crate::time::rfc3339(a.created_at),
            updated_at: crate::time::rfc3339(a.updated_at),
        }
    }
}

/// A page of assets, newest first.
#[derive(Serialize, ToSchema)]
pub struct AssetList {
    pub data: Vec<AssetView>,
    pub has_more: bool,
    /// Pass as `cursor` for the next page; null on the last.
    #[schema(required)]
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConversionList {
    pub data: Vec<ConversionView>,
}

/// `GET /api/v1/assets?limit&cursor`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `POST /api/v1/assets`: multipart/form-data.
#[allow(dead_code)] // Described, not built: the form reader streams the file to disk.
#[derive(ToSchema)]
pub struct AssetForm {
    /// The image (also accepted as `image`); its type is sniffed from the bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Defaults to the file's name.
    name: Option<String>,
    /// A JSON object, as text (also accepted as `metadata`).
    custom_data: Option<String>,
}

/// `PATCH /api/v1/assets/{id}`.
#[allow(dead_code)] // Described, not built: the handler reads the one field itself.
#[derive(ToSchema)]
#[schema(example = json!({"custom_data": {"sku": "A-1", "obsolete": null}}))]
pub struct AssetPatch {
    /// Merged into the asset's custom data as an RFC 7396 merge patch (null removes a key).
    #[schema(value_type = Object)]
    custom_data: Value,
}

/// The bg_remove add-on's query parameters. Processing options (`model`, `bg_color`,
/// `bg_image_url`, `crop`, `crop_margin`, `size`, `only_mask`) are read as for image jobs.
#[allow(dead_code)] // Described, not built: `addon_params::parse` reads the raw query.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AddonQuery {
    /// `get_image` answers with the PNG; `save_image` saves it and answers JSON;
    /// `get_image_and_save` answers with the PNG and saves it in the background.
    #[param(inline, default = "get_image")]
    mode: Option<AddonModeName>,
    /// Required for `save_image` and `get_image_and_save`.
    #[param(inline)]
    disposition: Option<DispositionName>,
    /// Required for `add_conversion` and `metadata=inherit` (on the asset route it defaults to
    /// the path's asset).
    #[param(format = Uuid)]
    asset_id: Option<String>,
    /// Required for `add_conversion`.
    #[param(pattern = "^[a-zA-Z0-9_-]{1,30}$")]
    conversion_name: Option<String>,
    /// Only with `add_new_asset`: copies the source's custom data (`inherit`).
    #[param(pattern = "^inherit$")]
    metadata: Option<String>,
    /// An installed image model (see `GET /v1/models`).
    model: Option<String>,
    /// As for image jobs.
    bg_color: Option<String>,
    /// As for image jobs.
    #[param(format = Uri)]
    bg_image_url: Option<String>,
    /// As for image jobs.
    crop: Option<bool>,
    /// As for image jobs.
    crop_margin: Option<String>,
    /// As for image jobs.
    size: Option<String>,
    /// As for image jobs.
    only_mask: Option<bool>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
enum AddonModeName {
    GetImage,
    SaveImage,
    GetImageAndSave,
}

#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
enum DispositionName {
    AddConversion,
    AddNewAsset,
}

/// `POST /api/v1/assets/file/addons/bg_remove`: multipart/form-data.
#[allow(dead_code)] // Described, not built: the form reader streams the file to disk.
#[derive(ToSchema)]
pub struct AddonForm {
    /// The image (also accepted as `file`).
    #[schema(value_type = String, format = Binary)]
    image: Vec<u8>,
}

/// What `save_image` answers. `add_conversion`: `asset_id` and `conversion_name`;
/// `add_new_asset`: `new_asset_id`, plus `source_asset_id` and `metadata` when they were given.
#[derive(Serialize, ToSchema)]
pub struct BgRemoveSaved {
    #[schema(pattern = "^ok$")]
    pub status: &'static str,
    #[schema(pattern = "^save_image$")]
    pub mode: &'static str,
    #[schema(inline)]
    pub disposition: DispositionWord,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub asset_id: Option<AssetId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversion_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub new_asset_id: Option<AssetId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub source_asset_id: Option<AssetId>,
    /// `inherit` when the source's custom data was copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<&'static str>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DispositionWord {
    AddConversion,
    AddNewAsset,
}
