//! Rendering a processing request: the background fetched, the core pipeline run on the blocking
//! pool, errors sorted into retry or abort. Image jobs and the add-on's inline calls share it.

use std::sync::Arc;

use bytes::Bytes;
use cutout_core::{
    decode, Background, ComposeOptions, CutoutError, DecodeLimits, EncodeOptions, ErrorKind,
    Options, OutputFormat, RefineOptions, SegmentError,
};

use super::spec::{Backdrop, ProcessingRequest, Size};
use super::JobError;
use crate::error::ErrorCode;
use crate::service::state::AppState;

/// Largest preview, in pixels (the vendors' "preview" size is about 0.25 MP).
const PREVIEW_PIXELS: f64 = 250_000.0;

/// Fetches a user-supplied URL through the guarded client; network trouble retries, a refused
/// or oversized URL aborts.
pub async fn fetch(state: &AppState, url: &str) -> Result<Bytes, JobError> {
    state
        .fetcher
        .get(url, state.config.limits.max_input_bytes)
        .await
        .map_err(|e| {
            let code = ErrorCode::from_lower(e.code());
            if e.is_transient() {
                JobError::retry(code, e)
            } else {
                JobError::abort(code, e)
            }
        })
}

/// Fetches the background image (if any) and runs the pipeline: what an image job and an inline
/// add-on call share.
pub async fn render(
    state: &AppState,
    spec: &ProcessingRequest,
    input: Bytes,
) -> Result<(cutout_core::Output, Vec<String>), JobError> {
    let backdrop = match &spec.backdrop {
        Backdrop::ImageUrl(u) => Some(fetch(state, u).await?),
        _ => None,
    };
    let (out, warnings) = process(state, spec.clone(), input, backdrop).await?;
    crate::metrics::Metrics::observe(
        &state.metrics.inference_seconds,
        &spec.model,
        out.timings.inference.as_secs_f64(),
    );
    Ok((out, warnings))
}

/// Runs the CPU-heavy part on the blocking pool: never on an async executor thread.
async fn process(
    state: &AppState,
    spec: ProcessingRequest,
    input: Bytes,
    backdrop: Option<Bytes>,
) -> Result<(cutout_core::Output, Vec<String>), JobError> {
    let provider = Arc::clone(&state.segmenters);
    let limits = decode_limits(state);
    let images: Vec<&[u8]> = std::iter::once(&input[..])
        .chain(backdrop.as_deref())
        .collect();
    let admitted = state.pixel_budget.admit(&images, &limits).await;
    let task = tokio::task::spawn_blocking(move || {
        let _admitted = admitted;
        let segmenter = provider.get(&spec.model).map_err(segment_error)?;
        let (opts, warnings) = options(&spec, &input, backdrop.as_deref(), limits)?;
        let out =
            cutout_core::process(&input, segmenter.as_ref(), &opts).map_err(pipeline_error)?;
        Ok((out, warnings))
    });
    task.await
        .map_err(|e| JobError::abort(ErrorCode::INTERNAL, format!("processing task failed: {e}")))?
}

/// Cuts out `input` with `model` on the blocking pool and hands the straight-RGBA cut-out, at
/// the input's size, to `finish` there too (placing, resizing and encoding are as heavy as the
/// rest): for a family that composes and encodes its own way.
pub async fn cut_out_then<T: Send + 'static>(
    state: &AppState,
    model: &str,
    input: Bytes,
    finish: impl FnOnce(cutout_core::RgbaImage) -> Result<T, CutoutError> + Send + 'static,
) -> Result<T, JobError> {
    let provider = Arc::clone(&state.segmenters);
    let opts = Options {
        limits: decode_limits(state),
        ..Options::default()
    };
    let model = model.to_owned();
    let state = state.clone();
    let admitted = state.pixel_budget.admit(&[&input], &opts.limits).await;
    let task = tokio::task::spawn_blocking(move || {
        let _admitted = admitted;
        let segmenter = provider.get(&model).map_err(segment_error)?;
        let (cutout, timings) =
            cutout_core::cut_out(&input, segmenter.as_ref(), &opts).map_err(pipeline_error)?;
        crate::metrics::Metrics::observe(
            &state.metrics.inference_seconds,
            &model,
            timings.inference.as_secs_f64(),
        );
        finish(cutout).map_err(pipeline_error)
    });
    task.await
        .map_err(|e| JobError::abort(ErrorCode::INTERNAL, format!("processing task failed: {e}")))?
}

