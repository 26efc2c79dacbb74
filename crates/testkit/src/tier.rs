//! Test tiers. Plain `cargo test` on a fresh clone must pass with nothing installed, so a test
//! that needs something outside Rust (real models, ffmpeg, ...) asks [`available`] first and
//! returns early when it is missing, saying so on the terminal. `scripts/test.sh` installs all of
//! it and sets `CUTOUT_FULL_TESTS=1`; then a missing piece fails the test instead, so CI runs
//! every test or fails.

use std::io::Write;
use std::process::{Command, Stdio};

/// Something a test needs that `cargo` does not provide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// ONNX Runtime and the default models (`cutout models install`).
    Models,
    /// The GPL video model (`cutout models install rvm`).
    RvmModel,
    /// `ffmpeg` and `ffprobe` on PATH.
    Ffmpeg,
    /// Python with psd-tools (`CUTOUT_TEST_PYTHON`), to read PSD outputs back.
    PsdTools,
    /// Python with openapi-spec-validator (`CUTOUT_TEST_PYTHON`), to check `/openapi.json`.
    OpenApiValidator,
    /// The tests' PostgreSQL server (`CUTOUT_TEST_PG_URL`, set by `scripts/test.sh`).
    Postgres,
    /// The tests' S3 server (`CUTOUT_TEST_S3_ENDPOINT`, set by `scripts/test.sh`).
    S3,
    /// ImageMagick's `identify`.
    ImageMagick,
    /// libjpeg-turbo's `cjpeg` and `jpegtran`.
    Cjpeg,
    /// libheif (Debian's `libheif1`), which decodes AVIF and HEIC inputs.
    Libheif,
    /// Python with `requests` (`CUTOUT_TEST_PYTHON`), for clients written from vendors' docs.
    PyRequests,
    /// Node with playwright-core (`NODE_PATH`, set by `scripts/test.sh`) and Debian's chromium.
    Browser,
    /// OpenVINO's libraries (`cutout models install --engine openvino`).
    OpenVino,
    /// Python with numpy and Pillow (`CUTOUT_TEST_PYTHON`), for reference implementations.
    PyNumpy,
}

impl Need {
    fn what(self) -> &'static str {
        match self {
            Self::Models => "ONNX Runtime and the default models",
            Self::RvmModel => "the rvm model",
            Self::Ffmpeg => "ffmpeg and ffprobe",
            Self::PsdTools => "Python with psd-tools",
            Self::OpenApiValidator => "Python with openapi-spec-validator",
            Self::Postgres => "a PostgreSQL server (CUTOUT_TEST_PG_URL)",
            Self::S3 => "an S3 server (CUTOUT_TEST_S3_ENDPOINT)",
            Self::ImageMagick => "ImageMagick",
            Self::Cjpeg => "cjpeg and jpegtran",
            Self::Libheif => "libheif (libheif1)",
            Self::PyRequests => "Python with requests",
            Self::Browser => "node with playwright-core (NODE_PATH) and chromium",
            Self::OpenVino => "OpenVINO (cutout models install --engine openvino)",
            Self::PyNumpy => "Python with numpy and Pillow",
        }
    }

    fn present(self) -> bool {
        match self {
            Self::Models => models_installed(&["u2netp"]),
            Self::RvmModel => models_installed(&["rvm"]),
            Self::Ffmpeg => runs("ffmpeg", &["-version"]) && runs("ffprobe", &["-version"]),
            Self::PsdTools => runs(&python(), &["-c", "import psd_tools"]),
            Self::OpenApiValidator => runs(&python(), &["-c", "import openapi_spec_validator"]),
            Self::Postgres => set("CUTOUT_TEST_PG_URL"),
            Self::S3 => set("CUTOUT_TEST_S3_ENDPOINT"),
            Self::ImageMagick => runs("identify", &["-version"]),
            Self::Cjpeg => runs("cjpeg", &["-version"]) && runs("jpegtran", &["-version"]),
            Self::Libheif => cutout_core::decode::heif_available(),
            Self::PyRequests => runs(&python(), &["-c", "import requests"]),
            Self::OpenVino => cutout_models::DataDir::from_env().openvino_installed(),
            Self::PyNumpy => runs(&python(), &["-c", "import numpy, PIL"]),
            Self::Browser => {
                runs("node", &["-e", "require('playwright-core')"])
                    && runs("chromium", &["--version"])
            }
        }
    }
}

fn set(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.is_empty())
}

/// True under `scripts/test.sh`: every test must run.
pub fn full_suite() -> bool {
    std::env::var("CUTOUT_FULL_TESTS").is_ok_and(|v| v == "1")
}

/// Whether `needs` are all met. When one is not: panics under the full suite, otherwise writes a
/// line straight to the terminal (past the test harness's capture) naming the script that runs
/// the test, and returns false so the test can return early.
pub fn available(test: &str, needs: &[Need]) -> bool {
    let Some(missing) = needs.iter().find(|n| !n.present()) else {
        return true;
    };
    let msg = format!(
        "{test}: needs {} (not found); `scripts/test.sh` installs it and runs every test",
        missing.what()
    );
    assert!(!full_suite(), "{msg}");
    let _ = writeln!(std::io::stderr(), "skipped {msg}");
    false
}

/// Returns from the calling test unless everything it names is here (see [`available`]).
#[macro_export]
macro_rules! require {
    ($($need:ident),+ $(,)?) => {
        if !$crate::tier::available(
            // libtest names each test's thread after the test.
            std::thread::current().name().unwrap_or(module_path!()),
            &[$($crate::Need::$need),+],
        ) {
            return;
        }
    };
}

/// The Python that has the test helpers (`CUTOUT_TEST_PYTHON`, set by `scripts/test.sh`).
pub fn python() -> String {
    std::env::var("CUTOUT_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The runtime library and each named model are installed and verified.
fn models_installed(names: &[&str]) -> bool {
    let data = cutout_models::DataDir::from_env();
    let manifest = cutout_models::manifest();
    data.runtime_path().exists()
        && names
            .iter()
            .all(|n| manifest.get(n).is_ok_and(|m| data.is_installed(m)))
}
