use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cutout_core::compose::compose;
use cutout_core::refine::refine;
use cutout_core::{decode, encode, Options, Segmenter, StageTimings};
use cutout_infer::{OrtSegmenter, PoolConfig};
use cutout_models::{manifest, DataDir};

type BoxError = Box<dyn std::error::Error>;

pub struct ImageReport {
    pub path: PathBuf,
    pub megapixels: f64,
    pub stages: StageTimings,
    pub end_to_end: Duration,
}

pub struct Report {
    pub model: String,
    pub images: Vec<ImageReport>,
    pub peak_rss_mb: f64,
}

pub struct Peer {
    pub median_ms: Vec<f64>,
    pub peak_rss_mb: f64,
}

/// The 12 MP photo as it is, and a 1600 px copy of the cat (1-2 MP).
pub fn default_images(tmp: &Path) -> Result<Vec<PathBuf>, BoxError> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench-images");
    let cat = image::open(shared.join("animal_cat.jpg"))?;
    let small = tmp.join("animal_cat_1600.jpg");
    cat.resize(1600, 1600, image::imageops::FilterType::Lanczos3)
        .to_rgb8()
        .save(&small)?;
    Ok(vec![small, shared.join("product_book-flowers.jpg")])
}

pub fn cutout(
    data: &DataDir,
    model: &str,
    images: &[PathBuf],
    runs: usize,
) -> Result<Report, BoxError> {
    let seg = OrtSegmenter::load(data, model, PoolConfig::default())?;
    let opts = Options::default();
    let mut out = Vec::new();
    for path in images {
        let bytes = std::fs::read(path)?;
        once(&bytes, &seg, &opts)?; // warm-up
        let mut samples: Vec<(StageTimings, Duration)> = (0..runs.max(1))
            .map(|_| once(&bytes, &seg, &opts))
            .collect::<Result<_, _>>()?;
        samples.sort_by_key(|s| s.1);
        let (stages, end_to_end) = samples[samples.len() / 2];
        let (w, h) = image::image_dimensions(path)?;
        out.push(ImageReport {
            path: path.clone(),
            megapixels: f64::from(w * h) / 1e6,
            stages,
            end_to_end,
        });
    }
    Ok(Report {
        model: model.to_owned(),
        images: out,
        peak_rss_mb: peak_rss_mb(),
    })
}

/// One end-to-end run, JPEG bytes to PNG bytes, each stage timed on its own.
fn once(
    bytes: &[u8],
    seg: &OrtSegmenter,
    opts: &Options,
) -> Result<(StageTimings, Duration), BoxError> {
    let start = Instant::now();
    let mut t = StageTimings::default();
    let s = Instant::now();
    let decoded = decode(bytes, &opts.limits)?;
    t.decode = s.elapsed();
    let segmented = seg.segment(&decoded.image)?;
    (t.preprocess, t.inference) = (segmented.preprocess, segmented.inference);
    let mut image = decoded.image;
    let s = Instant::now();
    refine(&mut image, &segmented.mask, &opts.refine);
    t.refine = s.elapsed();
    let s = Instant::now();
    let composed = compose(image, &opts.compose);
    t.compose = s.elapsed();
    let s = Instant::now();
    let png = encode(&composed, None, &opts.encode)?;
    t.encode = s.elapsed();
    std::hint::black_box(png);
    Ok((t, start.elapsed()))
}

pub fn rembg(
    py: &Path,
    data: &DataDir,
    model: &str,
    images: &[PathBuf],
    runs: usize,
    tmp: &Path,
) -> Result<Peer, BoxError> {
    let model_file = data.model_path(manifest().get(model)?);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rembg_peer.py");
    let out = Command::new(py)
        .arg(script)
        .arg(model)
        .arg(model_file)
        .arg(runs.max(1).to_string())
        .args(images)
        .env("U2NET_HOME", tmp.join("u2net"))
        .output()?;
    if !out.status.success() {
        return Err(format!("rembg failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let median_ms = images
        .iter()
        .map(|p| {
            v[p.to_string_lossy().as_ref()]["median_ms"]
                .as_f64()
                .unwrap_or(f64::NAN)
        })
        .collect();
    Ok(Peer {
        median_ms,
        peak_rss_mb: v["peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
    })
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn print(report: &Report, peer: Option<&Peer>) {
    println!(
        "model: {}   (median of the timed runs, after one warm-up; ms and % of end-to-end)\n",
        report.model
    );
    for (i, r) in report.images.iter().enumerate() {
        let name = r
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        println!("{name} ({:.1} MP), JPEG -> PNG", r.megapixels);
        let total = ms(r.end_to_end);
        let s = &r.stages;
        for (stage, d) in [
            ("decode", s.decode),
            ("preprocess", s.preprocess),
            ("inference", s.inference),
            ("refine", s.refine),
            ("compose", s.compose),
            ("encode", s.encode),
        ] {
            println!(
                "  {stage:<12} {:>9.1} ms {:>6.1} %",
                ms(d),
                ms(d) / total * 100.0
            );
        }
        println!("  {:<12} {:>9.1} ms", "end-to-end", total);
        if let Some(p) = peer {
            let theirs = p.median_ms[i];
            println!(
                "  {:<12} {:>9.1} ms   cutout/rembg = {:.3}",
                "rembg",
                theirs,
                total / theirs
            );
        }
        println!();
    }
    print!("peak RSS: cutout {:.0} MB", report.peak_rss_mb);
    match peer {
        Some(p) => println!(", rembg {:.0} MB", p.peak_rss_mb),
        None => println!(" (rembg peer not run: pass --rembg-python)"),
    }
}
