//! One video job: the uploaded source to a temp file, the video pipeline on a blocking thread,
//! live progress, and a cancel (or a lost claim) that stops ffmpeg at the next frame.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cutout_core::Rgba;
use std::path::Path;

use cutout_store::{BlobKey, Charged, Job, JobPhase, VideoId};
use cutout_video::{MediaError, VideoInfo, VideoOptions};
use serde_json::{json, Value};

use crate::error::ErrorCode;
use crate::service::render::segment_error;
use crate::service::results::ResultInfo;
use crate::service::state::AppState;
use crate::service::video_spec::{Source, VideoJobSpec};
use crate::service::{JobError, Timings};

fn media_error(e: MediaError) -> JobError {
    match e {
        // A missing tool, a timeout or a disk error may pass; bad or cancelled input will not.
        MediaError::Missing { .. } | MediaError::Timeout { .. } | MediaError::Io(_) => {
            JobError::retry(ErrorCode::from_lower(e.code()), e)
        }
        other => JobError::abort(ErrorCode::from_lower(other.code()), other),
    }
}

pub async fn run(
    state: &AppState,
    job: &Job,
    spec: VideoJobSpec,
    worker: &str,
) -> Result<Value, JobError> {
    let dir = tempfile::tempdir_in(state.upload_dir.path())
        .map_err(|e| JobError::retry(ErrorCode::IO, e))?;
    let input = dir.path().join("source");
    let info = match &spec.source {
        Source::Upload(id) => upload_to_file(state, job, *id, &input).await?,
        Source::Remote(url) => remote_to_file(state, job, worker, &spec.model, url, &input).await?,
    };
    announce_start(state, job, &spec).await;
    let output = dir
        .path()
        .join(format!("out.{}", spec.output_format.extension()));

    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let monitor = progress_monitor(
        state.clone(),
        job.clone(),
        worker.to_owned(),
        info.expected_frames(),
        done.clone(),
        stop.clone(),
    );
    let provider = Arc::clone(&state.segmenters);
    let tools = state.config.video.tools();
    let mut opts = VideoOptions {
        format: spec.output_format,
        background: spec.background.map(|[r, g, b]| Rgba([r, g, b, 255])),
        ..state.config.video.limits()
    };
    opts.temporal.enabled = spec.stabilize;
    let (inp, out, eng) = (input.clone(), output.clone(), spec.engine.clone());
    let (d, st) = (done.clone(), stop.clone());
    let result = tokio::task::spawn_blocking(move || {
        let mut seg = provider.sequence(&eng).map_err(segment_error)?;
        cutout_video::process_video(
            &tools,
            &inp,
            &info,
            &out,
            seg.as_mut(),
            &opts,
            &mut |n, _| {
                d.store(n, Ordering::Relaxed);
                !st.load(Ordering::Relaxed)
            },
        )
        .map_err(media_error)
    })
    .await;
    monitor.abort();
    let summary = result.map_err(|e| JobError::abort(ErrorCode::INTERNAL, e))??;
    let blob = BlobKey::parse(&format!(
        "results/{}.{}",
        job.id,
        spec.output_format.extension()
    ))
    .map_err(|e| JobError::abort(ErrorCode::INTERNAL, e))?;
    let size = state
        .blobs
        .put_file(&blob, &output)
        .await
        .map_err(|e| JobError::retry(ErrorCode::STORAGE, e))?;
    let info = ResultInfo {
        blob,
        mime: spec.output_format.mime().into(),
        format: spec.output_format.extension().into(),
        width: summary.width,
        height: summary.height,
        bytes: size,
        published: false,
        warnings: vec![],
        timings: Timings {
            process_ms: summary.total_ms,
            inference_ms: summary.inference_ms,
            ..Default::default()
        },
    };
    let mut v = serde_json::to_value(&info).map_err(|e| JobError::abort(ErrorCode::INTERNAL, e))?;
    v["duration_seconds"] =
        json!(summary.frames as f64 * summary.fps_den as f64 / summary.fps_num.max(1) as f64);
    v["video"] = serde_json::to_value(&summary).unwrap_or_default();
    Ok(v)
}

