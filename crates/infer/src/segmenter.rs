use std::time::Instant;

use cutout_core::{RgbaImage, SegmentError, SegmentOutput, Segmenter};
use cutout_models::{manifest, DataDir};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;

use crate::pool::Pool;
use crate::preprocess::Family;
use crate::runtime::init_runtime;
use crate::{InferError, PoolConfig};

/// A model loaded into a pool of ONNX Runtime sessions. Cheap to share across threads.
pub struct OrtSegmenter {
    name: String,
    family: Family,
    pool: Pool,
}

impl std::fmt::Debug for OrtSegmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtSegmenter")
            .field("name", &self.name)
            .field("family", &self.family)
            .finish()
    }
}

/// One ONNX Runtime session of installed model `name`.
pub(crate) fn open_session(
    data: &DataDir,
    name: &str,
    config: PoolConfig,
) -> Result<Session, InferError> {
    let model_path = data.require_model(name)?;
    let env = init_runtime(&data.require_runtime()?)?;
    let load = |e: &dyn std::fmt::Display| InferError::Load {
        model: name.into(),
        detail: e.to_string(),
    };
    Session::builder(&env)
        .map_err(|e| load(&e))?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| load(&e))?
        .with_intra_threads(config.intra_threads.max(1))
        .map_err(|e| load(&e))?
        // Idle intra-op threads would otherwise spin for work, taking the core from the other
        // jobs' decode, refine and encode running beside inference.
        .with_intra_op_spinning(config.spin)
        .map_err(|e| load(&e))?
        .commit_from_file(&model_path)
        .map_err(|e| load(&e))
}

impl OrtSegmenter {
    /// Loads model `name` from the data directory. A missing model or runtime gives an error that
    /// names the install command.
    pub fn load(data: &DataDir, name: &str, config: PoolConfig) -> Result<Self, InferError> {
        let entry = manifest().get(name)?;
        let family = Family::from_kind(&entry.kind).ok_or_else(|| InferError::Load {
            model: name.into(),
            detail: format!("unknown kind {}", entry.kind),
        })?;
        if family == Family::Rvm {
            return Err(InferError::VideoOnly(name.into()));
        }
        let sessions = (0..config.sessions.max(1))
            .map(|_| open_session(data, name, config))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            name: name.to_owned(),
            family,
            pool: Pool::new(sessions),
        })
    }

    fn run(&self, image: &RgbaImage) -> Result<SegmentOutput, InferError> {
        let t = Instant::now();
        let input = self.family.tensor(image);
        let (h, w) = (input.shape()[2] as u32, input.shape()[3] as u32);
        let preprocess = t.elapsed();
        let fail = |detail: String| InferError::Run {
            model: self.name.clone(),
            detail,
        };
        let t = Instant::now();
        let mask = self.pool.with_session(|session| {
            let tensor = TensorRef::from_array_view(&input).map_err(|e| fail(e.to_string()))?;
            let outputs = session
                .run(ort::inputs![tensor])
                .map_err(|e| fail(e.to_string()))?;
            let (shape, data) = outputs[0]
                .try_extract_tensor::<f32>()
                .map_err(|e| fail(e.to_string()))?;
            let (oh, ow) = match **shape {
                [.., oh, ow] => (oh as u32, ow as u32),
                _ => return Err(fail(format!("unexpected output shape {shape:?}"))),
            };
            if (oh, ow) != (h, w) || data.len() != (oh * ow) as usize {
                return Err(fail(format!(
                    "output shape {shape:?} does not match input {w}x{h}"
                )));
            }
            self.family
                .mask(ow, oh, data)
                .ok_or_else(|| fail("empty output".into()))
        })?;
        Ok(SegmentOutput {
            mask,
            preprocess,
            inference: t.elapsed(),
        })
    }
}

impl Segmenter for OrtSegmenter {
    fn name(&self) -> &str {
        &self.name
    }

    fn segment(&self, image: &RgbaImage) -> Result<SegmentOutput, SegmentError> {
        self.run(image).map_err(Into::into)
    }
}
