//! Video background removal. ffprobe and ffmpeg run as child processes (wrapped once, in
//! [`tools`], with timeouts and kill-on-drop); frames travel as raw RGBA over pipes, so nothing
//! links libav. Each frame is segmented through the core's [`cutout_core::Segmenter`], its mask
//! stabilised over time ([`cutout_core::Stabilizer`]), refined and composed, then encoded.
//!
//! Everything here is blocking: callers run it on a worker thread.

pub mod format;
mod frames;
mod mkv;
pub mod pipeline;
pub mod probe;
pub mod tools;

pub use format::VideoFormat;
pub use pipeline::{check_limits, process_video, Progress, VideoOptions, VideoSummary};
pub use probe::{probe, VideoInfo};
pub use tools::{MediaError, Tools};
