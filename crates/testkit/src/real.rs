//! The real ONNX Runtime provider, for the few tests whose subject is the model itself. Call
//! `require!(Models)` first.

use std::sync::{Arc, OnceLock};

use cutout_infer::{OrtProvider, PoolConfig};
use cutout_models::DataDir;

/// One provider per test binary: each model loads once.
pub fn provider() -> Arc<OrtProvider> {
    static P: OnceLock<Arc<OrtProvider>> = OnceLock::new();
    P.get_or_init(|| {
        Arc::new(OrtProvider::new(
            DataDir::from_env(),
            PoolConfig::for_sessions(2),
        ))
    })
    .clone()
}
