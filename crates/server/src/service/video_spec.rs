//! A video job request (`POST /v1/jobs`), parsed once: the vendor's fields, both spellings of
//! the background, and the API's model names mapped to installed models.

use cutout_store::VideoId;
use cutout_video::VideoFormat;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A validated video job, as the worker reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VideoJobSpec {
    /// The video to process. Stored as the fields `video_id` or `source_url`, as jobs
    /// written by earlier versions have them.
    #[serde(flatten)]
    pub source: Source,
    pub output_format: VideoFormat,
    /// `None`: transparent.
    pub background: Option<[u8; 3]>,
    pub bg_type: String,
    /// The API's model name (`original`, `light`, `pro`, `human`).
    pub model: String,
    /// The installed model that runs it.
    pub engine: String,
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
    /// Cutout's extension `temporal_smoothing` (default true): `false` gives the model's raw
    /// per-frame masks, e.g. to compare.
    #[serde(default = "yes")]
    pub stabilize: bool,
}

fn yes() -> bool {
    true
}

/// The API's model names and what runs them; `pro` is the best installed image model, `rvm`
/// (Robust Video Matting, recurrent, for people) runs when installed (`cutout models install rvm`).
pub fn engine_for(model: &str, installed: &[String]) -> Option<String> {
    let has = |m: &str| installed.iter().any(|i| i == m);
    let pick = match model {
        "original" => "u2net",
        "light" => "u2netp",
        "human" => "modnet",
        "rvm" => "rvm",
        "pro" => ["isnet", "u2net"].into_iter().find(|m| has(m))?,
        _ => return None,
    };
    has(pick).then(|| pick.to_owned())
}

fn colour(bg_type: &str, custom: Option<&Value>) -> Result<Option<[u8; 3]>, String> {
    Ok(match bg_type {
        "transparent" => None,
        "green" => Some([0, 255, 0]),
        "white" => Some([255, 255, 255]),
        "black" => Some([0, 0, 0]),
        "blue" => Some([0, 0, 255]),
        "custom" => {
            let v = custom.ok_or("bg_type=custom needs bg_color as [r, g, b]")?;
            let arr: Vec<u8> = serde_json::from_value(v.clone())
                .map_err(|_| "bg_color must be [r, g, b] with values 0-255")?;
            match arr[..] {
                [r, g, b] => Some([r, g, b]),
                _ => return Err("bg_color must be [r, g, b] with values 0-255".into()),
            }
        }
        _ => {
            return Err(
                "bg_type must be one of transparent, green, white, black, blue, custom".into(),
            )
        }
    })
}

/// Where a job's video comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredSource", into = "StoredSource")]
pub enum Source {
    /// An upload of the account's.
    Upload(VideoId),
    /// A remote `video_url`, fetched by the worker (checked against private addresses again
    /// then).
    Remote(String),
}

/// [`Source`] as a job's spec stores it: one of the two fields.
#[derive(Serialize, Deserialize)]
struct StoredSource {
    #[serde(default)]
    video_id: Option<VideoId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_url: Option<String>,
}

impl TryFrom<StoredSource> for Source {
    type Error = &'static str;
    fn try_from(s: StoredSource) -> Result<Self, Self::Error> {
        match (s.video_id, s.source_url) {
            (Some(id), _) => Ok(Self::Upload(id)),
            (None, Some(url)) => Ok(Self::Remote(url)),
            (None, None) => Err("the job names no video"),
        }
    }
}

impl From<Source> for StoredSource {
    fn from(s: Source) -> Self {
        match s {
            Source::Upload(id) => Self {
                video_id: Some(id),
                source_url: None,
            },
            Source::Remote(url) => Self {
                video_id: None,
                source_url: Some(url),
            },
        }
    }
}

/// `video_id`, or a `video_url` that is one of ours (`{public_url}/v1/uploads/{id}`), names an
/// upload; any other `video_url` is remote.
pub fn source(body: &serde_json::Map<String, Value>, public_url: &str) -> Result<Source, String> {
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::trim);
    let ours = format!("{}/v1/uploads/", public_url.trim_end_matches('/'));
    let id = match (s("video_id"), s("video_url")) {
        (Some(id), _) => id,
        (None, Some(url)) => match url.strip_prefix(&ours) {
            Some(id) => id.trim_end_matches('/'),
            None => return Ok(Source::Remote(url.to_owned())),
        },
        (None, None) => {
            return Err(
                "video_url (a URL to fetch, or one returned by POST /v1/uploads) or video_id is required"
                    .into(),
            )
        }
    };
    id.parse()
        .map(Source::Upload)
        .map_err(|_| format!("{id:?} does not name an upload of this service"))
}

/// A boolean field: absent or null is `default`; anything but a JSON boolean is refused.
pub fn flag(
    body: &serde_json::Map<String, Value>,
    key: &str,
    default: bool,
) -> Result<bool, String> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("{key} must be true or false")),
    }
}

