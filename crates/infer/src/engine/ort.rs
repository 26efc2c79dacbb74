//! ONNX Runtime: the library from the `onnxruntime` wheel, loaded once per process
//! (`load-dynamic`), with the execution provider chosen by the device.

use std::path::Path;

use cutout_core::Device;
use cutout_models::DataDir;
use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::TensorRef;

use super::{Engine, EngineError, EngineSession, SessionOptions, Signature, TensorIn, TensorOut};
use crate::runtime::init_runtime;
use crate::InferError;

pub struct OrtEngine {
    env: Environment,
    device: Device,
}

impl OrtEngine {
    pub fn new(data: &DataDir, device: Device) -> Result<Self, InferError> {
        let env = init_runtime(&data.require_runtime()?)?;
        Ok(Self { env, device })
    }
}

impl Engine for OrtEngine {
    fn name(&self) -> &'static str {
        "onnxruntime"
    }

    fn open(&self, model: &Path, o: SessionOptions) -> Result<Box<dyn EngineSession>, EngineError> {
        let builder = Session::builder(&self.env)
            .map_err(EngineError::load)?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(EngineError::load)?
            .with_intra_threads(o.threads.max(1))
            .map_err(EngineError::load)?
            // Idle intra-op threads would otherwise spin for work, taking the core from the other
            // jobs' decode, refine and encode running beside inference.
            .with_intra_op_spinning(o.spin)
            .map_err(EngineError::load)?;
        // The CPU provider is ONNX Runtime's default. CUDA must not fall back to it silently:
        // a server configured for a GPU that runs on its CPU is a misconfiguration to report.
        let mut builder = match self.device {
            Device::Cpu => builder,
            Device::Cuda => builder
                .with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()])
                .map_err(|e| {
                    EngineError::Load(format!(
                        "the CUDA execution provider could not start ({e}); it needs an NVIDIA \
                         GPU and the libraries `scripts/install-cuda.sh` installs"
                    ))
                })?,
        };
        let session = builder.commit_from_file(model).map_err(EngineError::load)?;
        Ok(Box::new(OrtSession(session)))
    }
}

struct OrtSession(Session);

impl EngineSession for OrtSession {
    fn signature(&self) -> Option<Signature> {
        let shape = |t: &ort::value::ValueType| t.tensor_shape().map(|s| s.to_vec());
        Some(Signature {
            inputs: self
                .0
                .inputs()
                .iter()
                .filter_map(|i| shape(i.dtype()))
                .collect(),
            outputs: self
                .0
                .outputs()
                .iter()
                .filter_map(|o| shape(o.dtype()))
                .collect(),
        })
    }

    fn run(
        &mut self,
        inputs: &[TensorIn<'_>],
        outputs: &[&str],
    ) -> Result<Vec<TensorOut>, EngineError> {
        let mut feed: Vec<(String, SessionInputValue<'_>)> = Vec::with_capacity(inputs.len());
        for (i, t) in inputs.iter().enumerate() {
            let name = match t.name {
                "" => self
                    .0
                    .inputs()
                    .get(i)
                    .ok_or_else(|| EngineError::Run(format!("the model has no input {i}")))?
                    .name()
                    .to_owned(),
                n => n.to_owned(),
            };
            let tensor =
                TensorRef::from_array_view((t.shape.clone(), t.data)).map_err(EngineError::run)?;
            feed.push((name, tensor.into()));
        }
        let first = self.0.outputs().first().map(|o| o.name().to_owned());
        let result = self.0.run(feed).map_err(EngineError::run)?;
        outputs
            .iter()
            .map(|&want| {
                let name = match want {
                    "" => first
                        .as_deref()
                        .ok_or_else(|| EngineError::run("the model has no output"))?,
                    n => n,
                };
                let value = result
                    .get(name)
                    .ok_or_else(|| EngineError::Run(format!("the model has no output {name:?}")))?;
                let (shape, data) = value
                    .try_extract_tensor::<f32>()
                    .map_err(EngineError::run)?;
                Ok(TensorOut {
                    shape: shape.to_vec(),
                    data: data.to_vec(),
                })
            })
            .collect()
    }
}
