//! Results: what a finished image job stores, where its bytes live, and the link a client gets.

use cutout_core::OutputFormat;
use cutout_store::{now_ms, BlobKey, Job};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::{JobError, Timings};
use crate::error::ErrorCode;
use crate::service::state::AppState;

/// What a completed image job stores as its result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResultInfo {
    pub blob: BlobKey,
    pub mime: String,
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// Stored under the public base (`delivery_mode=final_url`).
    pub published: bool,
    pub warnings: Vec<String>,
    pub timings: Timings,
}

pub fn result_key(job: &Job, format: OutputFormat, published: bool) -> Result<BlobKey, JobError> {
    let ext = format.extension();
    let key = if published {
        // Unguessable: the public base serves anything under `public/` without a key.
        let mut token = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut token);
        format!("public/{}/{}.{ext}", job.id, hex::encode(token))
    } else {
        format!("results/{}.{ext}", job.id)
    };
    BlobKey::parse(&key).map_err(|e| JobError::abort(ErrorCode::INTERNAL, e))
}

/// The link to a finished job's result: published, or signed with an expiry. Where the blob
/// store hands out its own URLs (an S3 bucket), clients fetch from it directly, so result bytes
/// do not flow through the API node; otherwise this server serves them.
pub fn result_url(state: &AppState, job: &Job) -> Option<String> {
    let info: ResultInfo = serde_json::from_value(job.result.clone()?).ok()?;
    let key = &info.blob;
    if info.published {
        let configured = !state.config.storage.public_base_url.is_empty();
        return match state.blobs.public_url(key) {
            Some(url) if !configured => Some(url),
            _ => Some(format!("{}/{}", state.public_base(), info.blob)),
        };
    }
    let ttl = state.config.security.signed_url_ttl_secs;
    if let Some(url) = state
        .blobs
        .presigned_get(key, std::time::Duration::from_secs(ttl))
    {
        return Some(url);
    }
    let expires = now_ms() / 1000 + ttl as i64;
    Some(format!(
        "{}/api/v1/results/{}?{}",
        state.public_url,
        job.id,
        state.signer.sign(job.id, expires)
    ))
}
