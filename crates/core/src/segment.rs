//! The segmentation seam. Implementations live outside the core (ONNX Runtime in `cutout-infer`,
//! a deterministic fake in tests) so this crate stays free of native inference libraries.

use std::time::Duration;

use image::RgbaImage;

use crate::Mask;

/// What kind of failure a [`SegmentError`] is, so a caller can decide without reading the text:
/// a job fails at once on a model that is not installed or an input the model cannot take, and
/// is retried when the runtime was unavailable for a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentErrorKind {
    /// No such model, or its files are not installed: retrying cannot help.
    NotInstalled,
    /// The runtime or the model could not be loaded or run just now (library missing, out of
    /// memory, a busy device): another attempt may succeed.
    Unavailable,
    /// The image cannot be segmented (shape the model refuses).
    BadInput,
    /// A bug or a broken model file.
    Internal,
}

impl SegmentErrorKind {
    /// A stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotInstalled => "model_not_installed",
            Self::Unavailable => "model_unavailable",
            Self::BadInput => "segmentation_input",
            Self::Internal => "segmentation_failed",
        }
    }

    /// Whether another attempt of the same work may succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Unavailable)
    }
}

/// A failure inside a segmenter: model loading, tensor shapes, runtime errors.
#[derive(Debug, thiserror::Error)]
#[error("segmentation failed: {message}")]
pub struct SegmentError {
    pub kind: SegmentErrorKind,
    pub message: String,
}

impl SegmentError {
    pub fn new(kind: SegmentErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub fn not_installed(message: impl Into<String>) -> Self {
        Self::new(SegmentErrorKind::NotInstalled, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(SegmentErrorKind::Unavailable, message)
    }
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(SegmentErrorKind::BadInput, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(SegmentErrorKind::Internal, message)
    }
}

/// A mask plus where the time went, so benchmarks can report the stages separately.
#[derive(Debug, Clone)]
pub struct SegmentOutput {
    /// The subject's soft mask at the model's own resolution (the pipeline resizes it).
    pub mask: Mask,
    pub preprocess: Duration,
    pub inference: Duration,
}

/// Produces a soft foreground mask for an image.
pub trait Segmenter: Send + Sync {
    /// The model's name, as in the manifest.
    fn name(&self) -> &str;

    /// Segments `image` (straight RGBA, alpha ignored) and returns a mask of any size.
    fn segment(&self, image: &RgbaImage) -> Result<SegmentOutput, SegmentError>;
}

/// Segments the frames of one video in order. A recurrent model (RVM) carries state from each
/// frame to the next, so one value serves one video.
pub trait FrameSegmenter: Send {
    fn next_frame(&mut self, frame: &RgbaImage) -> Result<SegmentOutput, SegmentError>;
}

/// A set of loadable models, by name. The server asks it for a model per job; the binary backs
/// it with ONNX Runtime, so the HTTP layer never links a runtime.
pub trait SegmenterProvider: Send + Sync {
    /// Installed models usable for still images, by manifest name.
    fn image_models(&self) -> Vec<String>;
    /// The loaded model, loading it on first use. Blocking: call it off the async executor.
    fn get(&self, model: &str) -> Result<std::sync::Arc<dyn Segmenter>, SegmentError>;
    /// Installed models that only run on video (recurrent), by manifest name.
    fn video_models(&self) -> Vec<String> {
        Vec::new()
    }
    /// A segmenter for one video, with fresh state. Blocking, like [`SegmenterProvider::get`].
    /// By default the still-image model, frame by frame.
    fn sequence(&self, model: &str) -> Result<Box<dyn FrameSegmenter>, SegmentError> {
        Ok(Box::new(PerFrame(self.get(model)?)))
    }
    /// How `model` runs (or will run, when not loaded yet): engine, device, precision. `None`
    /// where that is unknown, e.g. a stand-in segmenter.
    fn engine_report(&self, _model: &str) -> Option<EngineReport> {
        None
    }
    /// What to show about `model` in listings (licence first); `None` where the provider does
    /// not know (listings then fall back to the built-in manifest).
    fn describe(&self, _model: &str) -> Option<ModelDescription> {
        None
    }
}

/// A model's licence and description, as listings show them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelDescription {
    pub licence: String,
    /// Unknown for models users imported: their licence text says.
    pub commercial_use: Option<bool>,
    pub input: Option<String>,
    pub summary: Option<String>,
}

/// A (shared) still-image segmenter used frame by frame.
pub struct PerFrame(pub std::sync::Arc<dyn Segmenter>);

impl FrameSegmenter for PerFrame {
    fn next_frame(&mut self, frame: &RgbaImage) -> Result<SegmentOutput, SegmentError> {
        self.0.segment(frame)
    }
}

/// An inference engine that runs the models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// ONNX Runtime, loaded from the `onnxruntime` wheel's library at run time.
    #[serde(rename = "onnxruntime")]
    OnnxRuntime,
    /// OpenVINO, loaded from the `openvino` wheel's libraries at run time: bf16 on CPUs that
    /// compute it natively.
    #[serde(rename = "openvino")]
    OpenVino,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnnxRuntime => "onnxruntime",
            Self::OpenVino => "openvino",
        }
    }
}

