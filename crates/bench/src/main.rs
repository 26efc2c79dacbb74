//! `cutout-bench`: per-stage times, end-to-end time and peak RSS of the image pipeline on real
//! photos, and the peer `rembg` with the same model file on the same images in the same run.
//!
//!     cargo run --release -p cutout-bench -- [--runs 3] [--model u2net] [IMAGE...]

mod measure;

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
struct Args {
    /// JPEG photos; default: the 12 MP benchmark photo and a 1600 px copy of the 16 MP one.
    images: Vec<PathBuf>,
    #[arg(long, default_value = "u2net")]
    model: String,
    /// Timed runs per image (after one warm-up); the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
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
    let report = measure::cutout(&data, &args.model, &images, args.runs)?;
    let peer = match &args.rembg_python {
        Some(py) => Some(measure::rembg(
            py,
            &data,
            &args.model,
            &images,
            args.runs,
            tmp.path(),
        )?),
        None => None,
    };
    measure::print(&report, peer.as_ref());
    Ok(())
}
