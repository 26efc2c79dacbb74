//! What a job asks a worker to do: its kind with its validated request. The job row keeps the
//! kind in its own column and the request as JSON in `spec`; this is the one place that pairs
//! them, so a job's kind and its spec cannot disagree and no worker parses a spec by hand.

use cutout_store::{Job, JobKind};
use serde_json::Value;

use super::assets::SaveJob;
use super::spec::ProcessingRequest;
use super::video_spec::VideoJobSpec;

#[derive(Clone, Debug)]
pub enum JobPayload {
    Image(ProcessingRequest),
    AssetSave(SaveJob),
    Video(VideoJobSpec),
}

impl JobPayload {
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Image(_) => JobKind::Image,
            Self::AssetSave(_) => JobKind::AssetSave,
            Self::Video(_) => JobKind::Video,
        }
    }

    /// The job's `mode` column: the image API's mode, a video's output format, or the
    /// add-on's save mode. Listings and views show it without parsing the spec.
    pub fn mode(&self) -> &'static str {
        match self {
            Self::Image(s) => s.mode.as_str(),
            Self::AssetSave(_) => "get_image_and_save",
            Self::Video(s) => s.output_format.as_str(),
        }
    }

    /// The kind and the `spec` JSON a new job row gets.
    pub fn into_parts(self) -> Result<(JobKind, Value), serde_json::Error> {
        let kind = self.kind();
        let spec = match self {
            Self::Image(s) => serde_json::to_value(s),
            Self::AssetSave(s) => serde_json::to_value(s),
            Self::Video(s) => serde_json::to_value(s),
        }?;
        Ok((kind, spec))
    }

    /// A stored job's payload; an error means the row was written by something this version
    /// cannot read.
    pub fn of(job: &Job) -> Result<Self, serde_json::Error> {
        let spec = job.spec.clone();
        Ok(match job.kind {
            JobKind::Image => Self::Image(serde_json::from_value(spec)?),
            JobKind::AssetSave => Self::AssetSave(serde_json::from_value(spec)?),
            JobKind::Video => Self::Video(serde_json::from_value(spec)?),
        })
    }

    /// The request that created the job, to join worker logs to the API's.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Image(s) => s.request_id.as_deref(),
            Self::AssetSave(s) => s.request_id.as_deref(),
            Self::Video(s) => s.request_id.as_deref(),
        }
    }

    /// Where the job's final state is announced, if anywhere.
    pub fn webhook_url(&self) -> Option<&str> {
        match self {
            Self::Image(s) => s.webhook_url.as_deref(),
            Self::AssetSave(_) => None,
            Self::Video(s) => s.webhook_url.as_deref(),
        }
    }
}