/// Which engine to use (`[inference] engine`): `auto` picks OpenVINO with bf16 where the CPU
/// computes bf16 natively and OpenVINO is installed, ONNX Runtime fp32 elsewhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineChoice {
    #[default]
    Auto,
    #[serde(rename = "onnxruntime", alias = "ort")]
    OnnxRuntime,
    #[serde(rename = "openvino")]
    OpenVino,
}

impl EngineChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::OnnxRuntime => "onnxruntime",
            Self::OpenVino => "openvino",
        }
    }
}

/// The number format inference computes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    F32,
    Bf16,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
        }
    }
}

/// Which precision to ask for (`[inference] precision`): `auto` is bf16 on OpenVINO with a
/// native-bf16 CPU, f32 everywhere else.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrecisionChoice {
    #[default]
    Auto,
    F32,
    Bf16,
}

impl PrecisionChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
        }
    }
}

/// Where inference runs (`[inference] device`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    #[default]
    Cpu,
    /// An NVIDIA GPU through ONNX Runtime's CUDA execution provider (opt-in install).
    Cuda,
}

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
        }
    }
}

/// How a model runs: the engine, the device, and the precision the engine reports it computes
/// in (what was asked for may differ: OpenVINO runs f32 where bf16 is not native).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EngineReport {
    pub engine: EngineKind,
    pub device: Device,
    pub precision: Precision,
}

impl std::fmt::Display for EngineReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.engine.as_str(),
            self.device.as_str(),
            self.precision.as_str()
        )
    }
}

/// A name that is none of a choice's spellings; it says which ones there are.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown value `{value}`; expected one of: {}", expected.join(", "))]
pub struct UnknownChoice {
    pub value: String,
    pub expected: &'static [&'static str],
}

/// Parses the names the config file uses (`auto`, `onnxruntime`/`ort`, `openvino`, …) for the
/// command line, so both spell the choices alike.
macro_rules! parse_by_name {
    ($ty:ty, $($name:literal => $value:expr),+ $(,)?) => {
        impl std::str::FromStr for $ty {
            type Err = UnknownChoice;
            fn from_str(s: &str) -> Result<Self, UnknownChoice> {
                match s {
                    $($name => Ok($value),)+
                    other => Err(UnknownChoice {
                        value: other.to_owned(),
                        expected: &[$($name),+],
                    }),
                }
            }
        }
    };
}

parse_by_name!(EngineChoice,
    "auto" => EngineChoice::Auto,
    "onnxruntime" => EngineChoice::OnnxRuntime,
    "ort" => EngineChoice::OnnxRuntime,
    "openvino" => EngineChoice::OpenVino,
);
parse_by_name!(PrecisionChoice,
    "auto" => PrecisionChoice::Auto,
    "f32" => PrecisionChoice::F32,
    "bf16" => PrecisionChoice::Bf16,
);
parse_by_name!(Device, "cpu" => Device::Cpu, "cuda" => Device::Cuda);
