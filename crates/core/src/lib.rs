//! Cutout's pure processing core: decode → segment → refine → compose → encode.
//!
//! Every stage is a plain function over in-memory images with explicit options and documented
//! defaults. Segmentation is behind the [`Segmenter`] trait so this crate never links ONNX Runtime:
//! the HTTP layer and its tests build without it.

pub mod compose;
pub mod decode;
pub mod encode;
mod error;
mod input_format;
pub mod mask;
pub mod pipeline;
mod plane;
mod psd;
pub mod refine;
pub mod resize;
pub mod segment;
pub mod temporal;

pub use compose::{Background, ComposeOptions, CropMargin};
pub use decode::{decode, DecodeLimits, Decoded};
pub use encode::{encode, EncodeOptions, OutputFormat};
pub use error::{CutoutError, DecodeError, EncodeError, ErrorKind, OptionsError};
pub use mask::Mask;
pub use pipeline::{cut_out, process, process_decoded, Options, Output, StageTimings};
pub use refine::RefineOptions;
pub use segment::{
    Device, EngineChoice, EngineKind, EngineReport, FrameSegmenter, ModelDescription, PerFrame,
    Precision, PrecisionChoice, SegmentError, SegmentErrorKind, SegmentOutput, Segmenter,
    SegmenterProvider, UnknownChoice,
};
pub use temporal::{Stabilizer, TemporalOptions};

/// Re-exported so callers can name image types without depending on `image` themselves.
pub use image::{Rgba, RgbaImage};
