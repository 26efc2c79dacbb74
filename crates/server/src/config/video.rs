//! `[video]`: video uploads and jobs.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct VideoConfig {
    /// Largest upload, in bytes, enforced while streaming.
    pub max_bytes: u64,
    /// Longest accepted video, in seconds (from the probe, before any decoding).
    pub max_duration_secs: f64,
    /// Largest frame, in pixels.
    pub max_frame_pixels: u64,
    /// Most frames (probe and decode both check; 36 000 is 10 minutes at 60 fps).
    pub max_frames: u64,
    /// Credits per minute of video, by API model name (charged per started second).
    pub credits_per_minute: std::collections::BTreeMap<String, u32>,
    /// A video job's deadline; past it ffmpeg is killed and the attempt fails.
    pub job_timeout_secs: u64,
    /// How long a worker may take to download a remote `video_url` (up to `max_bytes`).
    pub fetch_timeout_secs: u64,
    /// ffmpeg and ffprobe (found on PATH by default).
    pub ffmpeg: String,
    pub ffprobe: String,
}

impl Default for VideoConfig {
    fn default() -> Self {
        Self {
            max_bytes: 500 << 20,
            max_duration_secs: 600.0,
            max_frame_pixels: 3840 * 2160,
            max_frames: 36_000,
            // The vendor's list (NOTES.md §2).
            credits_per_minute: [("original", 60), ("light", 45), ("pro", 180), ("human", 45)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            job_timeout_secs: 3600,
            fetch_timeout_secs: 600,
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
        }
    }
}

impl VideoConfig {
    pub fn tools(&self) -> cutout_video::Tools {
        cutout_video::Tools {
            ffmpeg: self.ffmpeg.clone().into(),
            ffprobe: self.ffprobe.clone().into(),
            probe_timeout: std::time::Duration::from_secs(30),
        }
    }

    /// Pipeline options carrying this config's limits (the format and background are the job's).
    pub fn limits(&self) -> cutout_video::VideoOptions {
        cutout_video::VideoOptions {
            max_duration_secs: self.max_duration_secs,
            max_frame_pixels: self.max_frame_pixels,
            max_frames: self.max_frames,
            deadline: std::time::Duration::from_secs(self.job_timeout_secs),
            ..Default::default()
        }
    }

    /// Credits for `secs` of video with the API model `model`, per started second.
    pub fn credits(&self, model: &str, secs: f64) -> i64 {
        let per_minute = self.credits_per_minute.get(model).copied().unwrap_or(60) as i64;
        (secs.ceil() as i64 * per_minute + 59) / 60
    }
}