fn pipeline_error(e: CutoutError) -> JobError {
    match e.kind() {
        ErrorKind::Input | ErrorKind::Limit => JobError::abort(ErrorCode::from_lower(e.code()), e),
        ErrorKind::Unavailable => JobError::broken(ErrorCode::from_lower(e.code()), e),
        ErrorKind::Internal => JobError::retry(ErrorCode::from_lower(e.code()), e),
    }
}

/// A segmenter that could not be had, sorted like one failing inside the pipeline (core's
/// `CutoutError::kind` is the one table): a model that is not installed is broken at once, an
/// image the model refuses is the input's fault, the rest retries.
pub fn segment_error(e: SegmentError) -> JobError {
    pipeline_error(CutoutError::Segment(e))
}

/// The pipeline options for a spec; the input's header gives the size for `size=preview`.
fn options(
    spec: &ProcessingRequest,
    input: &[u8],
    backdrop: Option<&[u8]>,
    limits: cutout_core::DecodeLimits,
) -> Result<(Options, Vec<String>), JobError> {
    let mut warnings = Vec::new();
    let background = match (&spec.backdrop, backdrop) {
        (Backdrop::Color(c), _) => Background::Color(c.0),
        (Backdrop::ImageUrl(_), Some(bytes)) => Background::Image(
            decode(bytes, &limits)
                .map_err(|e| {
                    JobError::abort(ErrorCode::INVALID_BACKGROUND, CutoutError::Background(e))
                })?
                .image,
        ),
        _ => Background::Transparent,
    };
    let format = spec.format();
    if format == OutputFormat::Jpeg && matches!(background, Background::Transparent) {
        warnings.push("jpg has no transparency: the subject is flattened on white".into());
    }
    let jpeg_background = match &background {
        Background::Color(c) => *c,
        _ => EncodeOptions::default().jpeg_background,
    };
    let (scale, max_width, max_height) = match spec.size {
        Size::Full => (None, None, None),
        Size::Box { width, height } => (None, Some(width), Some(height)),
        Size::Preview => {
            let (_, w, h) = cutout_core::decode::probe_with(input, &limits).map_err(|e| {
                JobError::abort(
                    ErrorCode::from_lower(CutoutError::from(e).code()),
                    "unreadable image header",
                )
            })?;
            let s = (PREVIEW_PIXELS / (w as f64 * h as f64)).sqrt();
            (if s < 1.0 { Some(s as f32) } else { None }, None, None)
        }
    };
    let compose = ComposeOptions {
        background,
        crop: spec.crop,
        crop_margin: spec.crop_margin,
        scale,
        max_width,
        max_height,
    };
    let encode = EncodeOptions {
        format,
        jpeg_background,
        ..Default::default()
    };
    Ok((
        Options {
            limits,
            refine: RefineOptions::default(),
            compose,
            encode,
        },
        warnings,
    ))
}

/// The decoder's limits from `[limits]`: checked on upload headers and again on every decode.
pub fn decode_limits(state: &AppState) -> DecodeLimits {
    let l = &state.config.limits;
    DecodeLimits {
        max_bytes: l.max_input_bytes,
        max_pixels: (l.max_megapixels * 1e6) as u64,
        max_side: l.max_side,
        svg_max_nodes: l.svg_max_nodes,
        svg_max_depth: l.svg_max_depth,
    }
}
