//! The video family's request and response bodies, as the API description shows them. Handlers
//! answer with these types; the request bodies are read field by field (so a refusal names the
//! field), and the documented example is checked to parse.

use cutout_store::{JobId, LedgerReason, VideoId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::service::views::{VideoJob, VideoStatus};

/// `POST /v1/jobs`. Give `video_url` or `video_id`.
#[allow(dead_code)] // Described, not built: `video_spec::parse` reads the raw fields.
#[derive(ToSchema)]
#[schema(example = json!({
    "video_url": "https://cdn.example.com/clip.mp4",
    "output_format": "webm",
    "background": {"type": "green"},
    "model": "light",
    "auto_start": true
}))]
pub struct VideoJobCreate {
    /// A URL returned by `POST /v1/uploads`, or any public http(s) URL: the worker downloads it
    /// (private, loopback and metadata addresses refused, every redirect checked, size-capped),
    /// probes it and charges for its duration then.
    #[schema(format = Uri)]
    video_url: Option<String>,
    /// An upload's id (instead of `video_url`).
    #[schema(value_type = Option<String>, format = Uuid)]
    video_id: Option<VideoId>,
    #[schema(default = "webm")]
    output_format: Option<OutputFormat>,
    /// The background (also accepted as `background.type`); `custom` takes `bg_color`.
    #[schema(default = "transparent")]
    bg_type: Option<Background>,
    /// The vendor's other spelling: `{"type": "green"}` or `{"type": "custom", "color": [r, g, b]}`.
    background: Option<BackgroundObject>,
    /// `[r, g, b]`, 0-255, with `bg_type=custom`.
    #[schema(min_items = 3, max_items = 3)]
    bg_color: Option<Vec<u8>>,
    /// `original` (u2net), `light` (u2netp), `pro` (the best installed image model), `human`
    /// (modnet) or `rvm` (Robust Video Matting, when installed); see `GET /v1/models`.
    #[schema(default = "original")]
    model: Option<VideoModel>,
    /// Receives `job.started`, `job.completed` and `job.failed`, signed as NOTES §2 documents.
    #[schema(format = Uri)]
    webhook_url: Option<String>,
    /// `false` creates a draft (status `created`): nothing is reserved or run until
    /// `POST /v1/jobs/{id}/start`.
    #[schema(default = true)]
    auto_start: Option<bool>,
    /// Cutout's extension: `false` gives the model's raw per-frame masks (more flicker).
    #[schema(default = true)]
    temporal_smoothing: Option<bool>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(as = VideoOutputFormat, rename_all = "snake_case")]
enum OutputFormat {
    Webm,
    Mov,
    Mp4,
    Gif,
    Webp,
    PngSequence,
}

#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
enum Background {
    Transparent,
    Green,
    White,
    Black,
    Blue,
    Custom,
}

#[allow(dead_code)]
#[derive(ToSchema)]
struct BackgroundObject {
    r#type: Background,
    /// `[r, g, b]` with `type: custom`.
    color: Option<Vec<u8>>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
enum VideoModel {
    Original,
    Light,
    Pro,
    Human,
    Rvm,
}

/// The answer to a create, start or cancel.
#[derive(Serialize, ToSchema)]
pub struct JobAnswer {
    pub success: bool,
    #[schema(value_type = String, format = Uuid)]
    pub id: JobId,
    pub status: VideoStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl JobAnswer {
    pub fn new(id: JobId, status: VideoStatus, message: Option<&str>) -> Self {
        Self {
            success: true,
            id,
            status,
            message: message.map(str::to_owned),
        }
    }
}

/// `GET /v1/jobs?limit&offset&status`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u32>,
    #[param(default = 0)]
    pub offset: Option<u32>,
    /// `created`, `pending`, `processing`, `completed` or `failed`.
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct JobList {
    pub success: bool,
    pub jobs: Vec<VideoJob>,
    pub limit: u32,
    pub offset: u32,
}

/// `GET /api/download/{id}`.
#[derive(Serialize, ToSchema)]
pub struct Download {
    pub success: bool,
    /// A signed link, valid for the configured lifetime.
    #[schema(format = Uri)]
    pub download_url: String,
    #[schema(examples("webm"))]
    pub output_format: String,
}

/// A stored, probed upload.
#[derive(Serialize, ToSchema)]
pub struct UploadAnswer {
    pub success: bool,
    #[schema(value_type = String, format = Uuid)]
    pub video_id: VideoId,
    /// Pass it as `video_url` to `POST /v1/jobs`.
    #[schema(format = Uri)]
    pub video_url: String,
    pub filename: String,
    pub size: u64,
    /// Seconds.
    pub duration: f64,
    pub fps: f64,
    pub width: u32,
    pub height: u32,
    pub has_audio: bool,
}

/// `POST /v1/uploads`: multipart/form-data.
#[allow(dead_code)] // Described, not built: the form reader streams the file to disk.
#[derive(ToSchema)]
pub struct UploadForm {
    /// The video; its type is probed from the content (mp4, mov, webm, avi), not trusted.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// Days back from now, 1-90.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 90, default = 30)]
    pub days: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// 1-100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<String>,
}

/// Credits over the period.
#[derive(Serialize, ToSchema)]
pub struct UsageSummary {
    pub success: bool,
    pub days: u32,
    #[schema(format = DateTime)]
    pub period_start: String,
    pub credits_charged: i64,
    pub credits_refunded: i64,
    pub credits_used: i64,
    /// How many charges.
    pub charges: usize,
    /// Credits left now.
    pub balance: i64,
}

/// A ledger line.
#[derive(Serialize, ToSchema)]
pub struct UsageEvent {
    pub id: i64,
    /// `charge` (negative credits), `refund` or `grant`.
    #[schema(value_type = String, examples("charge", "refund", "grant"))]
    pub r#type: LedgerReason,
    pub credits: i64,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub job_id: Option<JobId>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct UsageEvents {
    pub success: bool,
    pub events: Vec<UsageEvent>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;
    use crate::service::video_spec;

    /// The documented example is a request the parser accepts as documented.
    #[test]
    fn the_create_example_parses() {
        let s = serde_json::to_value(VideoJobCreate::schema()).unwrap();
        let body = s["example"].as_object().unwrap();
        let installed = ["u2net", "u2netp"].map(String::from);
        let source = video_spec::source(body, "http://cutout.example").unwrap();
        assert!(matches!(source, video_spec::Source::Remote(_)));
        let spec = video_spec::parse(body, &installed, source).unwrap();
        assert_eq!(
            (spec.engine.as_str(), spec.background),
            ("u2netp", Some([0, 255, 0]))
        );
        assert_eq!(video_spec::flag(body, "auto_start", true), Ok(true));
    }
}
