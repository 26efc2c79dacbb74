//! OpenVINO: the libraries from the `openvino` wheel, loaded once per process (runtime linking).
//! Each model is compiled for the CPU at the precision asked for (bf16 where the CPU computes it
//! natively; OpenVINO itself falls back to f32 elsewhere, and the session reports what it
//! got), and compiled models are cached on disk so a restart skips the compile.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cutout_core::Precision;
use cutout_models::DataDir;
use openvino::{
    CompiledModel, Core, DeviceType, ElementType, InferRequest, PropertyKey, RwPropertyKey, Shape,
    Tensor,
};

use super::{Engine, EngineError, EngineSession, SessionOptions, TensorIn, TensorOut};
use crate::InferError;

pub struct OpenVinoEngine {
    /// Compiling sets device properties on the core first, so one compile at a time.
    core: Mutex<Core>,
    cache: PathBuf,
}

impl OpenVinoEngine {
    pub fn new(data: &DataDir) -> Result<Self, InferError> {
        let lib = data.require_openvino()?;
        let fail = |detail: String| InferError::Runtime {
            engine: "OpenVINO",
            path: lib.display().to_string(),
            detail,
        };
        // A full path: OpenVINO then finds its plugins and frontends beside the library.
        openvino_sys::library::load_from(lib.clone()).map_err(fail)?;
        let core = Core::new().map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            core: Mutex::new(core),
            cache: data.root().join("cache").join("openvino"),
        })
    }

    fn compile(&self, model: &Path, o: SessionOptions) -> Result<CompiledModel, EngineError> {
        let mut core = self.core.lock().unwrap_or_else(|p| p.into_inner());
        let cpu = DeviceType::CPU;
        let threads = o.threads.max(1).to_string();
        let props = [
            (RwPropertyKey::HintInferencePrecision, o.precision.as_str()),
            (RwPropertyKey::InferenceNumThreads, threads.as_str()),
            // One stream per session: the pool runs sessions side by side, as with ONNX Runtime.
            (RwPropertyKey::NumStreams, "1"),
            (RwPropertyKey::HintPerformanceMode, "LATENCY"),
        ];
        core.set_properties(&cpu, props)
            .map_err(EngineError::load)?;
        // The cache is an optimisation: a read-only data directory only costs the compile time.
        if std::fs::create_dir_all(&self.cache).is_ok() {
            if let Some(dir) = self.cache.to_str() {
                core.set_property(&cpu, &RwPropertyKey::CacheDir, dir)
                    .map_err(EngineError::load)?;
            }
        }
        let path = model
            .to_str()
            .ok_or_else(|| EngineError::load("the model path is not UTF-8"))?;
        let graph = core
            .read_model_from_file(path, "")
            .map_err(EngineError::load)?;
        core.compile_model(&graph, cpu).map_err(EngineError::load)
    }
}

impl Engine for OpenVinoEngine {
    fn name(&self) -> &'static str {
        "openvino"
    }

    fn open(&self, model: &Path, o: SessionOptions) -> Result<Box<dyn EngineSession>, EngineError> {
        let mut compiled = self.compile(model, o)?;
        let key = PropertyKey::Rw(RwPropertyKey::HintInferencePrecision);
        let precision = match compiled
            .get_property(&key)
            .map_err(EngineError::load)?
            .as_ref()
        {
            "bf16" => Precision::Bf16,
            _ => Precision::F32,
        };
        let inputs = (0..compiled.get_input_size().map_err(EngineError::load)?)
            .map(|i| compiled.get_input_by_index(i)?.get_name())
            .collect::<Result<Vec<_>, _>>()
            .map_err(EngineError::load)?;
        let request = compiled.create_infer_request().map_err(EngineError::load)?;
        Ok(Box::new(OpenVinoSession {
            _compiled: compiled,
            request,
            inputs,
            precision,
        }))
    }
}

struct OpenVinoSession {
    // Kept alive for as long as its request.
    _compiled: CompiledModel,
    request: InferRequest,
    inputs: Vec<String>,
    precision: Precision,
}

impl EngineSession for OpenVinoSession {
    fn precision(&self) -> Precision {
        self.precision
    }

    fn run(
        &mut self,
        inputs: &[TensorIn<'_>],
        outputs: &[&str],
    ) -> Result<Vec<TensorOut>, EngineError> {
        for (i, t) in inputs.iter().enumerate() {
            let name = match t.name {
                "" => self
                    .inputs
                    .get(i)
                    .ok_or_else(|| EngineError::Run(format!("the model has no input {i}")))?,
                n => n,
            };
            let shape = Shape::new(&t.shape).map_err(EngineError::run)?;
            let mut tensor = Tensor::new(ElementType::F32, &shape).map_err(EngineError::run)?;
            let dest = tensor.get_data_mut::<f32>().map_err(EngineError::run)?;
            if dest.len() != t.data.len() {
                return Err(EngineError::Run(format!(
                    "input {name}: {} values for shape {:?}",
                    t.data.len(),
                    t.shape
                )));
            }
            dest.copy_from_slice(t.data);
            self.request
                .set_tensor(name, &tensor)
                .map_err(EngineError::run)?;
        }
        self.request.infer().map_err(EngineError::run)?;
        outputs
            .iter()
            .map(|&want| {
                let tensor = match want {
                    "" => self.request.get_output_tensor_by_index(0),
                    n => self.request.get_tensor(n),
                }
                .map_err(EngineError::run)?;
                let shape = tensor
                    .get_shape()
                    .map_err(EngineError::run)?
                    .get_dimensions()
                    .to_vec();
                let data = tensor.get_data::<f32>().map_err(EngineError::run)?.to_vec();
                Ok(TensorOut { shape, data })
            })
            .collect()
    }
}
