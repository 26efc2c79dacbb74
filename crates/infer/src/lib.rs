//! Segmentation on an inference engine: each model's preprocessing exactly as its reference
//! pipeline (see `models/manifest.toml`), engine-neutral; an engine seam ([`engine::Engine`])
//! with ONNX Runtime and OpenVINO behind it, chosen per machine (`plan`); and a pool of sessions per model so inference
//! runs on dedicated threads. Everything outside this crate gets models through
//! [`EngineProvider`], a [`cutout_core::SegmenterProvider`].

mod check;
pub mod engine;
mod error;
mod options;
mod plan;
mod pool;
mod preprocess;
mod provider;
mod recurrent;
mod runtime;
mod segmenter;

pub use check::check_model;
pub use error::InferError;
pub use options::{InferenceOptions, PoolConfig};
pub use plan::{resolve, CpuFeatures, EnginePlan};
pub use provider::EngineProvider;
pub use recurrent::RvmRunner;
pub use segmenter::ModelSegmenter;
