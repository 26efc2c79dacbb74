//! Vetting a model file before it is imported: its graph must be one the named family can feed
//! and read, checked on ONNX Runtime (which tells a graph's shapes without running it).

use std::path::Path;

use cutout_core::{Device, Precision};
use cutout_models::{DataDir, ModelRejected};

use crate::engine::{self, SessionOptions};
use crate::preprocess::Family;
use crate::{EnginePlan, InferError};

/// Checks that the ONNX graph at `path` fits `family`; the error says why not.
pub fn check_model(data: &DataDir, path: &Path, family: &str) -> Result<(), ModelRejected> {
    let fam = Family::from_kind(family)
        .filter(|f| *f != Family::Rvm)
        .ok_or_else(|| {
            ModelRejected(format!(
                "unknown family {family:?}; one of {}",
                Family::IMPORTABLE
            ))
        })?;
    let plan = EnginePlan {
        engine: cutout_core::EngineKind::OnnxRuntime,
        device: Device::Cpu,
        precision: Precision::F32,
        forced: true,
    };
    let engine = engine::open(plan, data).map_err(|e: InferError| ModelRejected(e.to_string()))?;
    let options = SessionOptions {
        threads: 1,
        spin: false,
        precision: Precision::F32,
    };
    let session = engine
        .open(path, options)
        .map_err(|e| ModelRejected(format!("ONNX Runtime cannot load it as an ONNX graph: {e}")))?;
    let sig = session
        .signature()
        .ok_or_else(|| ModelRejected("the engine does not tell the graph's shapes".into()))?;
    fam.accepts(&sig)
}
