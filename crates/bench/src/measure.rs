use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cutout_core::compose::compose;
use cutout_core::refine::refine;
use cutout_core::SegmenterProvider;
use cutout_core::{decode, encode, Options, Segmenter, StageTimings};
use cutout_infer::{EngineProvider, InferenceOptions};
use cutout_models::{manifest, DataDir};

type BoxError = Box<dyn std::error::Error>;

pub struct ImageReport {
    pub path: PathBuf,
    pub megapixels: f64,
    /// Every timed run: its stages and its end-to-end time.
    pub samples: Vec<(StageTimings, Duration)>,
}

impl ImageReport {
    /// The run with the median end-to-end time.
    fn median(&self) -> (StageTimings, Duration) {
        let mut s = self.samples.clone();
        s.sort_by_key(|s| s.1);
        s[s.len() / 2]
    }
}

pub struct Report {
    pub model: String,
    /// Engine, device and precision, as the engine reports them.
    pub engine: String,
    pub images: Vec<ImageReport>,
    pub peak_rss_mb: f64,
}

impl Report {
    /// Adds another round's runs of the same images.
    pub fn absorb(&mut self, other: Report) {
        for (mine, theirs) in self.images.iter_mut().zip(other.images) {
            mine.samples.extend(theirs.samples);
        }
        self.peak_rss_mb = self.peak_rss_mb.max(other.peak_rss_mb);
    }
}

pub struct Peer {
    /// Every timed run's milliseconds, per image.
    pub times_ms: Vec<Vec<f64>>,
    pub peak_rss_mb: f64,
}

impl Peer {
    pub fn absorb(&mut self, other: Peer) {
        for (mine, theirs) in self.times_ms.iter_mut().zip(other.times_ms) {
            mine.extend(theirs);
        }
        self.peak_rss_mb = self.peak_rss_mb.max(other.peak_rss_mb);
    }

    fn median_ms(&self, image: usize) -> f64 {
        let mut t = self.times_ms[image].clone();
        t.sort_by(f64::total_cmp);
        t.get(t.len() / 2).copied().unwrap_or(f64::NAN)
    }
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
    options: InferenceOptions,
    model: &str,
    images: &[PathBuf],
    runs: usize,
) -> Result<Report, BoxError> {
    let provider = EngineProvider::new(data.clone(), options);
    let seg = provider.get(model)?;
    let engine = provider
        .engine_report(model)
        .map_or_else(|| "?".into(), |r| r.to_string());
    let opts = Options::default();
    let mut out = Vec::new();
    for path in images {
        let bytes = std::fs::read(path)?;
        once(&bytes, seg.as_ref(), &opts)?; // warm-up
        let samples = (0..runs.max(1))
            .map(|_| once(&bytes, seg.as_ref(), &opts))
            .collect::<Result<_, _>>()?;
        let (w, h) = image::image_dimensions(path)?;
        out.push(ImageReport {
            path: path.clone(),
            megapixels: f64::from(w * h) / 1e6,
            samples,
        });
    }
    Ok(Report {
        model: model.to_owned(),
        engine,
        images: out,
        peak_rss_mb: peak_rss_mb(),
    })
}

/// One end-to-end run, JPEG bytes to PNG bytes, each stage timed on its own.
fn once(
    bytes: &[u8],
    seg: &dyn Segmenter,
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
    let times_ms = images
        .iter()
        .map(|p| {
            v[p.to_string_lossy().as_ref()]["times_ms"]
                .as_array()
                .map_or_else(Vec::new, |t| t.iter().filter_map(|x| x.as_f64()).collect())
        })
        .collect();
    Ok(Peer {
        times_ms,
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
    let rounds = match peer {
        Some(_) => "in rounds that alternate Cutout and rembg",
        None => "no rembg peer",
    };
    println!(
        "model: {} on {}   (median of {} timed runs per image, {rounds}, each after a warm-up; \
         ms and % of end-to-end)\n",
        report.model,
        report.engine,
        report.images.first().map_or(0, |i| i.samples.len())
    );
    for (i, r) in report.images.iter().enumerate() {
        let name = r
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        println!("{name} ({:.1} MP), JPEG -> PNG", r.megapixels);
        let (s, end_to_end) = r.median();
        let total = ms(end_to_end);
        for (stage, d) in [
            ("decode", s.decode),
            ("preprocess", s.preprocess),
            ("inference", s.inference),
            ("refine", s.refine),
            ("compose", s.compose),
            ("encode", s.encode),
        ] {
            let share = ms(d) / total * 100.0;
            // The target: every stage but inference under 15 % of the end-to-end time.
            let flag = if stage != "inference" && share >= 15.0 {
                "   over 15 %"
            } else {
                ""
            };
            println!("  {stage:<12} {:>9.1} ms {share:>6.1} %{flag}", ms(d));
        }
        println!("  {:<12} {:>9.1} ms", "end-to-end", total);
        if let Some(p) = peer {
            let theirs = p.median_ms(i);
            println!(
                "  {:<12} {:>9.1} ms   cutout/rembg = {:.3}{}",
                "rembg",
                theirs,
                total / theirs,
                // The ratio target is set for the 12 MP photo.
                if r.megapixels >= 10.0 {
                    " (target <= 0.333)"
                } else {
                    ""
                }
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
