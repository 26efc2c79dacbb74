//! The processing request, parsed once at the boundary. Raw fields come from a JSON body,
//! multipart fields or a stored preset; [`parse_options`] turns them into a
//! [`ProcessingRequest`] or the 422 `details` naming every bad field. Workers only ever see a
//! valid one.

use cutout_core::compose::parse_color;
use cutout_core::{CropMargin, OutputFormat, Rgba};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::FieldErrors;
use crate::net::fetch::check_url;

/// The fields a preset (or a request) may set.
pub const OPTION_FIELDS: &[&str] = &[
    "output_format",
    "model",
    "bg_color",
    "bg_image_url",
    "crop",
    "crop_margin",
    "size",
    "only_mask",
    "webhook_url",
];

/// `clipping`: the subject on transparency (no bg_color / bg_image_url allowed). `background`:
/// the subject on a new background (bg_color or bg_image_url; white by default). `params`: apply
/// a parameter set (`params`: a stored preset name or an inline object).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(default = "clipping")]
pub enum Mode {
    Clipping,
    Background,
    Params,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clipping => "clipping",
            Self::Background => "background",
            Self::Params => "params",
        }
    }
}

/// `url`: the result is served by Cutout under a signed, expiring URL
/// (`/api/v1/results/{id}?expires&signature`). `final_url`: the result is published under the
/// blob store's public base URL (default `/files/public/...`) and never expires.
/// Case-insensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DeliveryMode, default = "url")]
pub enum Delivery {
    /// A signed, expiring URL served by Cutout.
    Url,
    /// A permanent URL under the blob store's public base.
    FinalUrl,
}

/// What the subject is put on: nothing, a colour, or an image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum Backdrop {
    Transparent,
    Color(Colour),
    ImageUrl(String),
}

/// A parsed colour, stored as `#rrggbb` (`#rrggbbaa` when not opaque); older jobs stored what
/// the client sent, which parses the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Colour(pub Rgba<u8>);

impl std::fmt::Display for Colour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 .0 {
            [r, g, b, 255] => write!(f, "#{r:02x}{g:02x}{b:02x}"),
            [r, g, b, a] => write!(f, "#{r:02x}{g:02x}{b:02x}{a:02x}"),
        }
    }
}

/// Described as the text it is stored as.
impl utoipa::PartialSchema for Colour {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("`#rrggbb`, or `#rrggbbaa` when not opaque."))
            .examples(["#ffffff"])
            .into()
    }
}

impl ToSchema for Colour {}

impl std::str::FromStr for Colour {
    type Err = cutout_core::OptionsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_color(s).map(Self)
    }
}

/// Serde as text: `Display` out, `FromStr` in. Core's option types are stored in a job's spec
/// under the spelling a client would use, so the JSON stays readable and older jobs still load.
mod as_text {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

impl Serialize for Colour {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        as_text::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for Colour {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        as_text::deserialize(d)
    }
}

/// The output size: the original, a preview (at most 0.25 MP, like the vendors' free tier), or a
/// bounding box.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    Full,
    Preview,
    Box { width: u32, height: u32 },
}

/// A validated processing request: what an image job (or an inline add-on call) asks for, in
/// core's types, built once at the boundary by [`parse_options`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProcessingRequest {
    pub mode: Mode,
    /// `None` when the input was uploaded (its blob key is on the job).
    pub file_url: Option<String>,
    pub delivery: Delivery,
    #[serde(with = "as_text")]
    #[schema(value_type = String, examples("png"))]
    pub output_format: OutputFormat,
    pub model: String,
    pub backdrop: Backdrop,
    pub crop: bool,
    #[serde(with = "as_text")]
    #[schema(value_type = String, examples("0", "30px", "10%"))]
    pub crop_margin: CropMargin,
    pub size: Size,
    pub only_mask: bool,
    pub webhook_url: Option<String>,
    /// The preset used by `mode=params`, for the record.
    pub preset: Option<String>,
    /// The request that created the job, so worker logs can be joined to the API's.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// What the validator needs to know about the server.
pub struct Context<'a> {
    pub models: &'a [String],
    pub default_model: &'a str,
    pub allow_hosts: &'a [String],
}

/// A form or JSON value as trimmed text (numbers and booleans spelled out).
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A form or JSON value as a boolean (`true`/`false`, 1/0, yes/no, on/off).
pub fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" | "" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_u64().filter(|n| *n <= 1).map(|n| n == 1),
        _ => None,
    }
}

/// Collects field errors while reading values.
struct Reader<'a> {
    fields: &'a Map<String, Value>,
    errors: FieldErrors,
}

