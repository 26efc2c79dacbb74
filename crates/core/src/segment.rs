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
