//! Load benchmark: `cutout serve` against `rembg s`, same model file, same 1-2 MP photos, the
//! client on loopback with a bounded request count. Prints images/s, p50/p99 latency, errors and
//! peak server RSS per concurrency, and the ratios; `--soak N` also checks RSS stays flat.
//!
//! Cutout's latency is the whole asynchronous round trip a client sees: upload, poll status
//! (every 50 ms), download the result. rembg's is its one synchronous call.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use cutout_core::{EngineChoice, PrecisionChoice};
use serde_json::Value;

// Each benchmark uses part of the shared server helpers.
#[allow(dead_code)]
#[path = "common/server.rs"]
mod server;
use server::{rss_mb, BoxError, PeakRss, Server};

#[derive(Parser)]
struct Args {
    /// The `cutout` binary.
    #[arg(long, default_value = "target/release/cutout")]
    cutout: PathBuf,
    /// Python of a venv with `rembg[cpu,cli]`.
    #[arg(long, env = "CUTOUT_REMBG_PYTHON")]
    rembg_python: Option<PathBuf>,
    #[arg(long, default_value = "u2net")]
    model: String,
    /// Requests per concurrency level.
    #[arg(long, default_value_t = 48)]
    requests: usize,
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    concurrency: Vec<usize>,
    /// Cutout's engines to measure, each as its own server: `auto`, `onnxruntime`, `openvino`,
    /// optionally with a precision (`openvino:f32`).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "auto",
        env = "CUTOUT_LOAD_ENGINES"
    )]
    engines: Vec<EngineSpec>,
    /// Also run this many requests at concurrency 16 against Cutout and compare RSS between the
    /// first and the last fifth.
    #[arg(long, default_value_t = 0)]
    soak: usize,
}

/// An engine and precision, spelled `ENGINE[:PRECISION]`.
#[derive(Clone, Copy, Debug)]
struct EngineSpec {
    engine: EngineChoice,
    precision: PrecisionChoice,
}

impl std::str::FromStr for EngineSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (e, p) = s.split_once(':').unwrap_or((s, "auto"));
        Ok(Self {
            engine: e
                .parse()
                .map_err(|e: cutout_core::UnknownChoice| e.to_string())?,
            precision: p
                .parse()
                .map_err(|e: cutout_core::UnknownChoice| e.to_string())?,
        })
    }
}

impl EngineSpec {
    /// As the config file spells it.
    fn toml(self) -> String {
        format!(
            "[inference]\nengine = \"{}\"\nprecision = \"{}\"\n",
            self.engine.as_str(),
            self.precision.as_str()
        )
    }
}

/// The three benchmark photos with a 1600 px long side (1-2 MP), as JPEG bytes.
fn images() -> Result<Vec<Vec<u8>>, BoxError> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench-images");
    let mut out = Vec::new();
    for name in [
        "animal_cat.jpg",
        "person_craft-beer.jpg",
        "product_book-flowers.jpg",
    ] {
        let img =
            image::open(dir.join(name))?.resize(1600, 1600, image::imageops::FilterType::Triangle);
        let mut buf = std::io::Cursor::new(Vec::new());
        img.to_rgb8().write_to(&mut buf, image::ImageFormat::Jpeg)?;
        out.push(buf.into_inner());
    }
    Ok(out)
}

fn start_cutout(args: &Args, spec: EngineSpec, dir: &Path) -> Result<(Server, String), BoxError> {
    let dir = &dir.join(format!(
        "{}-{}",
        spec.engine.as_str(),
        spec.precision.as_str()
    ));
    let extra = format!(
        "[limits]\nrate_limit_per_minute = 0\nmax_pending_jobs = 100000\n[jobs]\ndefault_model = \"{}\"\n{}",
        args.model,
        spec.toml()
    );
    server::start(&args.cutout, dir, &extra)
}

