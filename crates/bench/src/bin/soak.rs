//! `cutout-soak`: a long mixed run against one `cutout serve`, to catch leaks. 10 000 requests
//! by default from 8 clients: image jobs on small photos (one in ten), the asset add-on's inline
//! cut-out (one in ten), status polls (the rest), after 1 000 of the same to warm up. Prints
//! errors, throughput, and the server's RSS and open file descriptors over the first and the last
//! thousand measured requests.
//!
//! `--pressure`: then many large images at once (8 × 49 MP PNGs by default, 8 workers), once
//! with `limits.max_megapixels_in_flight` at 100 and once with the budget out of the way: peak
//! RSS shows what the budget holds back.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::Value;

#[path = "common/server.rs"]
mod server;
use server::{open_fds, rss_mb, BoxError, PeakRss};

#[derive(Parser)]
struct Args {
    /// The `cutout` binary.
    #[arg(long, default_value = "target/release/cutout")]
    cutout: PathBuf,
    #[arg(long, default_value_t = 10_000)]
    requests: usize,
    /// Requests of the same mix sent first and not measured (see `Run::phase`'s caller).
    #[arg(long, default_value_t = 1_000)]
    warmup: usize,
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    #[arg(long, default_value = "u2netp")]
    model: String,
    /// The eval set, whose photos (long side up to 854 px) are the inputs.
    #[arg(long, default_value = "../shared/eval")]
    set: PathBuf,
    /// Also run the large-image pressure test.
    #[arg(long)]
    pressure: bool,
    /// Side of the square PNGs of the pressure test.
    #[arg(long, default_value_t = 7000)]
    pressure_side: u32,
    #[arg(long, default_value_t = 8)]
    pressure_images: usize,
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Client {
    async fn upload(&self, img: &[u8]) -> Result<String, BoxError> {
        let part = reqwest::multipart::Part::bytes(img.to_vec()).file_name("in.jpg");
        let r = self
            .http
            .post(format!("{}/api/v1/upload", self.base))
            .header("x-api-key", &self.key)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await?;
        if r.status() != 202 {
            return Err(format!("upload: HTTP {}", r.status()).into());
        }
        let v: Value = r.json().await?;
        Ok(v["job_id"].as_str().ok_or("no job id")?.to_owned())
    }

    async fn status(&self, job: &str) -> Result<Value, BoxError> {
        let r = self
            .http
            .get(format!("{}/api/v1/status?job_id={job}", self.base))
            .header("x-api-key", &self.key)
            .send()
            .await?;
        if !r.status().is_success() {
            return Err(format!("status: HTTP {}", r.status()).into());
        }
        Ok(r.json().await?)
    }

    async fn addon(&self, img: &[u8]) -> Result<(), BoxError> {
        let part = reqwest::multipart::Part::bytes(img.to_vec()).file_name("in.jpg");
        let r = self
            .http
            .post(format!("{}/api/v1/assets/file/addons/bg_remove", self.base))
            .header("x-api-key", &self.key)
            .multipart(reqwest::multipart::Form::new().part("image", part))
            .send()
            .await?;
        if !r.status().is_success() {
            return Err(format!("add-on: HTTP {}", r.status()).into());
        }
        r.bytes().await?;
        Ok(())
    }

    /// Waits for every job to end; returns how many failed.
    async fn drain(&self, jobs: &[String]) -> Result<usize, BoxError> {
        let mut failed = 0;
        for job in jobs {
            loop {
                let s = self.status(job).await?;
                match s["state"].as_str() {
                    Some("done") if s["final_url"].is_string() => break,
                    Some("done") => {
                        failed += 1;
                        break;
                    }
                    _ => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        }
        Ok(failed)
    }
}

/// One server sample after a request: (RSS MB, open fds).
type Sample = (f64, usize);

async fn soak(args: &Args, dir: &std::path::Path) -> Result<(), BoxError> {
    let extra = format!(
        "[limits]\nrate_limit_per_minute = 0\nmax_pending_jobs = 1000000\n[jobs]\ndefault_model = \"{}\"\n",
        args.model
    );
    let (srv, key) = server::start(&args.cutout, &dir.join("soak"), &extra)?;
    let pid = srv.child.id();
    let photos: Arc<Vec<Vec<u8>>> = Arc::new(
        ["grabcut_person1", "coco_dog02_000000464522", "ccp_0141"]
            .iter()
            .map(|id| std::fs::read(args.set.join(format!("images/{id}.jpg"))))
            .collect::<Result<_, _>>()?,
    );
    let client = Arc::new(Client {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{}", srv.port),
        key,
    });
    let run = Run {
        client: client.clone(),
        photos,
        jobs: Arc::new(Mutex::new(Vec::new())),
        errors: Arc::new(AtomicUsize::new(0)),
        pid,
    };
    // One-time costs (the model's load and compile, the allocator's and SQLite's caches filling)
    // are not leaks: they are paid before the measured run, so its first thousand is comparable
    // with its last.
    run.phase(args.warmup, args.concurrency).await?;
    let started = Instant::now();
    let samples = run.phase(args.requests, args.concurrency).await?;
    let secs = started.elapsed().as_secs_f64();
    let jobs = run.jobs.lock().unwrap().clone();
    let failed = client.drain(&jobs).await?;
    report(
        args,
        &samples,
        // Errors during the warm-up count too.
        run.errors.load(Ordering::Relaxed),
        failed,
        jobs.len(),
        secs,
    );
    Ok(())
}

/// What the clients of a soak share (each client task holds a clone).
#[derive(Clone)]
struct Run {
    client: Arc<Client>,
    photos: Arc<Vec<Vec<u8>>>,
    /// Image jobs created so far, polled by the status requests.
    jobs: Arc<Mutex<Vec<String>>>,
    errors: Arc<AtomicUsize>,
    pid: u32,
}

impl Run {
    /// `n` requests of the mix from `concurrency` clients; the server's (RSS, fds) after each.
    async fn phase(&self, n: usize, concurrency: usize) -> Result<Vec<Sample>, BoxError> {
        let next = Arc::new(AtomicUsize::new(0));
        let samples = Arc::new(Mutex::new(vec![(0.0, 0); n]));
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (run, next, samples) = (self.clone(), next.clone(), samples.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let img = &run.photos[i % run.photos.len()];
                    let known = {
                        let jobs = run.jobs.lock().unwrap();
                        (!jobs.is_empty()).then(|| jobs[i % jobs.len()].clone())
                    };
                    let outcome = match (i % 10, known) {
                        (0, _) | (_, None) => run.client.upload(img).await.map(|id| {
                            run.jobs.lock().unwrap().push(id);
                        }),
                        (1, _) => run.client.addon(img).await,
                        (_, Some(job)) => run.client.status(&job).await.map(drop),
                    };
                    if let Err(e) = outcome {
                        if run.errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("request {i}: {e}");
                        }
                    }
                    samples.lock().unwrap()[i] = (rss_mb(run.pid), open_fds(run.pid));
                }
            }));
        }
        for t in tasks {
            t.await?;
        }
        let samples = samples.lock().unwrap().clone();
        Ok(samples)
    }
}

