//! Robust Video Matting: a recurrent model whose hidden state (`r1`..`r4`) carries from each
//! frame to the next, so one runner serves one video, in order.

use std::time::Instant;

use cutout_core::{FrameSegmenter, RgbaImage, SegmentError, SegmentOutput};
use cutout_models::DataDir;
use ort::session::Session;
use ort::value::{Tensor, TensorRef};

use crate::preprocess::Family;
use crate::segmenter::open_session;
use crate::{InferError, PoolConfig};

/// The recurrent state between frames: shape and values of `r1o`..`r4o`.
type State = [(Vec<i64>, Vec<f32>); 4];

pub struct RvmRunner {
    name: String,
    session: Session,
    state: Option<State>,
}

impl RvmRunner {
    pub fn load(data: &DataDir, name: &str, config: PoolConfig) -> Result<Self, InferError> {
        Ok(Self {
            name: name.to_owned(),
            session: open_session(data, name, config)?,
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
        let err = |e: ort::Error| fail(e.to_string());
        let t = Instant::now();
        // At the start the states are zeros of shape [1,1,1,1] (the model broadcasts them).
        let zero = || (vec![1i64, 1, 1, 1], vec![0f32]);
        let state = self
            .state
            .take()
            .unwrap_or_else(|| [zero(), zero(), zero(), zero()]);
        let [r1, r2, r3, r4] = state.map(Tensor::from_array);
        let outputs = self
            .session
            .run(ort::inputs![
                "src" => TensorRef::from_array_view(&src).map_err(err)?,
                "r1i" => r1.map_err(err)?,
                "r2i" => r2.map_err(err)?,
                "r3i" => r3.map_err(err)?,
                "r4i" => r4.map_err(err)?,
                "downsample_ratio" => Tensor::from_array((vec![1i64], vec![ratio])).map_err(err)?,
            ])
            .map_err(err)?;
        let take = |k: &str| -> Result<(Vec<i64>, Vec<f32>), InferError> {
            let (shape, data) = outputs[k].try_extract_tensor::<f32>().map_err(err)?;
            Ok((shape.to_vec(), data.to_vec()))
        };
        let next = [take("r1o")?, take("r2o")?, take("r3o")?, take("r4o")?];
        let (shape, pha) = take("pha")?;
        if shape.len() != 4 || pha.len() != h * w {
            return Err(fail(format!(
                "unexpected alpha shape {shape:?} for {w}x{h}"
            )));
        }
        let mask = Family::Rvm
            .mask(w as u32, h as u32, &pha)
            .ok_or_else(|| fail("empty output".into()))?;
        drop(outputs);
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
