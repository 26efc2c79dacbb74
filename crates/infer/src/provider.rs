//! Installed models loaded on first use and then shared: the [`SegmenterProvider`] the server,
//! the CLI and the benches run on. The engine itself (its native library) is also opened on first
//! use, so a process that never segments never loads it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cutout_core::{
    EngineReport, FrameSegmenter, ModelDescription, PerFrame, SegmentError, Segmenter,
    SegmenterProvider,
};
use cutout_models::DataDir;

use crate::engine::Engine;
use crate::plan::{resolve, CpuFeatures, EnginePlan};
use crate::preprocess::Family;
use crate::{InferError, InferenceOptions, ModelSegmenter, PoolConfig, RvmRunner};

pub struct EngineProvider {
    data: DataDir,
    /// Resolved once: `auto` must not change its mind between two models of one process.
    plan: Result<EnginePlan, String>,
    pool: PoolConfig,
    engine: Mutex<Option<Arc<dyn Engine>>>,
    loaded: Mutex<HashMap<String, Arc<ModelSegmenter>>>,
}

impl EngineProvider {
    /// Models from `data`, run as `options` say (sessions and threads resolved for this machine).
    pub fn new(data: DataDir, options: InferenceOptions) -> Self {
        let plan = resolve(
            options.engine,
            options.precision,
            options.device,
            CpuFeatures::detect(),
            data.openvino_installed(),
        )
        .map_err(|e| e.to_string());
        Self {
            data,
            pool: options.pool_here(),
            plan,
            engine: Mutex::new(None),
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The engine, device and precision asked for; an error when the settings cannot work here
    /// (checked by `cutout serve` before it starts).
    pub fn plan(&self) -> Result<EnginePlan, InferError> {
        self.plan.clone().map_err(InferError::Config)
    }

    /// The precision `model` runs in under the plan (see [`EnginePlan::precision_for`]).
    fn precision_for(&self, model: &str) -> Result<cutout_core::Precision, InferError> {
        let verified = self.data.model(model)?.bf16_verified;
        Ok(self.plan()?.precision_for(verified))
    }

    fn engine(&self) -> Result<Arc<dyn Engine>, InferError> {
        let mut engine = self.engine.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = engine.as_ref() {
            return Ok(e.clone());
        }
        let opened = crate::engine::open(self.plan()?, &self.data)?;
        *engine = Some(opened.clone());
        Ok(opened)
    }

    /// Installed models, built in and imported, of the recurrent family or the others.
    fn installed(&self, rvm: bool) -> Vec<String> {
        self.data
            .installed_models()
            .into_iter()
            .filter(|m| Family::from_kind(&m.family).is_some_and(|f| (f == Family::Rvm) == rvm))
            .map(|m| m.name)
            .collect()
    }
}

impl SegmenterProvider for EngineProvider {
    fn describe(&self, model: &str) -> Option<ModelDescription> {
        let m = self.data.model(model).ok()?;
        let summary = match (&m.summary, &m.imported_from) {
            (Some(s), _) => Some(s.clone()),
            (None, Some(from)) => Some(format!("imported ({} family) from {from}", m.family)),
            (None, None) => None,
        };
        Some(ModelDescription {
            licence: m.licence,
            commercial_use: m.commercial_use,
            input: m.input,
            summary,
        })
    }

    /// A loaded model reports what its engine computes in; one not loaded yet, the plan.
    fn engine_report(&self, model: &str) -> Option<EngineReport> {
        let plan = self.plan.as_ref().ok()?;
        let loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        let planned = self.precision_for(model).unwrap_or(plan.precision);
        let precision = loaded.get(model).map_or(planned, |s| s.precision());
        Some(EngineReport {
            engine: plan.engine,
            device: plan.device,
            precision,
        })
    }

    fn image_models(&self) -> Vec<String> {
        self.installed(false)
    }

    fn video_models(&self) -> Vec<String> {
        self.installed(true)
    }

    /// A recurrent model gets its own session per video (its state is the video's); the others
    /// are the shared still-image models, frame by frame.
    fn sequence(&self, model: &str) -> Result<Box<dyn FrameSegmenter>, SegmentError> {
        let entry = self
            .data
            .model(model)
            .map_err(|e| SegmentError::not_installed(e.to_string()))?;
        if Family::from_kind(&entry.family) == Some(Family::Rvm) {
            self.data.require_model(model).map_err(InferError::from)?;
            let engine = self.engine()?;
            let precision = self.precision_for(model)?;
            let runner = RvmRunner::load(engine.as_ref(), &self.data, model, self.pool, precision)?;
            return Ok(Box::new(runner));
        }
        Ok(Box::new(PerFrame(self.get(model)?)))
    }

    fn get(&self, model: &str) -> Result<Arc<dyn Segmenter>, SegmentError> {
        // Loading holds the lock: two jobs asking for a cold model load it once, not twice.
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = loaded.get(model) {
            return Ok(s.clone());
        }
        // The model first: a missing model is named (with its install command) before a missing
        // runtime library is.
        self.data.require_model(model).map_err(InferError::from)?;
        let engine = self.engine()?;
        let precision = self.precision_for(model)?;
        let seg = Arc::new(ModelSegmenter::load(
            engine.as_ref(),
            &self.data,
            model,
            self.pool,
            precision,
        )?);
        loaded.insert(model.to_owned(), seg.clone());
        Ok(seg)
    }
}
