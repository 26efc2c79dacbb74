//! The remove.bg family's request and answer shapes, for the OpenAPI document (the parameters
//! themselves are read field by field in `params.rs`, so a 400 names every bad one).

use serde::Serialize;
use utoipa::ToSchema;

/// `Accept: application/json`: the result as base64 with the subject's box.
#[derive(Serialize, ToSchema)]
pub struct RemoveBgAnswer {
    pub data: RemoveBgAnswerData,
}

#[derive(Serialize, ToSchema)]
pub struct RemoveBgAnswerData {
    /// The result file (as `format` says), base64.
    pub result_b64: String,
    pub foreground_top: u32,
    pub foreground_left: u32,
    pub foreground_width: u32,
    pub foreground_height: u32,
}

/// The request's parameters: as multipart/form-data (files as parts),
/// application/x-www-form-urlencoded, or a JSON object. Give exactly one of `image_file`,
/// `image_file_b64` and `image_url`.
#[allow(dead_code)] // Described, not built.
#[derive(ToSchema)]
pub struct RemoveBgForm {
    /// The photo (multipart only). Any format of the upload endpoint: JPEG, PNG, WebP, AVIF,
    /// HEIC, TIFF, GIF, BMP, PSD, SVG.
    #[schema(value_type = Option<String>, format = Binary)]
    image_file: Option<Vec<u8>>,
    /// The photo, base64 (a `data:` URL prefix is allowed).
    image_file_b64: Option<String>,
    /// The photo's URL, fetched by the server (public addresses only).
    #[schema(format = Uri)]
    image_url: Option<String>,
    /// `auto` (default, = `full`), `preview`/`small`/`regular` (up to 0.25 MP), `medium` (1.5 MP),
    /// `hd` (4 MP), `full`/`4k`/`50MP` (the input's size, within the server's limits).
    #[schema(examples("auto"))]
    size: Option<String>,
    /// `auto` (default), `person` (runs `removebg.person_model`), `product`, `car`, `animal`,
    /// `graphic`, `transportation` (the default model). Echoed in `X-Type` (`auto`: `other`).
    #[schema(examples("auto"))]
    r#type: Option<String>,
    /// Accepted (`none`, `1`, `2`, `latest`) and ignored.
    type_level: Option<String>,
    /// `auto` (PNG if the result has transparency, else JPG), `png`, `jpg`, `webp`, `zip`
    /// (`color.jpg` + `alpha.png`).
    #[schema(examples("auto"))]
    format: Option<String>,
    /// Region of interest `x1 y1 x2 y2` (px or %): only the subject inside it is kept.
    #[schema(examples("0% 0% 100% 100%"))]
    roi: Option<String>,
    /// Crop to the subject (`true`/`false`).
    crop: Option<bool>,
    /// Margin around a crop: 1-4 values (CSS order), px or % of the subject's size.
    #[schema(examples("10px", "5% 10%"))]
    crop_margin: Option<String>,
    /// `original` or 10%-100%: the subject's size relative to the canvas.
    #[schema(examples("original", "80%"))]
    scale: Option<String>,
    /// `original`, `center`, or `x% y%` (like CSS `background-position`). Default: `original`,
    /// or `center` when `scale` is given.
    #[schema(examples("original", "center", "50% 100%"))]
    position: Option<String>,
    /// `rgba` (default) or `alpha` (the matte alone, grey).
    channels: Option<String>,
    /// `false` makes every pixel fully opaque or transparent.
    semitransparency: Option<bool>,
    /// A hex colour (`81d4fa`, `81d4fa77`) or a colour name.
    bg_color: Option<String>,
    /// A background image URL, fetched by the server (public addresses only).
    #[schema(format = Uri)]
    bg_image_url: Option<String>,
    /// A background image (multipart only).
    #[schema(value_type = Option<String>, format = Binary)]
    bg_image_file: Option<Vec<u8>>,
    /// Accepted for compatibility; no shadow is drawn.
    add_shadow: Option<bool>,
    /// A Cutout extension: an installed image model (`GET /v1/models`); default: by `type`.
    #[schema(examples("u2net"))]
    model: Option<String>,
}

/// `GET /v1.0/account`: remove.bg's account shape.
#[derive(Serialize, ToSchema)]
pub struct RemoveBgAccount {
    pub data: RemoveBgAccountData,
}

#[derive(Serialize, ToSchema)]
pub struct RemoveBgAccountData {
    pub attributes: RemoveBgAccountAttributes,
}

#[derive(Serialize, ToSchema)]
pub struct RemoveBgAccountAttributes {
    pub credits: RemoveBgAccountCredits,
    pub api: RemoveBgAccountApi,
}

/// The account's balance; Cutout has one kind of credit, reported as pay-as-you-go.
#[derive(Serialize, ToSchema)]
pub struct RemoveBgAccountCredits {
    pub total: i64,
    pub subscription: i64,
    pub payg: i64,
    pub enterprise: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RemoveBgAccountApi {
    /// Calls that cost nothing: none are counted here (see `removebg.credits_preview`).
    pub free_calls: i64,
    #[schema(examples("all"))]
    pub sizes: &'static str,
}
