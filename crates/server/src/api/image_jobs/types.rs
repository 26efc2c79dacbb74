//! The image jobs family's request and response bodies, as the API description shows them.
//! Handlers answer with these types. Requests are read field by field by `service::spec` (so a
//! 422 names every bad field); the request types here describe them, and the tests below check
//! that they list exactly the fields the reader knows and that their examples are accepted.

use cutout_store::{JobEvent, JobId, Preset, Usage};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::service::spec::{Delivery, Mode, ProcessingRequest};
use crate::service::views::JobStatus;

/// The options a request or a parameter set (preset) may set. Unknown keys are refused in
/// presets and inline `params` objects.
#[allow(dead_code)] // Described, not built: `spec::parse_options` reads the raw fields.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"output_format": "webp", "crop": true, "crop_margin": "10%"}))]
pub struct ProcessingOptions {
    #[schema(inline)]
    output_format: Option<OutputFormatName>,
    /// An installed image model (see `GET /v1/models`); the server's default model when absent.
    model: Option<String>,
    /// Background colour: `RGB`, `RGBA`, `RRGGBB` or `RRGGBBAA` hex (with or without `#`) or
    /// white, black, red, green, blue, gray/grey, transparent. Not with `bg_image_url`; not with
    /// mode=clipping.
    #[schema(examples("#ffffff", "#00ff0080", "white"))]
    bg_color: Option<String>,
    /// http(s) URL of a background image (fetched with the same network rules as `file_url`).
    /// Not with `bg_color`; not with mode=clipping.
    #[schema(format = Uri)]
    bg_image_url: Option<String>,
    /// Crop to the subject's bounding box plus `crop_margin`. In forms: true/false, 1/0, yes/no,
    /// on/off.
    #[schema(default = false)]
    crop: Option<bool>,
    /// Margin around the cropped subject: pixels (`30`, `30px`, at most 500) or percent (`10%`,
    /// at most 50%).
    #[schema(default = "0", examples("30", "30px", "10%"))]
    crop_margin: Option<String>,
    /// `full` (also `auto`, `original`), `preview` (also `small`; about 0.25 megapixels at most)
    /// or `WIDTHxHEIGHT`, a bounding box the result is fitted into.
    #[schema(default = "full", examples("full", "preview", "800x600"))]
    size: Option<String>,
    /// Return the alpha mask alone as a grayscale PNG (overrides `output_format`).
    #[schema(default = false)]
    only_mask: Option<bool>,
    /// http(s) URL notified when the job completes or fails (public addresses only).
    #[schema(format = Uri)]
    webhook_url: Option<String>,
}

/// Case-insensitive. `jpg`/`jpeg` have no transparency: a transparent cut-out is flattened on
/// white (a warning says so). `psd` is layered (the cut-out over the hidden original).
#[allow(dead_code)]
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = OutputFormat, default = "png")]
enum OutputFormatName {
    Png,
    Jpg,
    Jpeg,
    Psd,
    Tiff,
    Webp,
}

/// With mode=params only (required then; ignored with other modes): the name of a parameter set
/// stored with `/api/v1/params`, or an inline object of options. The request's own option
/// fields override the set's.
#[allow(dead_code)]
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
enum ParamsValue {
    /// A preset's name.
    Name(String),
    Inline(ProcessingOptions),
}

/// A job on a remote image (`application/json`; a body without Content-Type is read as JSON).
#[allow(dead_code)] // Described, not built: `spec::parse_options` reads the raw fields.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({
    "file_url": "https://example.com/image.jpg",
    "mode": "params",
    "params": {"output_format": "webp"},
    "delivery_mode": "url",
    "crop": true
}))]
pub struct UploadJsonRequest {
    /// http(s) URL of the image. Private, loopback, link-local and metadata addresses are
    /// refused (checked after DNS and on every redirect).
    #[schema(format = Uri)]
    file_url: String,
    mode: Option<Mode>,
    delivery_mode: Option<Delivery>,
    params: Option<ParamsValue>,
    #[serde(flatten)]
    options: ProcessingOptions,
}

