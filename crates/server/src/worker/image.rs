//! One image job: fetch the input, run the core pipeline on the blocking pool, store the result.

use std::time::Instant;

use bytes::Bytes;
use cutout_store::{Job, JobPhase};

use crate::error::ErrorCode;
use crate::service::render::{fetch, render};
use crate::service::results::{result_key, ResultInfo};
use crate::service::spec::{Delivery, ProcessingRequest};
use crate::service::state::AppState;
use crate::service::{JobError, Timings};

pub async fn run(
    state: &AppState,
    job: &Job,
    spec: ProcessingRequest,
    worker: &str,
) -> Result<ResultInfo, JobError> {
    let mut timings = Timings::default();
    progress(state, job, worker, JobPhase::Fetching, 10).await;
    let t = Instant::now();
    let input = load_input(state, job, &spec).await?;
    timings.fetch_ms = t.elapsed().as_millis() as u64;
    progress(state, job, worker, JobPhase::Processing, 30).await;
    let t = Instant::now();
    let (out, warnings) = render(state, &spec, input).await?;
    timings.process_ms = t.elapsed().as_millis() as u64;
    timings.inference_ms = out.timings.inference.as_millis() as u64;
    progress(state, job, worker, JobPhase::Uploading, 90).await;
    let t = Instant::now();
    let published = spec.delivery == Delivery::FinalUrl;
    let blob = result_key(job, out.format, published)?;
    let size = out.bytes.len() as u64;
    state
        .blobs
        .put_bytes(&blob, Bytes::from(out.bytes))
        .await
        .map_err(|e| JobError::retry(ErrorCode::STORAGE, e))?;
    timings.store_ms = t.elapsed().as_millis() as u64;
    Ok(ResultInfo {
        blob,
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

async fn progress(state: &AppState, job: &Job, worker: &str, status: JobPhase, pct: u8) {
    if let Err(e) = state.repo.set_progress(job.id, worker, status, pct).await {
        tracing::warn!(error = %e, "progress update failed");
    }
}

async fn load_input(
    state: &AppState,
    job: &Job,
    spec: &ProcessingRequest,
) -> Result<Bytes, JobError> {
    if let Some(key) = &job.input_key {
        return state
            .blobs
            .get(key)
            .await
            .map_err(|e| JobError::retry(ErrorCode::STORAGE, e))?
            .ok_or_else(|| {
                JobError::abort(ErrorCode::INPUT_MISSING, "the uploaded input is gone")
            });
    }
    let url = spec
        .file_url
        .as_deref()
        .ok_or_else(|| JobError::abort(ErrorCode::INVALID_JOB, "the job has no input"))?;
    fetch(state, url).await
}
