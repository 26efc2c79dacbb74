//! The OpenVINO engine against ONNX Runtime on the same model files: every installed family's
//! mask agrees (f32 closely, bf16 within what bf16 rounding allows), the precision reported is
//! what the CPU can compute natively, and the compiled model is cached on disk.

use cutout_testkit::require;

use cutout_core::{
    decode, DecodeLimits, EngineChoice, EngineKind, Mask, Precision, PrecisionChoice,
    SegmenterProvider,
};
use cutout_infer::{CpuFeatures, EngineProvider, InferenceOptions};
use cutout_models::DataDir;

fn provider(engine: EngineChoice, precision: PrecisionChoice) -> EngineProvider {
    EngineProvider::new(
        DataDir::from_env(),
        InferenceOptions::exclusive(1).on(engine, precision),
    )
}

fn person() -> cutout_core::RgbaImage {
    decode(cutout_testkit::fixtures::PERSON, &DecodeLimits::default())
        .unwrap()
        .image
}

/// Mean absolute difference, in levels of 255.
fn mad(a: &Mask, b: &Mask) -> f64 {
    cutout_testkit::masks::diff(a.data(), b.data(), 255).mean_abs
}

fn masks(p: &EngineProvider, model: &str, img: &cutout_core::RgbaImage) -> Vec<Mask> {
    let mut seq = p.sequence(model).unwrap_or_else(|e| panic!("{model}: {e}"));
    (0..3).map(|_| seq.next_frame(img).unwrap().mask).collect()
}

#[test]
fn every_family_matches_onnx_runtime_at_f32_and_closely_at_bf16() {
    require!(Models, RvmModel, OpenVino);
    let img = person();
    let ort = provider(EngineChoice::OnnxRuntime, PrecisionChoice::Auto);
    let f32 = provider(EngineChoice::OpenVino, PrecisionChoice::F32);
    let bf16 = provider(EngineChoice::OpenVino, PrecisionChoice::Bf16);
    // rvm runs three frames so its recurrent state goes through the engine too.
    for model in ["u2netp", "u2net", "modnet", "rvm"] {
        let want = masks(&ort, model, &img);
        for (name, p, limit) in [("f32", &f32, 0.5), ("bf16", &bf16, 3.0)] {
            let got = masks(p, model, &img);
            for (frame, (a, b)) in want.iter().zip(&got).enumerate() {
                let d = mad(a, b);
                eprintln!("{model} frame {frame} openvino {name}: mean abs diff {d:.3}/255");
                assert!(d < limit, "{model} {name} frame {frame}: {d:.3}/255");
            }
        }
    }
}

#[test]
fn bf16_is_reported_only_where_the_cpu_computes_it_natively() {
    require!(Models, OpenVino);
    let p = provider(EngineChoice::OpenVino, PrecisionChoice::Bf16);
    let asked = p.engine_report("u2netp").unwrap();
    assert_eq!(
        (asked.engine, asked.precision),
        (EngineKind::OpenVino, Precision::Bf16)
    );
    p.get("u2netp").unwrap();
    let got = p.engine_report("u2netp").unwrap().precision;
    let native = CpuFeatures::detect().native_bf16;
    assert_eq!(got == Precision::Bf16, native, "reported {got:?}");
    let f32 = provider(EngineChoice::OpenVino, PrecisionChoice::F32);
    f32.get("u2netp").unwrap();
    assert_eq!(
        f32.engine_report("u2netp").unwrap().precision,
        Precision::F32
    );
}

#[test]
fn auto_follows_the_cpu_and_compiled_models_are_cached() {
    require!(Models, OpenVino);
    let p = provider(EngineChoice::Auto, PrecisionChoice::Auto);
    let plan = p.plan().unwrap();
    let native = CpuFeatures::detect().native_bf16;
    let want = if native {
        (EngineKind::OpenVino, Precision::Bf16)
    } else {
        (EngineKind::OnnxRuntime, Precision::F32)
    };
    assert_eq!((plan.engine, plan.precision), want);
    let ov = provider(EngineChoice::OpenVino, PrecisionChoice::Auto);
    ov.get("modnet").unwrap();
    let cache = DataDir::from_env().root().join("cache/openvino");
    let blobs = std::fs::read_dir(&cache)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "blob"))
                .count()
        })
        .unwrap_or(0);
    assert!(blobs > 0, "no compiled model in {}", cache.display());
}

#[test]
fn auto_runs_bf16_only_for_models_whose_bf16_passed_the_eval_gate() {
    require!(Models, OpenVino);
    let p = provider(EngineChoice::Auto, PrecisionChoice::Auto);
    let native = CpuFeatures::detect().native_bf16;
    let data = DataDir::from_env();
    for model in ["u2netp", "u2net", "modnet"] {
        p.get(model).unwrap();
        let verified = data.model(model).unwrap().bf16_verified;
        let got = p.engine_report(model).unwrap().precision;
        assert_eq!(
            got == Precision::Bf16,
            native && verified,
            "{model}: {got:?} (bf16 verified: {verified})"
        );
    }
}
