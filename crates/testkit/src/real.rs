//! The real provider, for the few tests whose subject is the model itself; pinned to ONNX
//! Runtime f32 so their results do not depend on the CPU (the OpenVINO engine has its own
//! tests). Call `require!(Models)` first.

use std::sync::{Arc, OnceLock};

use cutout_core::{EngineChoice, PrecisionChoice};
use cutout_infer::{EngineProvider, InferenceOptions};
use cutout_models::DataDir;

/// One provider per test binary: each model loads once.
pub fn provider() -> Arc<EngineProvider> {
    static P: OnceLock<Arc<EngineProvider>> = OnceLock::new();
    P.get_or_init(|| {
        Arc::new(EngineProvider::new(
            DataDir::from_env(),
            InferenceOptions::exclusive(2).on(EngineChoice::OnnxRuntime, PrecisionChoice::Auto),
        ))
    })
    .clone()
}
