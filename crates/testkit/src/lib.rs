//! What Cutout's test suites share, so no test reaches into another crate's files:
//!
//! - [`tier`]: the gate between plain `cargo test` (nothing installed) and `scripts/test.sh`
//!   (real models, ffmpeg, psd-tools, ImageMagick, cjpeg: every test runs, none may skip);
//! - [`fixtures`]: the test photos;
//! - [`fake`]: a deterministic [`SegmenterProvider`](cutout_core::SegmenterProvider), so API
//!   tests run without ONNX Runtime or model files;
//! - [`media`]: the clip builder and readers for video outputs (ffmpeg, ffprobe);
//! - [`masks`]: mask-to-mask differences for the model tests;
//! - `app` (feature `app`): `spawn_app()` with its own database and typed endpoint helpers;
//! - `real` (feature `real-models`): the ONNX Runtime provider for tests that need real models;
//! - [`cli`]: a builder for `cutout` commands.

pub mod cli;
pub mod fake;
pub mod fixtures;
pub mod masks;
pub mod media;
pub mod process;
pub mod tier;

#[cfg(feature = "app")]
pub mod app;
#[cfg(feature = "real-models")]
pub mod real;

pub use tier::Need;
