//! The multipart reader every upload goes through (`Form::read`): an arbitrary body under a
//! fixed boundary, read with a small file limit into a scratch directory. A body that cannot be
//! read must be refused as the client's fault (4xx), never an internal error, and what is
//! accepted must respect the limits.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::Request;
use cutout_server::error::ApiError;
use cutout_server::http::form::{Form, FormSpec};
use libfuzzer_sys::fuzz_target;

// Small, so the fuzzer reaches the over-limit path with short inputs.
const MAX_BYTES: u64 = 64;

fn refuse_second() -> ApiError {
    ApiError::BadRequest("one file only".into())
}

/// The first byte picks the route's shape: a second file refused or ignored, text fields read or
/// skipped; the rest is the body.
fn spec(flags: u8) -> FormSpec {
    FormSpec {
        file_fields: if flags & 1 == 0 { &["file"] } else { &["image", "file"] },
        max_bytes: MAX_BYTES,
        second_file: (flags & 2 == 0).then_some(refuse_second as fn() -> ApiError),
        text_fields: flags & 4 == 0,
        other_files: if flags & 8 == 0 { &[] } else { &["bg_image_file"] },
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

fn scratch() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a scratch directory"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let req = Request::post("/upload")
        .header("content-type", "multipart/form-data; boundary=XBOUNDARY")
        .body(Body::from(body.to_vec()))
        .expect("a request");
    let spec = spec(flags);
    match runtime().block_on(Form::read_into(scratch().path(), req, &spec)) {
        Ok(form) => {
            for upload in form.file.iter().chain(form.others.iter().map(|(_, u)| u)) {
                assert!(upload.size <= MAX_BYTES, "a file over the limit was kept");
                let on_disk = std::fs::metadata(&upload.temp).expect("the upload").len();
                assert_eq!(on_disk, upload.size, "size differs from the bytes stored");
            }
            for v in form.fields.values() {
                assert!(v.as_str().is_some_and(|t| t.len() <= 64 << 10), "text over 64 KiB");
            }
            assert!(spec.text_fields || form.fields.is_empty());
        }
        Err(e) => assert!(!matches!(e, ApiError::Internal), "internal error on a body: {e}"),
    }
});
