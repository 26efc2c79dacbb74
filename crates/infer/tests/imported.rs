//! Models users bring: an imported graph is vetted against its family, then runs by name; the
//! birefnet family's preprocessing and sigmoid match BiRefNet's own code (a Python reference
//! on the tiny test graph, `birefnet_reference.py`).

use std::path::Path;
use std::process::Command;

use cutout_testkit::fixtures::{scratch_data_dir, tiny_model};
use cutout_testkit::require;

use cutout_core::{decode, DecodeLimits, EngineChoice, PrecisionChoice, SegmenterProvider};
use cutout_infer::{check_model, EngineProvider, InferenceOptions};

fn ort() -> InferenceOptions {
    InferenceOptions::exclusive(1).on(EngineChoice::OnnxRuntime, PrecisionChoice::Auto)
}

#[test]
fn graphs_that_do_not_fit_their_family_are_refused_with_the_reason() {
    require!(Models);
    let dir = tempfile::tempdir().unwrap();
    let data = scratch_data_dir(dir.path());
    let u2 = tiny_model("tiny-u2net");
    assert_eq!(check_model(&data, &u2, "u2net"), Ok(()));
    let why = check_model(&data, &u2, "birefnet").unwrap_err();
    assert!(why.0.contains("1024"), "{why}");
    assert!(check_model(&data, &u2, "rvm")
        .unwrap_err()
        .0
        .contains("unknown family"));
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"not a graph").unwrap();
    assert!(check_model(&data, &junk, "u2net")
        .unwrap_err()
        .0
        .contains("cannot load"));
}

#[test]
fn an_imported_birefnet_runs_by_name_and_matches_the_python_reference() {
    require!(Models, PyNumpy);
    let dir = tempfile::tempdir().unwrap();
    let data = scratch_data_dir(dir.path());
    let src = tiny_model("tiny-birefnet");
    let check = |p: &Path| check_model(&data, p, "birefnet");
    data.import("tiny-bi", &src, "birefnet", "MIT", "test", &check)
        .unwrap();
    let provider = EngineProvider::new(data.clone(), ort());
    assert!(provider.image_models().contains(&"tiny-bi".to_owned()));
    let person = cutout_testkit::fixtures::path("person.jpg");
    let img = decode(&std::fs::read(&person).unwrap(), &DecodeLimits::default())
        .unwrap()
        .image;
    let ours = provider.get("tiny-bi").unwrap().segment(&img).unwrap().mask;
    assert_eq!((ours.width(), ours.height()), (1024, 1024));
    let reference = dir.path().join("reference.png");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/birefnet_reference.py");
    let ok = Command::new(cutout_testkit::tier::python())
        .arg(script)
        .arg(&person)
        .arg(&reference)
        .status()
        .unwrap();
    assert!(ok.success(), "the Python reference failed");
    let want = image::open(&reference).unwrap().to_luma8();
    let d = cutout_testkit::masks::diff(ours.data(), want.as_raw(), 8);
    let (mad, far) = (d.mean_abs, d.far_share);
    eprintln!(
        "birefnet vs reference: mean abs diff {mad:.3}/255, {:.3} % off by > 8",
        far * 100.0
    );
    // Resampling round-off between fast_image_resize and PIL only, amplified by the graph's gain
    // (about 9 logits per unit of input, so one input level moves alpha by up to 2 levels where
    // the sigmoid is steep): measured 1.2. A wrong mean/std, a missing /255 or sigmoid moves
    // most pixels by tens of levels.
    assert!(mad < 2.0, "mean abs diff {mad:.3}");
    assert!(far < 0.005, "{:.3} % of pixels off by > 8", far * 100.0);
}
