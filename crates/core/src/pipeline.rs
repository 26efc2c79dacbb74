//! The whole image pipeline as one call, with per-stage timings.

use std::time::{Duration, Instant};

use image::RgbaImage;

use crate::compose::compose;
use crate::refine::refine;
use crate::{
    decode, encode, Background, ComposeOptions, CutoutError, DecodeLimits, Decoded, EncodeOptions,
    OutputFormat, RefineOptions, Segmenter,
};

/// Every option of the pipeline, grouped by stage; `Options::default()` is the documented default.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub limits: DecodeLimits,
    pub refine: RefineOptions,
    pub compose: ComposeOptions,
    pub encode: EncodeOptions,
}

/// Wall time spent in each stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimings {
    pub decode: Duration,
    pub preprocess: Duration,
    pub inference: Duration,
    pub refine: Duration,
    pub compose: Duration,
    pub encode: Duration,
}

impl StageTimings {
    pub fn total(&self) -> Duration {
        self.decode + self.preprocess + self.inference + self.refine + self.compose + self.encode
    }
}

/// An encoded result.
#[derive(Debug, Clone)]
pub struct Output {
    pub bytes: Vec<u8>,
    pub format: OutputFormat,
    pub width: u32,
    pub height: u32,
    pub timings: StageTimings,
}

/// Decodes `input`, cuts out its subject with `segmenter`, and encodes the result.
pub fn process(
    input: &[u8],
    segmenter: &dyn Segmenter,
    opts: &Options,
) -> Result<Output, CutoutError> {
    let t = Instant::now();
    let decoded = decode(input, &opts.limits)?;
    let decode_time = t.elapsed();
    let mut out = process_decoded(decoded, segmenter, opts)?;
    out.timings.decode = decode_time;
    Ok(out)
}

/// The pipeline after decoding, for callers that decode themselves (video frames, benchmarks).
pub fn process_decoded(
    decoded: Decoded,
    segmenter: &dyn Segmenter,
    opts: &Options,
) -> Result<Output, CutoutError> {
    let mut timings = StageTimings::default();
    let (image, original) = cutout(decoded.image, segmenter, opts, &mut timings)?;
    let t = Instant::now();
    let composed = compose(image, &opts.compose);
    timings.compose = t.elapsed();
    let t = Instant::now();
    let bytes = encode(&composed, original.as_ref(), &opts.encode)?;
    timings.encode = t.elapsed();
    Ok(Output {
        bytes,
        format: opts.encode.format,
        width: composed.width(),
        height: composed.height(),
        timings,
    })
}

/// Decodes, segments and refines, and stops there: the straight-RGBA cut-out at the input's
/// size, for callers that compose and encode it their own way (remove.bg's options).
pub fn cut_out(
    input: &[u8],
    segmenter: &dyn Segmenter,
    opts: &Options,
) -> Result<(RgbaImage, StageTimings), CutoutError> {
    let t = Instant::now();
    let decoded = decode(input, &opts.limits)?;
    let mut timings = StageTimings {
        decode: t.elapsed(),
        ..StageTimings::default()
    };
    let plain = Options {
        encode: EncodeOptions::default(),
        ..opts.clone()
    };
    let (image, _) = cutout(decoded.image, segmenter, &plain, &mut timings)?;
    Ok((image, timings))
}

/// Segments and refines: returns the straight-RGBA cut-out, and the original when PSD needs it.
fn cutout(
    image: RgbaImage,
    segmenter: &dyn Segmenter,
    opts: &Options,
    timings: &mut StageTimings,
) -> Result<(RgbaImage, Option<RgbaImage>), CutoutError> {
    let seg = segmenter.segment(&image)?;
    timings.preprocess = seg.preprocess;
    timings.inference = seg.inference;
    // PSD keeps the untouched photo as a hidden layer; only worth the copy when it fits.
    let keep_original = opts.encode.format == OutputFormat::Psd && !opts.compose.crop;
    let original = keep_original.then(|| image.clone());
    let mut image = image;
    let t = Instant::now();
    refine(&mut image, &seg.mask, &opts.refine);
    timings.refine = t.elapsed();
    // Same scale and size limits as the cut-out (crop is off here, and a transparent background
    // is a no-op), so the hidden layer lines up with it.
    let fit = ComposeOptions {
        background: Background::Transparent,
        ..opts.compose.clone()
    };
    let original = original.map(|o| compose(o, &fit));
    Ok((image, original))
}
