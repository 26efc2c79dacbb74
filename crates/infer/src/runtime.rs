use std::path::Path;
use std::sync::OnceLock;

use ort::environment::Environment;

use crate::InferError;

static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();

/// Loads the ONNX Runtime library once per process and returns its environment.
///
/// The library comes from the `onnxruntime` wheel installed by `cutout models install`
/// (`load-dynamic`), so the binary itself links no native inference code.
pub(crate) fn init_runtime(lib: &Path) -> Result<Environment, InferError> {
    let result = ENV.get_or_init(|| {
        ort::init_from(lib)
            .map_err(|e| e.to_string())?
            .with_name("cutout")
            .build()
            .map_err(|e| e.to_string())
    });
    result.clone().map_err(|detail| InferError::Runtime {
        engine: "ONNX Runtime",
        path: lib.display().to_string(),
        detail,
    })
}
