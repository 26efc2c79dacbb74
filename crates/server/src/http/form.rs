//! Uploaded files at the boundary: streamed to disk with the byte limit enforced as they arrive,
//! hashed on the way, and sniffed (the declared type is not trusted) with the dimensions checked
//! from the header before anything is queued or decoded.

use std::path::Path;

use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use cutout_core::{decode::probe_with, DecodeError};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::ApiError;
use crate::error::OrInternal;
use crate::service::state::AppState;

/// A file streamed to the upload directory.
pub struct Upload {
    /// Removed when dropped, so a refused request leaves nothing behind.
    pub temp: tempfile::TempPath,
    pub sha256: String,
    pub size: u64,
    /// The client's file name, if it sent one (for display only).
    pub file_name: Option<String>,
}

/// What the header of an accepted image says.
#[derive(Clone, Copy, Debug)]
pub struct ImageInfo {
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Maps a multipart error to 413 or 400.
fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(e.body_text())
    } else {
        ApiError::BadRequest(e.body_text())
    }
}

/// The request as multipart form data; a 400 that names the file field otherwise.
async fn multipart(
    req: axum::extract::Request,
    file_field: &str,
) -> Result<axum::extract::Multipart, ApiError> {
    use axum::extract::FromRequest;
    axum::extract::Multipart::from_request(req, &())
        .await
        .map_err(|e| {
            ApiError::BadRequest(format!(
                "send multipart/form-data with the {file_field} field: {}",
                e.body_text()
            ))
        })
}

/// A multipart form read whole: its text fields, and at most one file streamed to disk.
pub struct Form {
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub file: Option<Upload>,
    /// Files under `FormSpec::other_files`, by field name (the first of each).
    pub others: Vec<(String, Upload)>,
}

/// What a route's form looks like.
pub struct FormSpec {
    /// The names the file may come under (`file`, or the add-on's `image`).
    pub file_fields: &'static [&'static str],
    /// Its byte limit, enforced while streaming.
    pub max_bytes: u64,
    /// The refusal of a second file, in the route's own words; `None` ignores later files.
    pub second_file: Option<fn() -> ApiError>,
    /// Read the other fields as text (at most 64 KiB each); `false` skips them unread.
    pub text_fields: bool,
    /// More fields streamed to disk under the same limit (a background image, a base64 image).
    pub other_files: &'static [&'static str],
}

impl Form {
    /// Reads `req` as multipart form data: every text field (at most 64 KiB each), and the file
    /// under one of `spec.file_fields`, streamed to the upload directory under its limit.
    pub async fn read(
        state: &AppState,
        req: axum::extract::Request,
        spec: &FormSpec,
    ) -> Result<Self, ApiError> {
        Self::read_into(state.upload_dir.path(), req, spec).await
    }

    /// [`Form::read`], streaming files into `dir`: the reader alone, without the application
    /// around it (the multipart fuzz target drives it with arbitrary bodies).
    pub async fn read_into(
        dir: &Path,
        req: axum::extract::Request,
        spec: &FormSpec,
    ) -> Result<Self, ApiError> {
        let mut mp = multipart(req, spec.file_fields[0]).await?;
        let mut form = Form {
            fields: serde_json::Map::new(),
            file: None,
            others: Vec::new(),
        };
        while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_owned();
            if spec.file_fields.contains(&name.as_str()) {
                match (&form.file, spec.second_file) {
                    (None, _) => {
                        form.file = Some(stream_limited(dir, &mut field, spec.max_bytes).await?)
                    }
                    (Some(_), Some(refuse)) => return Err(refuse()),
                    (Some(_), None) => {}
                }
            } else if spec.other_files.contains(&name.as_str()) {
                if !form.others.iter().any(|(n, _)| *n == name) {
                    let upload = stream_limited(dir, &mut field, spec.max_bytes).await?;
                    form.others.push((name, upload));
                }
            } else if spec.text_fields {
                let text = text_field(&mut field).await?;
                form.fields.insert(name, serde_json::Value::String(text));
            }
        }
        Ok(form)
    }
}

/// Streams one file field to a temp file, hashing it and enforcing the byte limit as it goes.
async fn stream_limited(dir: &Path, field: &mut Field<'_>, max: u64) -> Result<Upload, ApiError> {
    let file_name = field.file_name().map(str::to_owned);
    let temp = tempfile::NamedTempFile::new_in(dir)
        .or_internal("creating an upload file")?
        .into_temp_path();
    let mut out = tokio::fs::File::create(&temp)
        .await
        .or_internal("opening an upload file")?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        size += chunk.len() as u64;
        if size > max {
            return Err(ApiError::PayloadTooLarge(format!(
                "the file is over the limit of {max} bytes"
            )));
        }
        hasher.update(&chunk);
        out.write_all(&chunk)
            .await
            .or_internal("writing an upload")?;
    }
    out.flush().await.or_internal("writing an upload")?;
    Ok(Upload {
        temp,
        sha256: hex::encode(hasher.finalize()),
        size,
        file_name,
    })
}

/// A text field, at most 64 KiB of UTF-8.
async fn text_field(field: &mut Field<'_>) -> Result<String, ApiError> {
    let name = field.name().unwrap_or_default().to_owned();
    let mut text = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        text.extend_from_slice(&chunk);
        if text.len() > 64 << 10 {
            return Err(ApiError::PayloadTooLarge(format!(
                "field {name} is over 64 KiB"
            )));
        }
    }
    String::from_utf8(text)
        .map_err(|_| ApiError::BadRequest(format!("field {name} is not UTF-8 text")))
}

/// Sniffs the uploaded bytes and checks the dimensions from the header, so an unsupported file
/// or a pixel bomb is refused before it is stored or decoded. `Ok(None)`: the header is past the
/// first MiB (rare), so the worker's full decode decides.
pub async fn check_image(state: &AppState, upload: &Upload) -> Result<Option<ImageInfo>, String> {
    const HEAD: usize = 1 << 20;
    let mut head = Vec::with_capacity(HEAD.min(upload.size as usize));
    let mut f = tokio::fs::File::open(&upload.temp)
        .await
        .map_err(|e| e.to_string())?;
    (&mut f)
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .await
        .map_err(|e| e.to_string())?;
    let limits = crate::service::render::decode_limits(state);
    // An SVG or HEIF header is parsed, not just read: off the async threads.
    let probed = tokio::task::spawn_blocking(move || {
        let r = probe_with(&head, &limits);
        (r, head.is_empty())
    })
    .await
    .map_err(|e| e.to_string())?;
    match probed {
        (Ok((format, width, height)), _) => {
            cutout_core::decode::check_dimensions(width, height, &limits)
                .map_err(|e| e.to_string())?;
            Ok(Some(ImageInfo {
                mime: format.mime(),
                width,
                height,
            }))
        }
        (Err(DecodeError::Corrupt(_)), _) if upload.size as usize > HEAD => Ok(None),
        (Err(DecodeError::Empty) | Err(DecodeError::Corrupt(_)), true) => {
            Err("the file is empty".into())
        }
        (Err(e), _) => Err(e.to_string()),
    }
}
