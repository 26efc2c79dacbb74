//! One image job: fetch the input, run the core pipeline on the blocking pool, store the result.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use cutout_core::compose::parse_color;
use cutout_core::{
    decode, Background, ComposeOptions, CropMargin, CutoutError, EncodeOptions, ErrorKind, Options,
    OutputFormat, RefineOptions,
};
use cutout_store::{BlobKey, Job};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::{JobError, Timings};
use crate::spec::{Backdrop, Delivery, JobSpec, Size};
use crate::state::AppState;

/// What a completed image job stores as its result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResultInfo {
    pub blob: String,
    pub mime: String,
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// Stored under the public base (`delivery_mode=final_url`).
    pub published: bool,
    pub warnings: Vec<String>,
    pub timings: Timings,
}

/// Largest preview, in pixels (the vendors' "preview" size is about 0.25 MP).
const PREVIEW_PIXELS: f64 = 250_000.0;

pub async fn run(state: &AppState, job: &Job, worker: &str) -> Result<ResultInfo, JobError> {
    let spec: JobSpec = serde_json::from_value(job.spec.clone())
        .map_err(|e| JobError::abort("invalid_job", format!("unreadable job spec: {e}")))?;
    let mut timings = Timings::default();
    progress(state, job, worker, "fetching", 10).await;
    let t = Instant::now();
    let input = load_input(state, job, &spec).await?;
    timings.fetch_ms = t.elapsed().as_millis() as u64;
    progress(state, job, worker, "processing", 30).await;
    let t = Instant::now();
    let (out, warnings) = render(state, &spec, input).await?;
    timings.process_ms = t.elapsed().as_millis() as u64;
    timings.inference_ms = out.timings.inference.as_millis() as u64;
    progress(state, job, worker, "uploading", 90).await;
    let t = Instant::now();
    let published = spec.delivery == Delivery::FinalUrl;
    let blob = result_key(job, out.format, published)?;
    let size = out.bytes.len() as u64;
    state
        .blobs
        .put_bytes(&blob, Bytes::from(out.bytes))
        .await
        .map_err(|e| JobError::retry("storage_error", e))?;
    timings.store_ms = t.elapsed().as_millis() as u64;
    Ok(ResultInfo {
        blob: blob.to_string(),
        mime: out.format.mime().into(),
        format: out.format.extension().into(),
        width: out.width,
        height: out.height,
        bytes: size,
        published,
        warnings,
        timings,
    })
}

async fn progress(state: &AppState, job: &Job, worker: &str, status: &str, pct: u8) {
    if let Err(e) = state.repo.set_progress(job.id, worker, status, pct).await {
        tracing::warn!(error = %e, "progress update failed");
    }
}

async fn load_input(state: &AppState, job: &Job, spec: &JobSpec) -> Result<Bytes, JobError> {
    if let Some(key) = &job.input_key {
        let key = BlobKey::parse(key).map_err(|e| JobError::abort("invalid_job", e))?;
        return state
            .blobs
            .get(&key)
            .await
            .map_err(|e| JobError::retry("storage_error", e))?
            .ok_or_else(|| JobError::abort("input_missing", "the uploaded input is gone"));
    }
    let url = spec
        .file_url
        .as_deref()
        .ok_or_else(|| JobError::abort("invalid_job", "the job has no input"))?;
    fetch(state, url).await
}

async fn fetch(state: &AppState, url: &str) -> Result<Bytes, JobError> {
    state
        .fetcher
        .get(url, state.config.limits.max_input_bytes)
        .await
        .map_err(|e| {
            let code = e.code();
            if e.is_transient() {
                JobError::retry(code, e)
            } else {
                JobError::abort(code, e)
            }
        })
}

/// Fetches the background image (if any) and runs the pipeline: what an image job and an inline
/// add-on call share.
pub(crate) async fn render(
    state: &AppState,
    spec: &JobSpec,
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
    spec: JobSpec,
    input: Bytes,
    backdrop: Option<Bytes>,
) -> Result<(cutout_core::Output, Vec<String>), JobError> {
    let provider = Arc::clone(&state.segmenters);
    let limits = crate::routes::intake::decode_limits(state);
    let task = tokio::task::spawn_blocking(move || {
        let segmenter = provider
            .get(&spec.model)
            .map_err(|e| JobError::retry("model_unavailable", e))?;
        let (opts, warnings) = options(&spec, &input, backdrop.as_deref(), limits)?;
        let out =
            cutout_core::process(&input, segmenter.as_ref(), &opts).map_err(pipeline_error)?;
        Ok((out, warnings))
    });
    task.await
        .map_err(|e| JobError::abort("internal_error", format!("processing task failed: {e}")))?
}

fn pipeline_error(e: CutoutError) -> JobError {
    match e.kind() {
        ErrorKind::Input | ErrorKind::Limit => JobError::abort(e.code(), e),
        ErrorKind::Internal => JobError::retry(e.code(), e),
    }
}

/// The pipeline options for a spec; the input's header gives the size for `size=preview`.
fn options(
    spec: &JobSpec,
    input: &[u8],
    backdrop: Option<&[u8]>,
    limits: cutout_core::DecodeLimits,
) -> Result<(Options, Vec<String>), JobError> {
    let mut warnings = Vec::new();
    let background = match (&spec.backdrop, backdrop) {
        (Backdrop::Color(c), _) => {
            Background::Color(parse_color(c).map_err(|e| JobError::abort("invalid_option", e))?)
        }
        (Backdrop::ImageUrl(_), Some(bytes)) => Background::Image(
            decode(bytes, &limits)
                .map_err(|e| JobError::abort("invalid_background", CutoutError::Background(e)))?
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
            let (_, w, h) = cutout_core::decode::probe(input).map_err(|e| {
                JobError::abort(CutoutError::from(e).code(), "unreadable image header")
            })?;
            let s = (PREVIEW_PIXELS / (w as f64 * h as f64)).sqrt();
            (if s < 1.0 { Some(s as f32) } else { None }, None, None)
        }
    };
    let compose = ComposeOptions {
        background,
        crop: spec.crop,
        crop_margin: spec
            .crop_margin
            .parse::<CropMargin>()
            .map_err(|e| JobError::abort("invalid_option", e))?,
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

fn result_key(job: &Job, format: OutputFormat, published: bool) -> Result<BlobKey, JobError> {
    let ext = format.extension();
    let key = if published {
        // Unguessable: the public base serves anything under `public/` without a key.
        let mut token = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut token);
        format!("public/{}/{}.{ext}", job.id, hex::encode(token))
    } else {
        format!("results/{}.{ext}", job.id)
    };
    BlobKey::parse(&key).map_err(|e| JobError::abort("internal_error", e))
}