impl Reader<'_> {
    fn err(&mut self, field: &str, msg: impl Into<String>) {
        self.errors
            .entry(field.to_owned())
            .or_default()
            .push(msg.into());
    }

    fn text(&mut self, field: &str) -> Option<String> {
        let v = self.fields.get(field).filter(|v| !v.is_null())?;
        let t = text(v);
        if t.is_none() {
            self.err(field, "must be a string");
        }
        t.filter(|s| !s.is_empty())
    }

    fn flag(&mut self, field: &str) -> bool {
        let Some(v) = self.fields.get(field).filter(|v| !v.is_null()) else {
            return false;
        };
        boolean(v).unwrap_or_else(|| {
            self.err(field, "must be true or false");
            false
        })
    }

    fn choice<T: Copy>(&mut self, field: &str, default: T, options: &[(&str, T)]) -> T {
        let Some(v) = self.text(field) else {
            return default;
        };
        let found = options
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&v))
            .map(|o| o.1);
        found.unwrap_or_else(|| {
            let names: Vec<&str> = options.iter().map(|o| o.0).collect();
            self.err(field, format!("must be one of {}", names.join(", ")));
            default
        })
    }

    fn url(&mut self, field: &str, ctx: &Context) -> Option<String> {
        let u = self.text(field)?;
        match check_url(&u, ctx.allow_hosts) {
            Ok(_) => Some(u),
            Err(e) => {
                self.err(field, e.to_string());
                None
            }
        }
    }
}

/// Parses `size`: `full` / `auto`, `preview`, or `WIDTHxHEIGHT`.
fn parse_size(s: &str) -> Option<Size> {
    match s.to_ascii_lowercase().as_str() {
        "full" | "auto" | "original" => Some(Size::Full),
        "preview" | "small" => Some(Size::Preview),
        other => {
            let (w, h) = other.split_once('x')?;
            let (width, height) = (w.parse().ok()?, h.parse().ok()?);
            (width > 0 && height > 0).then_some(Size::Box { width, height })
        }
    }
}

/// Validates `fields` (request fields merged over a preset's) into a spec.
pub fn parse_options(
    fields: &Map<String, Value>,
    mode: Mode,
    file_url: Option<String>,
    preset: Option<String>,
    ctx: &Context,
) -> Result<ProcessingRequest, FieldErrors> {
    let mut r = Reader {
        fields,
        errors: FieldErrors::new(),
    };
    let delivery = r.choice(
        "delivery_mode",
        Delivery::Url,
        &[("url", Delivery::Url), ("final_url", Delivery::FinalUrl)],
    );
    let output_format = r
        .text("output_format")
        .unwrap_or_else(|| "png".into())
        .to_ascii_lowercase();
    // The encoder knows more formats (`mask`, `tif`) than the contract offers.
    let output_format = match output_format.as_str() {
        "png" | "jpg" | "jpeg" | "psd" | "tiff" | "webp" => {
            output_format.parse().unwrap_or_default()
        }
        _ => {
            r.err(
                "output_format",
                "must be one of png, jpg, jpeg, psd, tiff, webp",
            );
            OutputFormat::Png
        }
    };
    let model = r
        .text("model")
        .unwrap_or_else(|| ctx.default_model.to_owned());
    if !ctx.models.iter().any(|m| m == &model) {
        r.err(
            "model",
            format!(
                "must be one of the installed image models: {}",
                ctx.models.join(", ")
            ),
        );
    }
    let bg_color = r.text("bg_color").and_then(|c| match c.parse::<Colour>() {
        Ok(c) => Some(c),
        Err(e) => {
            r.err("bg_color", e.to_string());
            None
        }
    });
    let bg_image = r.url("bg_image_url", ctx);
    let backdrop = match (bg_color, bg_image) {
        (Some(_), Some(_)) => {
            r.err("bg_color", "give bg_color or bg_image_url, not both");
            Backdrop::Transparent
        }
        (Some(c), None) => Backdrop::Color(c),
        (None, Some(u)) => Backdrop::ImageUrl(u),
        (None, None) if mode == Mode::Background => {
            Backdrop::Color(Colour(Rgba([255, 255, 255, 255])))
        }
        (None, None) => Backdrop::Transparent,
    };
    if mode == Mode::Clipping && backdrop != Backdrop::Transparent {
        r.err("mode", "clipping keeps the background transparent; use mode=background for bg_color or bg_image_url");
    }
    let crop = r.flag("crop");
    let crop_margin = match r.text("crop_margin").map(|m| m.parse::<CropMargin>()) {
        None => CropMargin::default(),
        Some(Ok(m)) => m,
        Some(Err(e)) => {
            r.err("crop_margin", e.to_string());
            CropMargin::default()
        }
    };
    let size = match r.text("size") {
        None => Size::Full,
        Some(s) => parse_size(&s).unwrap_or_else(|| {
            r.err("size", "must be full, preview or WIDTHxHEIGHT");
            Size::Full
        }),
    };
    let only_mask = r.flag("only_mask");
    let webhook_url = r.url("webhook_url", ctx);
    if !r.errors.is_empty() {
        return Err(r.errors);
    }
    Ok(ProcessingRequest {
        mode,
        file_url,
        delivery,
        output_format,
        model,
        backdrop,
        crop,
        crop_margin,
        size,
        only_mask,
        webhook_url,
        preset,
        request_id: None,
    })
}

impl ProcessingRequest {
    /// The encoder's format (`only_mask` wins: a mask has no colour to put in a JPEG).
    pub fn format(&self) -> OutputFormat {
        if self.only_mask {
            return OutputFormat::Mask;
        }
        self.output_format
    }
}

#[cfg(test)]
mod tests;