fn start_rembg(python: &Path, model: &str, dir: &Path, port: u16) -> Result<Server, BoxError> {
    let home = dir.join("u2net");
    std::fs::create_dir_all(&home)?;
    let data = cutout_models::DataDir::from_env();
    let entry = cutout_models::manifest().get(model)?;
    let link = home.join(format!("{model}.onnx"));
    if !link.exists() {
        std::os::unix::fs::symlink(data.model_path(entry), &link)?;
    }
    let child = Command::new(python)
        .args([
            "-c",
            "import sys; from rembg.cli import main; sys.argv[0] = 'rembg'; main()",
            "s",
            "--no-ui",
            "--log_level",
            "warning",
            "--host",
            "127.0.0.1",
            "--port",
        ])
        .arg(port.to_string())
        .env("U2NET_HOME", &home)
        .env("MODEL_CHECKSUM_DISABLED", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok(Server { child, port })
}

#[derive(Clone)]
enum Target {
    Cutout { base: String, key: String },
    Rembg { base: String, model: String },
}

impl Target {
    async fn one(&self, client: &reqwest::Client, img: &[u8]) -> Result<usize, BoxError> {
        let part = reqwest::multipart::Part::bytes(img.to_vec())
            .file_name("in.jpg")
            .mime_str("image/jpeg")?;
        match self {
            Target::Rembg { base, model } => {
                let form = reqwest::multipart::Form::new()
                    .part("file", part)
                    .text("model", model.clone());
                let r = client
                    .post(format!("{base}/api/remove?model={model}"))
                    .multipart(form)
                    .send()
                    .await?;
                if !r.status().is_success() {
                    return Err(format!("rembg HTTP {}", r.status()).into());
                }
                Ok(r.bytes().await?.len())
            }
            Target::Cutout { base, key } => {
                let form = reqwest::multipart::Form::new().part("file", part);
                let r = client
                    .post(format!("{base}/api/v1/upload"))
                    .header("x-api-key", key)
                    .multipart(form)
                    .send()
                    .await?;
                if r.status() != 202 {
                    return Err(format!("upload HTTP {}", r.status()).into());
                }
                let job = r.json::<Value>().await?["job_id"]
                    .as_str()
                    .ok_or("no job id")?
                    .to_owned();
                loop {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let s: Value = client
                        .get(format!("{base}/api/v1/status?job_id={job}"))
                        .header("x-api-key", key)
                        .send()
                        .await?
                        .json()
                        .await?;
                    if s["state"] == "done" {
                        let url = s["final_url"]
                            .as_str()
                            .ok_or_else(|| format!("job failed: {s}"))?;
                        return Ok(client
                            .get(url)
                            .send()
                            .await?
                            .error_for_status()?
                            .bytes()
                            .await?
                            .len());
                    }
                }
            }
        }
    }
}

struct Run {
    conc: usize,
    ok: usize,
    errors: usize,
    secs: f64,
    p50: f64,
    p99: f64,
    peak_rss: f64,
    rss_marks: Vec<f64>,
}

async fn run(target: &Target, pid: u32, images: &Arc<Vec<Vec<u8>>>, conc: usize, n: usize) -> Run {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let peak = PeakRss::start(pid, Duration::from_millis(100));
    let marks = Arc::new(std::sync::Mutex::new(Vec::new()));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (target, client, next, errors, images, marks) = (
            target.clone(),
            client.clone(),
            next.clone(),
            errors.clone(),
            images.clone(),
            marks.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return lat;
                }
                let t = Instant::now();
                match target.one(&client, &images[i % images.len()]).await {
                    Ok(_) => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("error: {e}");
                        }
                    }
                }
                marks.lock().unwrap().push(rss_mb(pid));
            }
        }));
    }
    let mut lat: Vec<f64> = Vec::new();
    for task in tasks {
        lat.extend(task.await.unwrap_or_default());
    }
    let secs = t.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let rss_marks = marks.lock().unwrap().clone();
    Run {
        conc,
        ok: lat.len(),
        errors: errors.load(Ordering::Relaxed),
        secs,
        p50: pct(0.50),
        p99: pct(0.99),
        peak_rss: peak.mb() as f64,
        rss_marks,
    }
}

fn row(name: &str, r: &Run) {
    println!(
        "| {name:<7} | {:>4} | {:>5} | {:>6} | {:>7.2} | {:>8.0} | {:>8.0} | {:>8.0} |",
        r.conc,
        r.ok,
        r.errors,
        r.ok as f64 / r.secs,
        r.p50,
        r.p99,
        r.peak_rss
    );
}