/// Parses the body's processing options for the video `source` (from [`source`]).
pub fn parse(
    body: &serde_json::Map<String, Value>,
    installed: &[String],
    source: Source,
) -> Result<VideoJobSpec, String> {
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::trim);
    let format = s("output_format").unwrap_or("webm");
    let output_format = VideoFormat::parse(format)
        .ok_or("output_format must be one of webm, mov, mp4, gif, webp, png_sequence")?;
    let bg_type = body
        .get("background")
        .and_then(|b| b.get("type"))
        .and_then(Value::as_str)
        .or(s("bg_type"))
        .unwrap_or("transparent")
        .to_owned();
    let custom = body
        .get("bg_color")
        .or_else(|| body.get("background").and_then(|b| b.get("color")));
    let background = colour(&bg_type, custom)?;
    let model = s("model").unwrap_or("original").to_owned();
    let engine = engine_for(&model, installed).ok_or_else(|| {
        format!("model must be one of original, light, pro, human, rvm (installed); got {model:?}")
    })?;
    let stabilize = flag(body, "temporal_smoothing", true)?;
    let webhook_url = s("webhook_url")
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    Ok(VideoJobSpec {
        source,
        output_format,
        background,
        bg_type,
        model,
        engine,
        webhook_url,
        request_id: None,
        stabilize,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn installed() -> Vec<String> {
        ["u2net", "u2netp", "modnet"].map(String::from).to_vec()
    }

    fn run(v: Value) -> Result<VideoJobSpec, String> {
        let id = "0190a4c0-0000-7000-8000-000000000000".parse().unwrap();
        parse(v.as_object().unwrap(), &installed(), Source::Upload(id))
    }

    #[test]
    fn defaults_and_both_background_spellings() {
        let s = run(json!({})).unwrap();
        assert_eq!(
            (s.output_format, s.background, s.engine.as_str()),
            (VideoFormat::Webm, None, "u2net")
        );
        let s = run(json!({"background": {"type": "green"}, "model": "light"})).unwrap();
        assert_eq!(
            (s.background, s.engine.as_str()),
            (Some([0, 255, 0]), "u2netp")
        );
        let s = run(json!({"bg_type": "custom", "bg_color": [1, 2, 3], "model": "pro"})).unwrap();
        assert_eq!(
            (s.background, s.engine.as_str()),
            (Some([1, 2, 3]), "u2net")
        );
    }

    #[test]
    fn sources() {
        let base = "http://cut.example:8080";
        let id = VideoId::new();
        let src = |v: Value| source(v.as_object().unwrap(), base);
        assert_eq!(
            src(json!({"video_url": format!("{base}/v1/uploads/{id}")})),
            Ok(Source::Upload(id))
        );
        assert_eq!(
            src(json!({"video_id": id.to_string()})),
            Ok(Source::Upload(id))
        );
        assert_eq!(
            src(json!({"video_url": "https://cdn.example.com/v.mp4"})),
            Ok(Source::Remote("https://cdn.example.com/v.mp4".into()))
        );
        assert!(src(json!({"video_url": format!("{base}/v1/uploads/nope")}))
            .unwrap_err()
            .contains("upload"));
        assert!(src(json!({})).unwrap_err().contains("video_url"));
    }

    #[test]
    fn bad_fields_name_themselves() {
        assert!(run(json!({"output_format": "avi"}))
            .unwrap_err()
            .contains("output_format"));
        assert!(run(json!({"bg_type": "pink"}))
            .unwrap_err()
            .contains("bg_type"));
        assert!(run(json!({"bg_type": "custom", "bg_color": [1, 2]}))
            .unwrap_err()
            .contains("bg_color"));
        assert!(run(json!({"temporal_smoothing": "no"}))
            .unwrap_err()
            .contains("temporal_smoothing"));
        assert!(run(json!({"model": "turbo"}))
            .unwrap_err()
            .contains("model"));
    }
}

#[cfg(test)]
mod stored_source {
    use serde_json::json;

    use super::*;

    /// Jobs written before the source was one field read back, and new ones store the same
    /// fields, so a rolling upgrade reads both ways.
    #[test]
    fn the_source_keeps_its_stored_fields() {
        let id: VideoId = "0190a4c0-0000-7000-8000-000000000000".parse().unwrap();
        let up: StoredSource =
            serde_json::from_value(json!({"video_id": id, "source_url": null})).unwrap();
        assert_eq!(Source::try_from(up), Ok(Source::Upload(id)));
        let remote = json!({"video_id": null, "source_url": "https://x.example/v.mp4"});
        let remote: StoredSource = serde_json::from_value(remote).unwrap();
        assert_eq!(
            Source::try_from(remote),
            Ok(Source::Remote("https://x.example/v.mp4".into()))
        );
        let none: StoredSource = serde_json::from_value(json!({})).unwrap();
        assert!(Source::try_from(none).is_err());
        let stored = serde_json::to_value(StoredSource::from(Source::Upload(id))).unwrap();
        assert_eq!(stored, json!({"video_id": id}));
    }
}
