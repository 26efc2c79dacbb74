//! Cutout's HTTP API and job workers.
//!
//! The crate links neither ONNX Runtime nor ffmpeg: segmentation comes in through
//! [`SegmenterProvider`], so API tests build fast and the binary plugs in the real runtime.

mod addon;
pub mod app;
mod assets;
mod auth;
pub mod config;
pub mod error;
pub mod fetch;
mod idempotency;
pub mod keys;
pub mod logging;
mod metrics;
mod netguard;
mod ratelimit;
mod routes;
pub mod segmenters;
mod signing;
mod spec;
pub mod state;
mod time;
mod video_spec;
mod webhook;
pub mod worker;

pub use app::{Application, StartupError};
pub use config::Config;
pub use segmenters::SegmenterProvider;
pub use webhook::deliver_due;
