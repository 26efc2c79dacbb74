//! The engine seam: something that opens a model file as sessions and runs f32 tensors through
//! them. Preprocessing and postprocessing (`crate::preprocess`) are engine-neutral; each engine is
//! one file here behind [`Engine`], chosen by an [`EnginePlan`] (engine, device, precision).

mod openvino;
mod ort;

use std::path::Path;
use std::sync::Arc;

use cutout_core::{EngineKind, Precision};
use cutout_models::DataDir;

use crate::{EnginePlan, InferError};

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

/// A graph's input and output shapes, in order (-1 for a dynamic dimension).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signature {
    pub inputs: Vec<Vec<i64>>,
    pub outputs: Vec<Vec<i64>>,
}

/// How one session may use the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionOptions {
    /// Threads inside one inference.
    pub threads: usize,
    /// Let idle threads spin-wait for work.
    pub spin: bool,
    /// The precision to ask for (engines without a choice compute f32).
    pub precision: Precision,
}

/// An engine's failure, in the engine's own words, by what it was doing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The model could not be opened or compiled (or the device started).
    #[error("{0}")]
    Load(String),
    /// A run failed: the tensors did not fit the graph, an output was missing, or the runtime
    /// reported an error.
    #[error("{0}")]
    Run(String),
}

impl EngineError {
    pub(crate) fn load(e: impl std::fmt::Display) -> Self {
        Self::Load(e.to_string())
    }
    pub(crate) fn run(e: impl std::fmt::Display) -> Self {
        Self::Run(e.to_string())
    }
}

/// One loaded model, run by one caller at a time.
pub trait EngineSession: Send {
    /// The precision the engine computes this model in (what it reports, not what was asked).
    fn precision(&self) -> Precision {
        Precision::F32
    }
    /// The graph's tensor shapes, where the engine tells them (used to vet imported models).
    fn signature(&self) -> Option<Signature> {
        None
    }
    /// Runs the graph. `outputs` names the outputs wanted, in order; an empty name is the
    /// model's first output.
    fn run(
        &mut self,
        inputs: &[TensorIn<'_>],
        outputs: &[&str],
    ) -> Result<Vec<TensorOut>, EngineError>;
}

/// An inference engine on one device.
pub trait Engine: Send + Sync {
    /// For logs and errors.
    fn name(&self) -> &'static str;
    /// Opens the model file as a new session.
    fn open(
        &self,
        model: &Path,
        options: SessionOptions,
    ) -> Result<Box<dyn EngineSession>, EngineError>;
}

/// The engine of `plan`, with its native libraries found in `data`.
pub fn open(plan: EnginePlan, data: &DataDir) -> Result<Arc<dyn Engine>, InferError> {
    match plan.engine {
        EngineKind::OnnxRuntime => Ok(Arc::new(ort::OrtEngine::new(data, plan.device)?)),
        EngineKind::OpenVino => Ok(Arc::new(openvino::OpenVinoEngine::new(data)?)),
    }
}
