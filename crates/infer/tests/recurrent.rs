//! Robust Video Matting (opt-in, GPL; the test command installs it): the same photo fed as three
//! frames is matted like u2net's reference mask, and the recurrent state changes what the model
//! says from one frame to the next.

use cutout_testkit::require;

use cutout_core::SegmenterProvider;
use cutout_core::{decode, DecodeLimits, Mask};
use cutout_core::{EngineChoice, PrecisionChoice};
use cutout_infer::{EngineProvider, InferenceOptions};
use cutout_models::DataDir;

fn iou(a: &Mask, b: &Mask) -> f64 {
    let (mut both, mut any) = (0u64, 0u64);
    for (&x, &y) in a.data().iter().zip(b.data()) {
        both += (x >= 128 && y >= 128) as u64;
        any += (x >= 128 || y >= 128) as u64;
    }
    both as f64 / any.max(1) as f64
}

#[test]
fn rvm_mattes_a_person_and_carries_state_across_frames() {
    require!(Models, RvmModel);
    let data = DataDir::from_env();
    let img = decode(cutout_testkit::fixtures::PERSON, &DecodeLimits::default())
        .unwrap()
        .image;
    let (w, h) = img.dimensions();
    let provider = EngineProvider::new(
        data,
        InferenceOptions::exclusive(1).on(EngineChoice::OnnxRuntime, PrecisionChoice::Auto),
    );
    let reference = provider
        .get("u2net")
        .unwrap()
        .segment(&img)
        .unwrap()
        .mask
        .resized(w, h);
    let mut rvm = provider
        .sequence("rvm")
        .unwrap_or_else(|e| panic!("{e} (the test command installs rvm)"));
    let masks: Vec<Mask> = (0..3)
        .map(|_| rvm.next_frame(&img).unwrap().mask.resized(w, h))
        .collect();
    let scores: Vec<f64> = masks.iter().map(|m| iou(m, &reference)).collect();
    assert!(
        scores.iter().all(|&s| s > 0.8),
        "IoU with u2net: {scores:?}"
    );
    assert_ne!(
        masks[0].data(),
        masks[2].data(),
        "the same frame gives a different alpha once the model has state"
    );
}
