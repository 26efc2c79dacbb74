//! The segmentation seam. Implementations live outside the core (ONNX Runtime in `cutout-infer`,
//! a deterministic fake in tests) so this crate stays free of native inference libraries.

use std::time::Duration;

use image::RgbaImage;

use crate::Mask;

/// A failure inside a segmenter: model loading, tensor shapes, runtime errors.
#[derive(Debug, thiserror::Error)]
#[error("segmentation failed: {0}")]
pub struct SegmentError(pub String);

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
}

/// A (shared) still-image segmenter used frame by frame.
pub struct PerFrame(pub std::sync::Arc<dyn Segmenter>);

impl FrameSegmenter for PerFrame {
    fn next_frame(&mut self, frame: &RgbaImage) -> Result<SegmentOutput, SegmentError> {
        self.0.segment(frame)
    }
}
