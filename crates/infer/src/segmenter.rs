use std::time::Instant;

use cutout_core::{Precision, RgbaImage, SegmentError, SegmentOutput, Segmenter};
use cutout_models::DataDir;

use crate::engine::{Engine, EngineSession, SessionOptions, TensorIn};
use crate::pool::Pool;
use crate::preprocess::Family;
use crate::{InferError, PoolConfig};

/// A still-image model loaded into a pool of engine sessions. Cheap to share across threads.
pub struct ModelSegmenter {
    name: String,
    family: Family,
    precision: Precision,
    pool: Pool,
}

impl std::fmt::Debug for ModelSegmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSegmenter")
            .field("name", &self.name)
            .field("family", &self.family)
            .finish()
    }
}

/// One session of installed model `name` on `engine`.
pub(crate) fn open_session(
    engine: &dyn Engine,
    data: &DataDir,
    name: &str,
    pool: PoolConfig,
    precision: Precision,
) -> Result<Box<dyn EngineSession>, InferError> {
    let model_path = data.require_model(name)?;
    let options = SessionOptions {
        threads: pool.intra_threads.max(1),
        spin: pool.spin,
        precision,
    };
    engine
        .open(&model_path, options)
        .map_err(|e| InferError::Load {
            model: name.into(),
            detail: e.to_string(),
        })
}

impl ModelSegmenter {
    /// Loads model `name` from the data directory onto `engine`. A missing model gives an error
    /// that names the install command.
    pub(crate) fn load(
        engine: &dyn Engine,
        data: &DataDir,
        name: &str,
        config: PoolConfig,
        precision: Precision,
    ) -> Result<Self, InferError> {
        let kind = data.model(name)?.family;
        let family = Family::from_kind(&kind).ok_or_else(|| InferError::Load {
            model: name.into(),
            detail: format!("unknown family {kind}"),
        })?;
        if family == Family::Rvm {
            return Err(InferError::VideoOnly(name.into()));
        }
        let sessions = (0..config.sessions.max(1))
            .map(|_| open_session(engine, data, name, config, precision))
            .collect::<Result<Vec<_>, _>>()?;
        let precision = sessions.first().map_or(Precision::F32, |s| s.precision());
        Ok(Self {
            name: name.to_owned(),
            family,
            precision,
            pool: Pool::new(sessions),
        })
    }

    /// What the engine computes this model in.
    pub fn precision(&self) -> Precision {
        self.precision
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
            let shape = input.shape().iter().map(|&d| d as i64).collect();
            let data = input
                .as_slice()
                .ok_or_else(|| fail("the input tensor is not contiguous".into()))?;
            let out = session
                .run(
                    &[TensorIn {
                        name: "",
                        shape,
                        data,
                    }],
                    &[""],
                )
                .map_err(|e| fail(e.to_string()))?;
            let out = out.first().ok_or_else(|| fail("no output".into()))?;
            let (oh, ow) = match *out.shape {
                [.., oh, ow] => (oh as u32, ow as u32),
                _ => return Err(fail(format!("unexpected output shape {:?}", out.shape))),
            };
            if (oh, ow) != (h, w) || out.data.len() != (oh * ow) as usize {
                return Err(fail(format!(
                    "output shape {:?} does not match input {w}x{h}",
                    out.shape
                )));
            }
            self.family
                .mask(ow, oh, &out.data)
                .ok_or_else(|| fail("empty output".into()))
        })?;
        Ok(SegmentOutput {
            mask,
            preprocess,
            inference: t.elapsed(),
        })
    }
}

impl Segmenter for ModelSegmenter {
    fn name(&self) -> &str {
        &self.name
    }

    fn segment(&self, image: &RgbaImage) -> Result<SegmentOutput, SegmentError> {
        self.run(image).map_err(Into::into)
    }
}
