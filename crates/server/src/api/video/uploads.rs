//! Video uploads (`POST /v1/uploads`, legacy `POST /api/upload`): streamed to disk under the
//! byte limit, probed by content with ffprobe and checked against the limits before they are
//! stored.

use axum::extract::{Request, State};
use axum::Json;
use cutout_store::{now_ms, BlobKey, Scope, VideoId, VideoUpload};
use cutout_video::VideoInfo;

use crate::error::{ApiError, OrInternal};
use crate::http::auth::Caller;
use crate::http::doc::StructuredError;
use crate::http::form::{Form, FormSpec};
use crate::service::state::AppState;

use super::types::{UploadAnswer, UploadForm};

/// Upload a video
///
/// Multipart `file`, streamed to disk under `video.max_bytes` and probed with ffprobe (the
/// declared type is not trusted: mp4, mov, webm and avi are recognised by content).
#[utoipa::path(post, path = "/v1/uploads", tag = "Video", operation_id = "uploadVideo",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Stored.", body = UploadAnswer),
        (status = 400, description = "Invalid request (not a video, over a duration or size limit).", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
        (status = 413, description = "Over `video.max_bytes`.", body = StructuredError),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Json<UploadAnswer>, ApiError> {
    caller.require(Scope::VideosWrite)?;
    let spec = FormSpec {
        file_fields: &["file"],
        max_bytes: state.config.video.max_bytes,
        // As before: the first `file` counts, anything else is skipped unread.
        second_file: None,
        text_fields: false,
        other_files: &[],
    };
    let file = Form::read(&state, req, &spec)
        .await?
        .file
        .ok_or_else(|| ApiError::BadRequest("the multipart field file is required".into()))?;
    let tools = state.config.video.tools();
    let path = file.temp.to_path_buf();
    let info = tokio::task::spawn_blocking(move || cutout_video::probe(&tools, &path))
        .await
        .or_internal("probe task failed")?
        .map_err(|e| match e {
            e @ cutout_video::MediaError::Invalid(_) => ApiError::BadRequest(format!("file: {e}")),
            e => ApiError::internal("probing a video failed", &e),
        })?;
    check_limits(&state, &info)?;
    let id = VideoId::new();
    let blob = BlobKey::video_source(id);
    state
        .blobs
        .put_file(&blob, &file.temp)
        .await
        .or_internal("storing a video failed")?;
    let filename = file.file_name.clone().unwrap_or_else(|| "video".into());
    let record = VideoUpload {
        id,
        account: caller.0.account,
        blob,
        filename: filename.chars().take(255).collect(),
        size: file.size,
        info: serde_json::to_value(&info).or_internal("probe encoding")?,
        created_at: now_ms(),
    };
    state
        .repo
        .create_upload(&record)
        .await
        .or_internal("recording an upload failed")?;
    tracing::info!(video_id = %id, size = file.size, duration = info.duration_secs, "video uploaded");
    Ok(Json(UploadAnswer {
        success: true,
        video_id: id,
        video_url: format!("{}/v1/uploads/{id}", state.public_url),
        filename: record.filename,
        size: file.size,
        duration: info.duration_secs,
        fps: info.fps(),
        width: info.width,
        height: info.height,
        has_audio: info.has_audio,
    }))
}

/// Upload a video (the legacy path)
///
/// The same as `POST /v1/uploads`.
#[utoipa::path(post, path = "/api/upload", tag = "Video", operation_id = "uploadVideoLegacy",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Stored.", body = UploadAnswer),
        (status = 400, description = "Invalid request (not a video, over a duration or size limit).", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
        (status = 413, description = "Over `video.max_bytes`.", body = StructuredError),
    ))]
pub async fn upload_legacy(
    state: State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Json<UploadAnswer>, ApiError> {
    upload(state, caller, req).await
}

fn check_limits(state: &AppState, info: &VideoInfo) -> Result<(), ApiError> {
    cutout_video::check_limits(info, &state.config.video.limits())
        .map_err(|e| ApiError::BadRequest(format!("file: {e}")))
}
