//! A deterministic stand-in for the real models: the subject is the centred ellipse covering the
//! middle of the frame, with a soft edge. API tests need a mask of the right shape and a
//! segmenter that behaves like a provider (installed names, not-installed errors, video models),
//! not a neural network, so they run in milliseconds with nothing installed.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cutout_core::{
    FrameSegmenter, Mask, RgbaImage, SegmentError, SegmentOutput, Segmenter, SegmenterProvider,
};

/// The mask's side: like the real models, the fake answers at its own resolution and the
/// pipeline resizes.
const SIDE: u32 = 64;

/// The soft ellipse: opaque inside 80 % of its half-axes, clear outside them, linear between.
pub fn ellipse_mask() -> Mask {
    let c = (SIDE as f32 - 1.0) / 2.0;
    let data = (0..SIDE * SIDE)
        .map(|i| {
            let (x, y) = ((i % SIDE) as f32, (i / SIDE) as f32);
            let r = (((x - c) / (c * 0.8)).powi(2) + ((y - c) / (c * 0.9)).powi(2)).sqrt();
            (((1.0 - r) / 0.2).clamp(0.0, 1.0) * 255.0).round() as u8
        })
        .collect();
    Mask::new(SIDE, SIDE, data).expect("a non-empty mask")
}

/// One fake model.
pub struct FakeSegmenter {
    name: String,
}

impl Segmenter for FakeSegmenter {
    fn name(&self) -> &str {
        &self.name
    }

    fn segment(&self, image: &RgbaImage) -> Result<SegmentOutput, SegmentError> {
        if image.width() == 0 || image.height() == 0 {
            return Err(SegmentError::bad_input("empty image"));
        }
        Ok(SegmentOutput {
            mask: ellipse_mask(),
            preprocess: Duration::ZERO,
            inference: Duration::from_micros(1),
        })
    }
}

/// A fake recurrent model: counts the frames it has seen, so a test can tell that one value
/// served one whole video in order.
pub struct FakeSequence {
    pub frames: usize,
}

impl FrameSegmenter for FakeSequence {
    fn next_frame(&mut self, frame: &RgbaImage) -> Result<SegmentOutput, SegmentError> {
        self.frames += 1;
        FakeSegmenter { name: "rvm".into() }.segment(frame)
    }
}

/// A provider with a changeable set of installed models. By default: `u2net` and `u2netp` for
/// images, `rvm` for video.
pub struct FakeProvider {
    image: Mutex<BTreeSet<String>>,
    video: Mutex<BTreeSet<String>>,
    broken: Mutex<BTreeSet<String>>,
}

impl Default for FakeProvider {
    fn default() -> Self {
        Self::with_models(&["u2net", "u2netp"], &["rvm"])
    }
}

impl FakeProvider {
    pub fn with_models(image: &[&str], video: &[&str]) -> Self {
        let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
        Self {
            image: Mutex::new(set(image)),
            video: Mutex::new(set(video)),
            broken: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Keeps a model listed as installed but makes loading it fail, as a corrupt model file
    /// would.
    pub fn break_model(&self, name: &str) {
        lock(&self.broken).insert(name.to_owned());
    }

    /// Uninstalls a model (image or video), as an operator might while jobs are queued.
    pub fn remove(&self, name: &str) {
        lock(&self.image).remove(name);
        lock(&self.video).remove(name);
    }
}

fn lock(m: &Mutex<BTreeSet<String>>) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SegmenterProvider for FakeProvider {
    fn image_models(&self) -> Vec<String> {
        lock(&self.image).iter().cloned().collect()
    }

    fn video_models(&self) -> Vec<String> {
        lock(&self.video).iter().cloned().collect()
    }

    fn get(&self, model: &str) -> Result<Arc<dyn Segmenter>, SegmentError> {
        if lock(&self.broken).contains(model) {
            return Err(SegmentError::internal(format!(
                "cannot load /models/{model}.onnx: invalid protobuf"
            )));
        }
        if !lock(&self.image).contains(model) {
            return Err(SegmentError::not_installed(format!(
                "model `{model}` is not installed"
            )));
        }
        Ok(Arc::new(FakeSegmenter {
            name: model.to_owned(),
        }))
    }

    fn sequence(&self, model: &str) -> Result<Box<dyn FrameSegmenter>, SegmentError> {
        if lock(&self.video).contains(model) {
            return Ok(Box::new(FakeSequence { frames: 0 }));
        }
        Ok(Box::new(cutout_core::PerFrame(self.get(model)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mask_is_opaque_inside_and_clear_at_the_corners() {
        let m = ellipse_mask();
        let at = |x: u32, y: u32| m.data()[(y * SIDE + x) as usize];
        assert_eq!(at(SIDE / 2, SIDE / 2), 255);
        assert_eq!(at(0, 0), 0);
        assert_eq!(at(SIDE - 1, SIDE - 1), 0);
    }

    #[test]
    fn an_uninstalled_model_is_not_installed_not_busy() {
        let p = FakeProvider::default();
        assert!(p.get("u2netp").is_ok());
        p.remove("u2netp");
        let err = p.get("u2netp").err().unwrap();
        assert_eq!(err.kind, cutout_core::SegmentErrorKind::NotInstalled);
        assert!(!err.kind.is_transient());
    }
}
