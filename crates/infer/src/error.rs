use cutout_core::{SegmentError, SegmentErrorKind};
use cutout_models::ModelsError;

#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error(transparent)]
    Models(#[from] ModelsError),
    #[error("cannot load the ONNX Runtime library {path}: {detail}")]
    Runtime { path: String, detail: String },
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
            | InferError::Load { .. } => SegmentErrorKind::Unavailable,
            InferError::Models(_) => SegmentErrorKind::Internal,
            InferError::VideoOnly(_) => SegmentErrorKind::NotInstalled,
            InferError::Run { .. } => SegmentErrorKind::Internal,
        };
        SegmentError::new(kind, e.to_string())
    }
}