fn report(args: &Args, s: &[Sample], errors: usize, failed: usize, jobs: usize, secs: f64) {
    let k = 1000.min(s.len() / 2).max(1);
    let mean = |w: &[Sample]| {
        let rss = w.iter().map(|x| x.0).sum::<f64>() / w.len() as f64;
        let fds = w.iter().map(|x| x.1 as f64).sum::<f64>() / w.len() as f64;
        (rss, fds)
    };
    let (r0, f0) = mean(&s[..k]);
    let (r1, f1) = mean(&s[s.len() - k..]);
    let pct = |a: f64, b: f64| 100.0 * (b - a) / a.max(f64::EPSILON);
    println!(
        "soak: {} requests after {} to warm up, from {} clients ({jobs} image jobs, {} add-on calls, the rest status polls), \
         {errors} errors, {failed} failed jobs, {:.1} requests/s",
        s.len(),
        args.warmup,
        args.concurrency,
        s.len() / 10,
        s.len() as f64 / secs
    );
    println!("| window | server RSS (MB, mean) | open fds (mean) |");
    println!("|---|---|---|");
    println!("| first {k} | {r0:.1} | {f0:.1} |");
    println!(
        "| last {k} | {r1:.1} ({:+.1} %) | {f1:.1} ({:+.1} %) |",
        pct(r0, r1),
        pct(f0, f1)
    );
    // The whole run in tenths: a leak climbs steadily, a warm-up levels off.
    let tenths: Vec<String> = s
        .chunks(s.len().div_ceil(10).max(1))
        .map(|w| format!("{:.0}", mean(w).0))
        .collect();
    println!("RSS by tenth of the run (MB): {}", tenths.join(", "));
}

/// A `side`-square PNG of smooth gradients and a disc: large when decoded, a few MB encoded.
fn big_png(side: u32) -> Result<Vec<u8>, BoxError> {
    let c = side as f32 / 2.0;
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        let (dx, dy) = (x as f32 - c, y as f32 - c);
        let inside = dx * dx + dy * dy < c * c / 4.0;
        let v = (x * 255 / side) as u8;
        if inside {
            image::Rgb([230, 40, v])
        } else {
            image::Rgb([v, (y * 255 / side) as u8, 120])
        }
    });
    let mut out = Vec::new();
    let enc = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Sub,
    );
    img.write_with_encoder(enc)?;
    Ok(out)
}

async fn pressure(args: &Args, dir: &std::path::Path) -> Result<(), BoxError> {
    let png = Arc::new(big_png(args.pressure_side)?);
    let mp = (args.pressure_side as f64).powi(2) / 1e6;
    println!(
        "\npressure: {n} PNGs of {side}x{side} ({mp:.0} MP, {mb:.1} MB each) at once, {n} workers",
        n = args.pressure_images,
        side = args.pressure_side,
        mb = png.len() as f64 / 1e6,
    );
    println!("| max_megapixels_in_flight | peak server RSS | all done in |");
    println!("|---|---|---|");
    for budget in [100.0, 100_000.0] {
        let extra = format!(
            "[limits]\nrate_limit_per_minute = 0\nmax_megapixels_in_flight = {budget}\nmax_input_bytes = 268435456\n\
             max_megapixels = 60\n[jobs]\nworkers = {}\ndefault_model = \"{}\"\n",
            args.pressure_images, args.model
        );
        let (srv, key) = server::start(
            &args.cutout,
            &dir.join(format!("pressure-{budget}")),
            &extra,
        )?;
        let pid = srv.child.id();
        let client = Client {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{}", srv.port),
            key,
        };
        let peak = PeakRss::start(pid, Duration::from_millis(50));
        let started = Instant::now();
        let uploads = (0..args.pressure_images).map(|_| client.upload(&png));
        let jobs: Vec<String> = futures_util::future::try_join_all(uploads).await?;
        let failed = client.drain(&jobs).await?;
        let budget = if budget > 1e4 {
            "off".to_owned()
        } else {
            format!("{budget}")
        };
        println!(
            "| {budget} | {} MB | {:.1} s{} |",
            peak.mb(),
            started.elapsed().as_secs_f64(),
            if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    soak(&args, dir.path()).await?;
    if args.pressure {
        pressure(&args, dir.path()).await?;
    }
    Ok(())
}
