use cutout_core::{EngineKind, SegmentError, SegmentErrorKind};
use cutout_models::ModelsError;

#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error(transparent)]
    Models(#[from] ModelsError),
    #[error("cannot load the {engine} library {path}: {detail}")]
    Runtime {
        engine: &'static str,
        path: String,
        detail: String,
    },
    #[error("{}", engine_missing(*.0))]
    EngineMissing(EngineKind),
    #[error("inference settings: {0}")]
    Config(String),
    #[error("cannot load model {model}: {detail}")]
    Load { model: String, detail: String },
    #[error("model {0} is a video model; use it for video jobs")]
    VideoOnly(String),
    #[error("inference failed on {model}: {detail}")]
    Run { model: String, detail: String },
}

impl InferError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Models(e) => e.code(),
            Self::Runtime { .. } => "runtime_unavailable",
            Self::EngineMissing(_) => "engine_not_installed",
            Self::Config(_) => "engine_config",
            Self::Load { .. } => "model_load_failed",
            Self::VideoOnly(_) => "video_only_model",
            Self::Run { .. } => "inference_failed",
        }
    }
}

impl From<InferError> for SegmentError {
    fn from(e: InferError) -> Self {
        let kind = match &e {
            InferError::Models(
                ModelsError::UnknownModel(..) | ModelsError::NotInstalled { .. },
            ) => SegmentErrorKind::NotInstalled,
            // The engine's library missing or not loading, a session that could not be built
            // (memory, a busy device), a read error: the next attempt may succeed.
            InferError::Models(ModelsError::RuntimeMissing(_) | ModelsError::Io { .. })
            | InferError::Runtime { .. }
            | InferError::EngineMissing(_)
            | InferError::Load { .. } => SegmentErrorKind::Unavailable,
            InferError::Models(_) => SegmentErrorKind::Internal,
            InferError::VideoOnly(_) => SegmentErrorKind::NotInstalled,
            InferError::Config(_) => SegmentErrorKind::Internal,
            InferError::Run { .. } => SegmentErrorKind::Internal,
        };
        SegmentError::new(kind, e.to_string())
    }
}

fn engine_missing(engine: EngineKind) -> String {
    match engine {
        EngineKind::OpenVino => "OpenVINO is not installed; install it with \
            `cutout models install --engine openvino`"
            .into(),
        EngineKind::OnnxRuntime => "the ONNX Runtime library is not installed; install it with \
            `cutout models install --runtime`"
            .into(),
    }
}