async fn wait_up(url: &str) -> Result<(), BoxError> {
    for _ in 0..600 {
        if reqwest::get(url).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!("{url} never answered").into())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let images = Arc::new(images()?);
    println!(
        "# load: model {}, {} requests per level, 1600 px JPEGs, {} cores",
        args.model,
        args.requests,
        std::thread::available_parallelism()?.get()
    );
    let rembg = match &args.rembg_python {
        Some(py) => {
            let port = portpicker(dir.path())?;
            let s = start_rembg(py, &args.model, dir.path(), port)?;
            wait_up(&format!("http://127.0.0.1:{port}/api")).await?;
            Some(s)
        }
        None => None,
    };
    let rtarget = rembg.as_ref().map(|s| Target::Rembg {
        base: format!("http://127.0.0.1:{}", s.port),
        model: args.model.clone(),
    });
    // rembg first, once per level; each Cutout engine is then compared with the same runs.
    let mut peer = Vec::new();
    if let (Some(t), Some(s)) = (&rtarget, &rembg) {
        run(t, s.child.id(), &images, 2, 4).await; // warm-up
        for &c in &args.concurrency {
            peer.push(run(t, s.child.id(), &images, c, args.requests).await);
        }
    }
    drop(rembg);
    let mut last = None;
    for &spec in &args.engines {
        let ceiling = inference_ceiling(&args.model, spec, &images)?;
        println!(
            "\n## engine {}, precision {}\nthe model alone (resize to its input and inference, in \
             process, one session on every core): {ceiling:.2} img/s",
            spec.engine.as_str(),
            spec.precision.as_str()
        );
        let (cutout, key) = start_cutout(&args, spec, dir.path())?;
        let cbase = format!("http://127.0.0.1:{}", cutout.port);
        wait_up(&format!("{cbase}/healthz")).await?;
        let ctarget = Target::Cutout { base: cbase, key };
        // Warm-up: model loads and first-call costs are not part of the figures.
        run(&ctarget, cutout.child.id(), &images, 2, 4).await;
        println!("| server  | conc |    ok | errors |  img/s  |  p50 ms  |  p99 ms  |  RSS MB  |");
        println!("|---------|------|-------|--------|---------|----------|----------|----------|");
        for (i, &c) in args.concurrency.iter().enumerate() {
            let cr = run(&ctarget, cutout.child.id(), &images, c, args.requests).await;
            row("cutout", &cr);
            if let Some(rr) = peer.get(i) {
                row("rembg", rr);
                println!(
                    "|  ratio  | {c:>4} | throughput {:.2}x, p99 {:.2}x of rembg |",
                    (cr.ok as f64 / cr.secs) / (rr.ok as f64 / rr.secs),
                    cr.p99 / rr.p99
                );
            }
        }
        last = Some((cutout, ctarget));
    }
    let (cutout, ctarget) = last.ok_or("no engine to measure")?;
    if args.soak > 0 {
        let r = run(&ctarget, cutout.child.id(), &images, 16, args.soak).await;
        // The criterion: the first and the last thousand requests (halves when shorter).
        let k = (r.rss_marks.len() / 2).clamp(1, 1000);
        let first = r.rss_marks[..k].iter().cloned().fold(0.0, f64::max);
        let last = r.rss_marks[r.rss_marks.len() - k..]
            .iter()
            .cloned()
            .fold(0.0, f64::max);
        println!("soak: {} requests at c=16, {} errors, {:.2} img/s; peak RSS over the first {k}: {first:.0} MB, over the last {k}: {last:.0} MB ({:+.1} %)",
            r.ok, r.errors, r.ok as f64 / r.secs, (last / first - 1.0) * 100.0);
    }
    Ok(())
}

/// Images per second the model's inference alone reaches here, after one warm-up: the upper bound
/// for any server's throughput with the same model file and the same ONNX Runtime.
fn inference_ceiling(model: &str, spec: EngineSpec, images: &[Vec<u8>]) -> Result<f64, BoxError> {
    let data = cutout_models::DataDir::from_env();
    let options = cutout_infer::InferenceOptions::exclusive(1).on(spec.engine, spec.precision);
    let provider = cutout_infer::EngineProvider::new(data, options);
    let seg = cutout_core::SegmenterProvider::get(&provider, model)?;
    if let Some(r) = cutout_core::SegmenterProvider::engine_report(&provider, model) {
        println!("{model} runs on: {r}");
    }
    let decoded = images
        .iter()
        .map(|b| cutout_core::decode(b, &Default::default()).map(|d| d.image))
        .collect::<Result<Vec<_>, _>>()?;
    seg.segment(&decoded[0])?;
    let runs = 2 * decoded.len();
    let t = Instant::now();
    for image in decoded.iter().cycle().take(runs) {
        seg.segment(image)?;
    }
    Ok(runs as f64 / t.elapsed().as_secs_f64())
}

/// A free port for rembg (bind 0, read it, release it).
fn portpicker(_: &Path) -> Result<u16, BoxError> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