/// A job on an uploaded image (`multipart/form-data`): give exactly one of `file` and
/// `file_url`. Every field is a form field; booleans are `true`/`false` (or 1/0, yes/no,
/// on/off).
#[allow(dead_code)] // Described, not built: the form reader streams the file to disk.
#[derive(Deserialize, ToSchema)]
pub struct UploadMultipartRequest {
    /// The image (one per job). The type is sniffed from the bytes: JPEG, PNG, WebP, AVIF,
    /// HEIC, TIFF, GIF, BMP, PSD (its composite), SVG (rasterised). Size and dimensions are
    /// limited by the server's configuration.
    #[schema(value_type = Option<String>, format = Binary)]
    file: Option<Vec<u8>>,
    /// Instead of `file`.
    #[schema(format = Uri)]
    file_url: Option<String>,
    mode: Option<Mode>,
    delivery_mode: Option<Delivery>,
    /// With mode=params: a preset name, or an inline JSON object of options as text.
    params: Option<String>,
    #[serde(flatten)]
    options: ProcessingOptions,
}

/// The job was accepted and queued.
#[derive(Serialize, ToSchema)]
pub struct UploadAccepted {
    #[schema(value_type = String, format = Uuid)]
    pub job_id: JobId,
    /// Always `queued`.
    #[schema(pattern = "^queued$")]
    pub status: &'static str,
    pub mode: Mode,
}

/// The status payload plus the validated request, timestamps and the audit trail.
#[derive(Serialize, ToSchema)]
pub struct JobDetail {
    #[serde(flatten)]
    pub status: JobStatus,
    /// The validated request as stored with the job.
    #[schema(value_type = ProcessingRequest)]
    pub options: Value,
    pub attempts: u32,
    /// Credits charged for the job.
    pub credits: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(required, format = DateTime)]
    pub finished_at: Option<String>,
    #[schema(required)]
    pub result: Option<ResultSummary>,
    pub events: Vec<JobEventView>,
}

/// The stored result's facts.
#[derive(Serialize, ToSchema)]
pub struct ResultSummary {
    #[schema(value_type = String, examples("png"))]
    pub format: Value,
    #[schema(value_type = u32)]
    pub width: Value,
    #[schema(value_type = u32)]
    pub height: Value,
    #[schema(value_type = u64)]
    pub bytes: Value,
}

impl ResultSummary {
    pub fn of(result: &Value) -> Self {
        let get = |k: &str| result.get(k).cloned().unwrap_or(Value::Null);
        Self {
            format: get("format"),
            width: get("width"),
            height: get("height"),
            bytes: get("bytes"),
        }
    }
}

/// One state transition: who moved the job, from where to where, and why.
#[derive(Serialize, ToSchema)]
#[schema(as = JobEvent)]
pub struct JobEventView {
    #[schema(format = DateTime)]
    pub at: String,
    #[schema(required)]
    pub from: Option<String>,
    pub to: String,
    pub actor: String,
    pub cause: String,
}

impl From<&JobEvent> for JobEventView {
    fn from(e: &JobEvent) -> Self {
        Self {
            at: crate::time::rfc3339(e.at),
            from: e.from.map(|s| s.as_str().to_owned()),
            to: e.to.as_str().to_owned(),
            actor: e.actor.clone(),
            cause: e.cause.clone(),
        }
    }
}

