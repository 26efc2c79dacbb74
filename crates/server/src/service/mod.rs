//! Domain operations shared by the API families and the workers: creating, starting and
//! cancelling jobs, rendering, results and their links, job views, asset saves, webhooks, URL
//! signing and rate limits, plus the application state they all read. Nothing here knows about HTTP routing or the worker loop: `api` and
//! `worker` import `service`, never the reverse.

pub mod assets;
pub mod budget;
pub mod credits;
pub mod inline;
pub mod jobs;
pub mod payload;
pub mod ratelimit;
pub mod render;
pub mod results;
pub mod signing;
pub mod spec;
pub mod state;
pub mod sweep;
pub mod video_spec;
pub mod views;
pub mod webhook;

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

/// How a job attempt failed: a flaky fetch or storage retries; a corrupt image aborts at once
/// (the client's input); a model that is not installed is broken at once (this server's side,
/// so an inline call answers 5xx, not 4xx).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{message}")]
    Retry { code: ErrorCode, message: String },
    #[error("{message}")]
    Abort { code: ErrorCode, message: String },
    #[error("{message}")]
    Broken { code: ErrorCode, message: String },
}

impl JobError {
    pub fn retry(code: ErrorCode, e: impl std::fmt::Display) -> Self {
        Self::Retry {
            code,
            message: e.to_string(),
        }
    }
    pub fn abort(code: ErrorCode, e: impl std::fmt::Display) -> Self {
        Self::Abort {
            code,
            message: e.to_string(),
        }
    }
    pub fn broken(code: ErrorCode, e: impl std::fmt::Display) -> Self {
        Self::Broken {
            code,
            message: e.to_string(),
        }
    }
}

/// Stage timings kept with a result, for support and benchmarks.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Timings {
    pub fetch_ms: u64,
    pub process_ms: u64,
    pub inference_ms: u64,
    pub store_ms: u64,
}
