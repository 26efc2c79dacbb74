//! The real ONNX Runtime provider, for the few tests whose subject is the model itself. Call
//! `require!(Models)` first.

use std::sync::{Arc, OnceLock};

use cutout_infer::{EngineProvider, InferenceOptions};
use cutout_models::DataDir;

/// One provider per test binary: each model loads once.
pub fn provider() -> Arc<EngineProvider> {
    static P: OnceLock<Arc<EngineProvider>> = OnceLock::new();
    P.get_or_init(|| {
        Arc::new(EngineProvider::new(
            DataDir::from_env(),
            InferenceOptions::exclusive(2),
        ))
    })
    .clone()
}
