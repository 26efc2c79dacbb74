//! Inference alone, per model and engine: one photo through every engine and precision installed
//! here, median milliseconds, and the speed-up over ONNX Runtime f32 (today's default engine).

use std::time::Duration;

use cutout_core::{EngineChoice, PrecisionChoice, RgbaImage, SegmenterProvider};
use cutout_infer::{EngineProvider, InferenceOptions};
use cutout_models::DataDir;

type BoxError = Box<dyn std::error::Error>;

const ENGINES: [(EngineChoice, PrecisionChoice); 3] = [
    (EngineChoice::OnnxRuntime, PrecisionChoice::F32),
    (EngineChoice::OpenVino, PrecisionChoice::F32),
    (EngineChoice::OpenVino, PrecisionChoice::Bf16),
];

/// Median inference time of `model` on `image` (after one warm-up), with what the engine reports
/// it computed in.
fn measure(
    provider: &EngineProvider,
    model: &str,
    image: &RgbaImage,
    runs: usize,
) -> Result<(Duration, String), BoxError> {
    let seg = provider.get(model)?;
    seg.segment(image)?;
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| seg.segment(image).map(|o| o.inference))
        .collect::<Result<_, _>>()?;
    times.sort();
    let report = provider
        .engine_report(model)
        .map_or_else(|| "?".into(), |r| r.precision.as_str().to_owned());
    Ok((times[times.len() / 2], report))
}

pub fn table(data: &DataDir, image: &RgbaImage, runs: usize) -> Result<(), BoxError> {
    let openvino = data.openvino_installed();
    let engines: Vec<_> = ENGINES
        .iter()
        .filter(|(e, _)| openvino || *e != EngineChoice::OpenVino)
        .collect();
    let providers: Vec<EngineProvider> = engines
        .iter()
        .map(|&&(e, p)| EngineProvider::new(data.clone(), InferenceOptions::exclusive(1).on(e, p)))
        .collect();
    println!(
        "inference alone, {}x{} photo, median of {runs} runs, ms (precision the engine reports){}",
        image.width(),
        image.height(),
        if openvino {
            ""
        } else {
            "; OpenVINO not installed (`cutout models install --engine openvino`)"
        }
    );
    print!("  {:<8}", "model");
    for (e, p) in &engines {
        print!(" {:>22}", format!("{} {}", e.as_str(), p.as_str()));
    }
    println!("   best vs onnxruntime f32");
    for model in providers[0].image_models() {
        print!("  {model:<8}");
        let mut times = Vec::new();
        for provider in &providers {
            let (t, precision) = measure(provider, &model, image, runs)?;
            let ms = t.as_secs_f64() * 1000.0;
            times.push(ms);
            print!(" {:>22}", format!("{ms:.1} ({precision})"));
        }
        let best = times.iter().cloned().fold(f64::INFINITY, f64::min);
        println!("   {:.2}x", times[0] / best);
    }
    println!();
    Ok(())
}