/// 1-64 characters of A-Z a-z 0-9 _ - .
#[derive(Deserialize, ToSchema)]
#[schema(value_type = String, pattern = "^[A-Za-z0-9_.-]{1,64}$")]
pub struct PresetName(#[allow(dead_code)] String);

/// A named parameter set.
#[derive(Serialize, ToSchema)]
#[schema(as = Preset)]
pub struct PresetView {
    #[schema(value_type = PresetName)]
    pub name: String,
    #[schema(value_type = ProcessingOptions)]
    pub params: Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&Preset> for PresetView {
    fn from(p: &Preset) -> Self {
        Self {
            name: p.name.clone(),
            params: p.params.clone(),
            created_at: crate::time::rfc3339(p.created_at),
            updated_at: crate::time::rfc3339(p.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PresetList {
    pub params: Vec<PresetView>,
}

/// `POST /api/v1/params`.
#[allow(dead_code)] // Described, not built: the handler reads the raw fields.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Test-Api", "params": {"output_format": "webp", "crop": true}}))]
pub struct PresetCreate {
    #[schema(value_type = PresetName)]
    name: String,
    params: ProcessingOptions,
}

/// `PUT /api/v1/params/{name}`: the options object itself, or wrapped as `{"params": {...}}`.
#[allow(dead_code)] // Described, not built: the handler reads the raw fields.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PresetPut {
    Bare(ProcessingOptions),
    Wrapped { params: ProcessingOptions },
}

/// The caller's account: balance and usage.
#[derive(Serialize, ToSchema)]
pub struct Account {
    #[schema(value_type = String, format = Uuid)]
    pub account_id: cutout_store::AccountId,
    pub name: String,
    /// Credits left.
    pub balance: i64,
    /// Same as `balance`.
    pub credits: i64,
    #[schema(value_type = UsageView)]
    pub usage: Usage,
    pub key: ApiKeyInfo,
    pub credits_per_image: i64,
}

/// Jobs and credits over the account's life.
#[allow(dead_code)] // Describes `cutout_store::Usage`, which the store serialises.
#[derive(Deserialize, ToSchema)]
#[schema(as = Usage)]
pub struct UsageView {
    jobs_total: u64,
    jobs_completed: u64,
    jobs_failed: u64,
    credits_spent: i64,
    credits_refunded: i64,
}

/// The key that made the request (never the secret).
#[derive(Serialize, ToSchema)]
pub struct ApiKeyInfo {
    #[schema(value_type = String, format = Uuid)]
    pub id: cutout_store::KeyId,
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    #[schema(value_type = Vec<String>, examples(json!(["*"]), json!(["images:write", "params:write"])))]
    pub scopes: Vec<cutout_store::Scope>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};
    use utoipa::PartialSchema;

    use super::*;
    use crate::service::spec::{self, OPTION_FIELDS};

    fn schema_of<T: PartialSchema>() -> Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    fn example_of<T: PartialSchema>() -> Map<String, Value> {
        let s = schema_of::<T>();
        s["example"]
            .as_object()
            .cloned()
            .unwrap_or_else(|| panic!("no example: {s}"))
    }

    fn parse(fields: &Map<String, Value>, mode: Mode) -> ProcessingRequest {
        let models = ["u2net".to_owned()];
        let ctx = spec::Context {
            models: &models,
            default_model: "u2net",
            allow_hosts: &[],
        };
        spec::parse_options(fields, mode, None, None, &ctx)
            .unwrap_or_else(|e| panic!("{fields:?} refused: {e:?}"))
    }

    /// The described options are exactly the ones the reader accepts.
    #[test]
    fn processing_options_list_every_option_field() {
        let s = schema_of::<ProcessingOptions>();
        let mut described: Vec<&str> = s["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut known = OPTION_FIELDS.to_vec();
        described.sort_unstable();
        known.sort_unstable();
        assert_eq!(described, known);
    }

    /// Every documented request example is accepted as documented.
    #[test]
    fn request_examples_parse() {
        let upload = example_of::<UploadJsonRequest>();
        let mut fields = upload.clone();
        let inline = fields.remove("params").unwrap();
        fields.extend(inline.as_object().unwrap().clone());
        fields.remove("file_url");
        fields.remove("mode");
        let r = parse(&fields, Mode::Params);
        assert_eq!(
            (r.crop, r.output_format.to_string().as_str()),
            (true, "webp")
        );
        let preset = example_of::<PresetCreate>();
        let r = parse(preset["params"].as_object().unwrap(), Mode::Params);
        assert!(r.crop);
        parse(&example_of::<ProcessingOptions>(), Mode::Params);
        let Ok(_) = crate::net::fetch::check_url(upload["file_url"].as_str().unwrap(), &[]) else {
            panic!("the example's file_url is refused");
        };
    }
}
