//! The engine seam: something that opens a model file as sessions and runs f32 tensors through
//! them. Preprocessing and postprocessing (`crate::preprocess`) are engine-neutral; each engine is
//! one file here behind [`Engine`], chosen by [`EngineKind`] with a [`Device`].

mod ort;

use std::path::Path;
use std::sync::Arc;

use cutout_core::{Device, EngineKind};
use cutout_models::DataDir;

use crate::InferError;

/// An input tensor, borrowed. An empty `name` means "the model's input at this position".
pub struct TensorIn<'a> {
    pub name: &'a str,
    pub shape: Vec<i64>,
    pub data: &'a [f32],
}

/// An output tensor, owned.
#[derive(Clone, Debug)]
pub struct TensorOut {
    pub shape: Vec<i64>,
    pub data: Vec<f32>,
}

/// How one session may use the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionOptions {
    /// Threads inside one inference.
    pub threads: usize,
    /// Let idle threads spin-wait for work.
    pub spin: bool,
}

/// One loaded model, run by one caller at a time.
pub trait EngineSession: Send {
    /// Runs the graph. `outputs` names the outputs wanted, in order; an empty name is the
    /// model's first output.
    fn run(&mut self, inputs: &[TensorIn<'_>], outputs: &[&str]) -> Result<Vec<TensorOut>, String>;
}

/// An inference engine on one device.
pub trait Engine: Send + Sync {
    /// For logs and errors.
    fn name(&self) -> &'static str;
    /// Opens the model file as a new session.
    fn open(&self, model: &Path, options: SessionOptions)
        -> Result<Box<dyn EngineSession>, String>;
}

/// The engine `kind` on `device`, with its native library found in `data`.
pub fn open(
    kind: EngineKind,
    device: Device,
    data: &DataDir,
) -> Result<Arc<dyn Engine>, InferError> {
    match kind {
        EngineKind::OnnxRuntime => Ok(Arc::new(ort::OrtEngine::new(data, device)?)),
    }
}
