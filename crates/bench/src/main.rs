//! `cutout-bench`: per-stage times, end-to-end time and peak RSS of the image pipeline on real
//! photos, and the peer `rembg` with the same model file on the same images in the same run.
//!
//!     cargo run --release -p cutout-bench -- [--runs 3] [--model u2net] [IMAGE...]

mod engines;
mod measure;

// The same allocator as the `cutout` binary, so the figures are the product's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
struct Args {
    /// JPEG photos; default: the 12 MP benchmark photo and a 1600 px copy of the 16 MP one.
    images: Vec<PathBuf>,
    #[arg(long, default_value = "u2net")]
    model: String,
    /// Timed runs per image in each round (after one warm-up); the median over all rounds is
    /// reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Rounds, each running Cutout then rembg: machines whose speed drifts (shared VMs) then
    /// slow both sides alike instead of whichever ran during the slow spell.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Engine for the end-to-end runs: auto, onnxruntime, openvino.
    #[arg(long, default_value = "auto")]
    engine: cutout_core::EngineChoice,
    /// Precision for the end-to-end runs: auto, f32, bf16.
    #[arg(long, default_value = "auto")]
    precision: cutout_core::PrecisionChoice,
    /// Skip the table of inference alone per model and engine.
    #[arg(long)]
    no_engine_table: bool,
    /// Python of a virtualenv with rembg installed; the peer is skipped without it.
    #[arg(long, env = "CUTOUT_REMBG_PYTHON")]
    rembg_python: Option<PathBuf>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let tmp = tempfile::tempdir()?;
    let images = if args.images.is_empty() {
        measure::default_images(tmp.path())?
    } else {
        args.images.clone()
    };
    let data = cutout_models::DataDir::from_env();
    if !args.no_engine_table {
        let first = cutout_core::decode(&std::fs::read(&images[0])?, &Default::default())?;
        engines::table(&data, &first.image, args.runs.max(3))?;
        // Every engine's models were loaded for the table: reset the peak RSS so the figure
        // below is the end-to-end runs' own (Linux: "5" clears VmHWM).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    let options = cutout_infer::InferenceOptions::exclusive(1).on(args.engine, args.precision);
    let mut report: Option<measure::Report> = None;
    let mut peer: Option<measure::Peer> = None;
    for _ in 0..args.rounds.max(1) {
        let round = measure::cutout(&data, options, &args.model, &images, args.runs)?;
        match &mut report {
            Some(r) => r.absorb(round),
            None => report = Some(round),
        }
        let Some(py) = &args.rembg_python else {
            continue;
        };
        let round = measure::rembg(py, &data, &args.model, &images, args.runs, tmp.path())?;
        match &mut peer {
            Some(p) => p.absorb(round),
            None => peer = Some(round),
        }
    }
    let report = report.expect("at least one round");
    measure::print(&report, peer.as_ref());
    Ok(())
}
