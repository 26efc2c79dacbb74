//! Segmentation with ONNX Runtime: each model's preprocessing exactly as its reference pipeline
//! (see `models/manifest.toml`), and a pool of sessions so inference runs on dedicated threads.

mod error;
mod pool;
mod preprocess;
mod provider;
mod recurrent;
mod runtime;
mod segmenter;

pub use error::InferError;
pub use pool::PoolConfig;
pub use provider::OrtProvider;
pub use recurrent::RvmRunner;
pub use runtime::init_runtime;
pub use segmenter::OrtSegmenter;
