//! Robust Video Matting: a recurrent model whose hidden state (`r1`..`r4`) carries from each
//! frame to the next, so one runner serves one video, in order.

use std::time::Instant;

use cutout_core::{FrameSegmenter, RgbaImage, SegmentError, SegmentOutput};
use cutout_models::DataDir;

use crate::engine::{Engine, EngineSession, TensorIn, TensorOut};
use crate::preprocess::Family;
use crate::segmenter::open_session;
use crate::{InferError, PoolConfig};

/// The recurrent state between frames: `r1o`..`r4o`.
type State = [TensorOut; 4];

pub struct RvmRunner {
    name: String,
    session: Box<dyn EngineSession>,
    state: Option<State>,
}

impl RvmRunner {
    pub(crate) fn load(
        engine: &dyn Engine,
        data: &DataDir,
        name: &str,
        config: PoolConfig,
        precision: cutout_core::Precision,
    ) -> Result<Self, InferError> {
        Ok(Self {
            name: name.to_owned(),
            session: open_session(engine, data, name, config, precision)?,
            state: None,
        })
    }

    fn run(&mut self, frame: &RgbaImage) -> Result<SegmentOutput, InferError> {
        let t = Instant::now();
        let src = Family::Rvm.tensor(frame);
        let (h, w) = (src.shape()[2], src.shape()[3]);
        // The model's own guidance: its coarse pass should see about 256 px on the short side.
        let ratio = (256.0 / h.min(w) as f32).min(1.0);
        let preprocess = t.elapsed();
        let fail = |detail: String| InferError::Run {
            model: self.name.clone(),
            detail,
        };
        let t = Instant::now();
        // At the start the states are zeros of shape [1,1,1,1] (the model broadcasts them).
        let zero = || TensorOut {
            shape: vec![1, 1, 1, 1],
            data: vec![0.0],
        };
        let state = self
            .state
            .take()
            .unwrap_or_else(|| [zero(), zero(), zero(), zero()]);
        let src_data = src
            .as_slice()
            .ok_or_else(|| fail("the input tensor is not contiguous".into()))?;
        let ratio = [ratio];
        let inputs = [
            TensorIn {
                name: "src",
                shape: src.shape().iter().map(|&d| d as i64).collect(),
                data: src_data,
            },
            input("r1i", &state[0]),
            input("r2i", &state[1]),
            input("r3i", &state[2]),
            input("r4i", &state[3]),
            TensorIn {
                name: "downsample_ratio",
                shape: vec![1],
                data: &ratio,
            },
        ];
        let outputs = self
            .session
            .run(&inputs, &["r1o", "r2o", "r3o", "r4o", "pha"])
            .map_err(|e| fail(e.to_string()))?;
        let [r1, r2, r3, r4, pha]: [TensorOut; 5] = outputs
            .try_into()
            .map_err(|_| fail("missing outputs".into()))?;
        let (shape, pha) = (pha.shape, pha.data);
        if shape.len() != 4 || pha.len() != h * w {
            return Err(fail(format!(
                "unexpected alpha shape {shape:?} for {w}x{h}"
            )));
        }
        let next = [r1, r2, r3, r4];
        let mask = Family::Rvm
            .mask(w as u32, h as u32, &pha)
            .ok_or_else(|| fail("empty output".into()))?;
        self.state = Some(next);
        Ok(SegmentOutput {
            mask,
            preprocess,
            inference: t.elapsed(),
        })
    }
}

impl FrameSegmenter for RvmRunner {
    fn next_frame(&mut self, frame: &RgbaImage) -> Result<SegmentOutput, SegmentError> {
        self.run(frame).map_err(Into::into)
    }
}

/// A state tensor fed back as the next frame's input.
fn input<'a>(name: &'a str, t: &'a TensorOut) -> TensorIn<'a> {
    TensorIn {
        name,
        shape: t.shape.clone(),
        data: &t.data,
    }
}
