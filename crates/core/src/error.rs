//! Error types of the processing core. Every variant carries a stable machine code
//! ([`CutoutError::code`]) and a kind that says whose fault it is ([`ErrorKind`]), which the API
//! layer maps to a status code in one place.

use crate::segment::{SegmentError, SegmentErrorKind};

/// Whose fault an error is: the input's (4xx, never retried) or the system's (5xx, retryable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input or options are bad; retrying will not help.
    Input,
    /// The input is fine but exceeds a configured limit.
    Limit,
    /// This installation cannot do it (the model is not installed); retrying will not help.
    Unavailable,
    /// Something on our side failed; the same request may succeed later.
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the input is empty")]
    Empty,
    #[error("the input is {size} bytes, over the limit of {limit} bytes")]
    TooManyBytes { size: u64, limit: u64 },
    #[error("the image is {width}x{height} ({pixels} pixels), over the limit of {limit} pixels")]
    TooManyPixels {
        width: u32,
        height: u32,
        pixels: u64,
        limit: u64,
    },
    #[error("the image is {width}x{height}, over the limit of {limit} pixels per side")]
    TooLarge { width: u32, height: u32, limit: u32 },
    #[error(
        "unsupported or unrecognised image format{0}; supported: {list}",
        list = crate::input_format::supported_list()
    )]
    UnsupportedFormat(String),
    #[error("the image data is corrupt or truncated: {0}")]
    Corrupt(String),
}

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("the output is {width}x{height}, too large for {format}")]
    TooLarge {
        format: &'static str,
        width: u32,
        height: u32,
    },
    #[error("encoding {format} failed: {detail}")]
    Failed {
        format: &'static str,
        detail: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error("invalid colour `{0}`: use hex RRGGBB or RRGGBBAA (with or without #), or a CSS colour name")]
    Color(String),
    #[error(
        "invalid crop margin `{0}`: use pixels (`30`, `30px`) or a percentage (`10%`), at most 50%"
    )]
    CropMargin(String),
    #[error("invalid output format `{0}`: use png, jpg, webp, tiff, psd or mask")]
    Format(String),
    #[error("invalid option {name}: {detail}")]
    Invalid { name: &'static str, detail: String },
}

/// Any failure of the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum CutoutError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("background image: {0}")]
    Background(DecodeError),
    #[error(transparent)]
    Segment(#[from] SegmentError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error(transparent)]
    Options(#[from] OptionsError),
}

impl CutoutError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Decode(e) | Self::Background(e) => match e {
                DecodeError::Empty => "empty_input",
                DecodeError::TooManyBytes { .. } => "file_too_large",
                DecodeError::TooManyPixels { .. } | DecodeError::TooLarge { .. } => {
                    "image_too_large"
                }
                DecodeError::UnsupportedFormat(_) => "unsupported_format",
                DecodeError::Corrupt(_) => "corrupt_image",
            },
            Self::Segment(e) => e.kind.code(),
            Self::Encode(EncodeError::TooLarge { .. }) => "output_too_large",
            Self::Encode(_) => "encode_failed",
            Self::Options(_) => "invalid_option",
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Decode(DecodeError::TooManyBytes { .. })
            | Self::Decode(DecodeError::TooManyPixels { .. })
            | Self::Decode(DecodeError::TooLarge { .. })
            | Self::Encode(EncodeError::TooLarge { .. }) => ErrorKind::Limit,
            Self::Decode(_) | Self::Background(_) | Self::Options(_) => ErrorKind::Input,
            Self::Segment(e) => match e.kind {
                SegmentErrorKind::BadInput => ErrorKind::Input,
                SegmentErrorKind::NotInstalled => ErrorKind::Unavailable,
                SegmentErrorKind::Unavailable | SegmentErrorKind::Internal => ErrorKind::Internal,
            },
            Self::Encode(_) => ErrorKind::Internal,
        }
    }
}
