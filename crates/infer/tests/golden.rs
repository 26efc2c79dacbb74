//! Golden masks: our preprocessing and ONNX Runtime inference against rembg's own output
//! (`tools/golden_masks.py`) for the same model file. Tolerance: mean absolute difference under
//! 1/255 and fewer than 0.5 % of pixels off by more than 16/255. That allows for JPEG decoder and
//! resampling round-off between our Rust stack and PIL, while a real preprocessing change (a wrong
//! mean/std, a bilinear instead of Lanczos resize, a missing min-max step) breaks it many times
//! over. IoU is not used: on masks with wide regions near 50 % a 1/255 wobble flips many pixels.

use cutout_testkit::require;
use std::path::Path;

use cutout_core::SegmenterProvider;
use cutout_core::{decode, DecodeLimits};
use cutout_core::{EngineChoice, PrecisionChoice};
use cutout_infer::{EngineProvider, InferenceOptions};
use cutout_models::DataDir;

fn compare(model: &str) {
    let provider = EngineProvider::new(
        DataDir::from_env(),
        InferenceOptions::exclusive(1).on(EngineChoice::OnnxRuntime, PrecisionChoice::Auto),
    );
    let seg = provider
        .get(model)
        .unwrap_or_else(|e| panic!("{e} (the test command installs the models)"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for name in ["cat", "person", "product"] {
        let img = decode(
            &std::fs::read(cutout_testkit::fixtures::path(&format!("{name}.jpg"))).unwrap(),
            &DecodeLimits::default(),
        )
        .unwrap();
        let golden = image::open(dir.join(format!("golden/{name}_{model}.png")))
            .unwrap()
            .to_luma8();
        let ours = seg
            .segment(&img.image)
            .unwrap()
            .mask
            .resized(img.image.width(), img.image.height());
        assert_eq!(
            (golden.width(), golden.height()),
            (ours.width(), ours.height())
        );
        let d = cutout_testkit::masks::diff(ours.data(), golden.as_raw(), 16);
        let (mad, far) = (d.mean_abs, d.far_share);
        eprintln!(
            "{model}/{name}: mean abs diff {mad:.3}/255, {:.3} % of pixels off by > 16",
            far * 100.0
        );
        assert!(mad < 1.0, "{model}/{name}: mean abs diff {mad:.3}");
        assert!(
            far < 0.005,
            "{model}/{name}: {:.3} % of pixels off by > 16",
            far * 100.0
        );
    }
}

#[test]
fn u2netp_matches_rembg() {
    require!(Models);
    compare("u2netp");
}

#[test]
fn u2net_matches_rembg() {
    require!(Models);
    compare("u2net");
}