/// Copies an upload's blob to `dest` (streamed); its probe was recorded at upload time.
async fn upload_to_file(
    state: &AppState,
    job: &Job,
    id: VideoId,
    dest: &Path,
) -> Result<VideoInfo, JobError> {
    let gone = || JobError::abort(ErrorCode::INPUT_MISSING, "the uploaded video is gone");
    let upload = state
        .repo
        .get_upload(job.account, id)
        .await
        .map_err(|e| JobError::retry(ErrorCode::STORAGE, e))?
        .ok_or_else(gone)?;
    let info: VideoInfo = serde_json::from_value(upload.info.clone())
        .map_err(|e| JobError::abort(ErrorCode::INVALID_JOB, e))?;
    state
        .blobs
        .get_to_file(&upload.blob, dest)
        .await
        .map_err(|e| JobError::retry(ErrorCode::STORAGE, e))?
        .ok_or_else(gone)?;
    Ok(info)
}

/// Downloads a remote `video_url` (every hop checked against private addresses, size-capped),
/// probes it, checks the limits, and only then charges for its duration, once per job.
async fn remote_to_file(
    state: &AppState,
    job: &Job,
    worker: &str,
    model: &str,
    url: &str,
    dest: &Path,
) -> Result<VideoInfo, JobError> {
    let cfg = &state.config.video;
    let timeout = Duration::from_secs(cfg.fetch_timeout_secs);
    state
        .fetcher
        .get_to_file(url, cfg.max_bytes, dest, timeout)
        .await
        .map_err(|e| match e.is_transient() {
            true => JobError::retry(ErrorCode::from_lower(e.code()), e),
            false => JobError::abort(ErrorCode::from_lower(e.code()), format!("video_url: {e}")),
        })?;
    let (tools, path) = (cfg.tools(), dest.to_owned());
    let info = tokio::task::spawn_blocking(move || cutout_video::probe(&tools, &path))
        .await
        .map_err(|e| JobError::abort(ErrorCode::INTERNAL, e))?
        .map_err(media_error)?;
    cutout_video::check_limits(&info, &cfg.limits()).map_err(media_error)?;
    let cost = cfg.credits(model, info.duration_secs);
    match state
        .repo
        .charge_claimed(job.id, worker, cost)
        .await
        .map_err(|e| JobError::retry(ErrorCode::STORAGE, e))?
    {
        Charged::Now | Charged::Already => Ok(info),
        Charged::InsufficientCredits { balance } => Err(JobError::abort(
            ErrorCode::INSUFFICIENT_CREDITS,
            format!("the video costs {cost} credits; the balance is {balance}"),
        )),
        Charged::NotClaimed => Err(JobError::abort(
            ErrorCode::CANCELLED,
            "the job is no longer ours",
        )),
    }
}

/// `job.started`, once per job (a restarted attempt does not send it again).
async fn announce_start(state: &AppState, job: &Job, spec: &VideoJobSpec) {
    let Some(url) = spec.webhook_url.clone() else {
        return;
    };
    // Reloaded: the charge of a remote video was just recorded.
    let current = match state.repo.get_job(job.id).await {
        Ok(Some(j)) => j,
        _ => job.clone(),
    };
    let delivery = crate::service::webhook::started(state, &current, url);
    if let Err(e) = state.repo.enqueue_once(&current, delivery).await {
        tracing::warn!(error = %e, "queueing job.started failed");
    }
}

/// Every second: the progress for clients, and whether the job is still ours (a cancel takes the
/// claim away; the pipeline then stops at the next frame).
fn progress_monitor(
    state: AppState,
    job: Job,
    worker: String,
    total: u64,
    done: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let n = done.load(Ordering::Relaxed);
            let pct = (n * 99 / total.max(1)).min(99) as u8;
            match state
                .repo
                .set_progress(job.id, &worker, JobPhase::Processing, pct)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!(job_id = %job.id, "the job was cancelled or taken; stopping");
                    stop.store(true, Ordering::Relaxed);
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "progress update failed"),
            }
        }
    })
}
