//! Installed models loaded on first use and then shared: the [`SegmenterProvider`] the server and
//! workers run on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cutout_core::{FrameSegmenter, PerFrame, SegmentError, Segmenter, SegmenterProvider};
use cutout_models::{manifest, DataDir};

use crate::preprocess::Family;
use crate::{OrtSegmenter, PoolConfig, RvmRunner};

pub struct OrtProvider {
    data: DataDir,
    pool: PoolConfig,
    loaded: Mutex<HashMap<String, Arc<OrtSegmenter>>>,
}

impl OrtProvider {
    /// Each model gets `pool.sessions` sessions (one per concurrent job).
    pub fn new(data: DataDir, pool: PoolConfig) -> Self {
        Self {
            data,
            pool,
            loaded: Mutex::new(HashMap::new()),
        }
    }
}

impl SegmenterProvider for OrtProvider {
    fn image_models(&self) -> Vec<String> {
        manifest()
            .models
            .iter()
            .filter(|m| Family::from_kind(&m.kind).is_some_and(|f| f != Family::Rvm))
            .filter(|m| self.data.is_installed(m))
            .map(|m| m.name.clone())
            .collect()
    }

    fn video_models(&self) -> Vec<String> {
        manifest()
            .models
            .iter()
            .filter(|m| Family::from_kind(&m.kind) == Some(Family::Rvm))
            .filter(|m| self.data.is_installed(m))
            .map(|m| m.name.clone())
            .collect()
    }

    /// A recurrent model gets its own session per video (its state is the video's); the others
    /// are the shared still-image models, frame by frame.
    fn sequence(&self, model: &str) -> Result<Box<dyn FrameSegmenter>, SegmentError> {
        let entry = manifest()
            .get(model)
            .map_err(|e| SegmentError::not_installed(e.to_string()))?;
        if Family::from_kind(&entry.kind) == Some(Family::Rvm) {
            let runner = RvmRunner::load(&self.data, model, self.pool)?;
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
        let seg =
            Arc::new(OrtSegmenter::load(&self.data, model, self.pool).map_err(SegmentError::from)?);
        loaded.insert(model.to_owned(), seg.clone());
        Ok(seg)
    }
}
