//! The scale-out benchmark: the embedded backends (SQLite, local disk) against the scale-out
//! ones (PostgreSQL, S3) on this machine, and job throughput with 1, 2 and 3 worker processes.
//! Prints tables; `scripts/bench-scaleout.sh` starts PostgreSQL and SeaweedFS and runs it.
//!
//! - enqueue-to-claim latency (p50/p99): a job is created while a worker waits; the worker is
//!   woken the backend's way (in-process wake-up for SQLite, LISTEN/NOTIFY for PostgreSQL).
//! - database time per job: create + claim + heartbeat + progress + finish, sequentially.
//! - blob put/get MB/s: one 64 MiB file (multipart on S3) and 200 files of 100 KiB.
//! - throughput: N image jobs (u2netp, small photos) through one API node on PostgreSQL + S3
//!   with 1, 2 and 3 `cutout worker` processes (CPU-bound on a 2-core machine).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use cutout_store::*;

// Each benchmark uses part of the shared server helpers.
#[allow(dead_code)]
#[path = "common/server.rs"]
mod server;

#[derive(Parser)]
struct Args {
    /// The `cutout` binary (for the throughput runs).
    #[arg(long, default_value = "target/release/cutout")]
    cutout: PathBuf,
    /// Jobs per latency and overhead run.
    #[arg(long, default_value_t = 300)]
    jobs: usize,
    /// Image jobs per throughput run.
    #[arg(long, default_value_t = 60)]
    image_jobs: usize,
    /// A small photo for the throughput runs.
    #[arg(long, default_value = "crates/testkit/data/person.jpg")]
    photo: PathBuf,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn new_job(acc: &Account, key: &ApiKey) -> NewJob {
    NewJob {
        id: JobId::new(),
        account: acc.id,
        key: key.id,
        kind: JobKind::Image,
        mode: "clipping".into(),
        spec: serde_json::json!({}),
        input_key: None,
        max_attempts: 3,
        cost: 1,
        max_pending: 1_000_000,
        draft: false,
    }
}

async fn account(repo: &dyn Repo, credits: i64) -> (Account, ApiKey) {
    let acc = repo
        .create_account("bench", credits, "whsec")
        .await
        .unwrap();
    let hash = format!("bench-{}", uuid_like());
    let key = repo
        .create_key(acc.id, "bench", &hash, "ck", &[Scope::All])
        .await
        .unwrap();
    (acc, key)
}

fn uuid_like() -> String {
    JobId::new().to_string()
}

/// Enqueue-to-claim latencies (ms), the waiting worker woken as the backend wakes workers.
async fn latency(repo: Arc<dyn Repo>, jobs: usize) -> Vec<f64> {
    let (acc, key) = account(&*repo, jobs as i64).await;
    let wake = Arc::new(tokio::sync::Notify::new());
    let mut notices = repo.work_notices().await.unwrap();
    let mut out = Vec::with_capacity(jobs);
    for _ in 0..jobs {
        let claimer = {
            let (repo, wake) = (repo.clone(), wake.clone());
            let woken = wake.clone();
            let notices = notices.take();
            tokio::spawn(async move {
                let mut notices = notices;
                loop {
                    if let Some(j) = repo.claim_next("bench", &[JobKind::Image]).await.unwrap() {
                        let done = Finish::Completed {
                            result: serde_json::json!({}),
                        };
                        repo.finish(j.id, "bench", done, vec![]).await.unwrap();
                        return (Instant::now(), notices);
                    }
                    match notices.as_mut() {
                        Some(n) => n.next().await.unwrap(),
                        None => woken.notified().await,
                    }
                }
            })
        };
        tokio::time::sleep(Duration::from_millis(2)).await;
        let t0 = Instant::now();
        repo.create_job(new_job(&acc, &key), None).await.unwrap();
        // An embedded install's API wakes its own workers in-process.
        wake.notify_waiters();
        let (t1, back) = claimer.await.unwrap();
        notices = back;
        out.push(t1.duration_since(t0).as_secs_f64() * 1000.0);
    }
    out
}

/// Database time for one job's whole life, sequentially (ms per job).
async fn overhead(repo: &dyn Repo, jobs: usize) -> f64 {
    let (acc, key) = account(repo, jobs as i64).await;
    let t = Instant::now();
    for _ in 0..jobs {
        repo.create_job(new_job(&acc, &key), None).await.unwrap();
        let j = repo
            .claim_next("w", &[JobKind::Image])
            .await
            .unwrap()
            .unwrap();
        repo.heartbeat(j.id, "w").await.unwrap();
        repo.set_progress(j.id, "w", cutout_store::JobPhase::Processing, 50)
            .await
            .unwrap();
        let done = Finish::Completed {
            result: serde_json::json!({"blob": "results/x.png"}),
        };
        repo.finish(j.id, "w", done, vec![]).await.unwrap();
    }
    t.elapsed().as_secs_f64() * 1000.0 / jobs as f64
}

/// (put MB/s, get MB/s) for one large file, and for many small ones.
async fn blob_speed(blobs: &dyn BlobStore, dir: &Path) -> [(f64, f64); 2] {
    let big = dir.join("big.bin");
    std::fs::write(&big, vec![7u8; 64 << 20]).unwrap();
    let small = dir.join("small.bin");
    std::fs::write(&small, vec![3u8; 100 << 10]).unwrap();
    let back = dir.join("back.bin");
    let mb = |bytes: usize, t: Instant| bytes as f64 / 1e6 / t.elapsed().as_secs_f64();
    let key = BlobKey::parse("bench/big").unwrap();
    let t = Instant::now();
    blobs.put_file(&key, &big).await.unwrap();
    let big_put = mb(64 << 20, t);
    let t = Instant::now();
    blobs.get_to_file(&key, &back).await.unwrap();
    let big_get = mb(64 << 20, t);
    let keys: Vec<BlobKey> = (0..200)
        .map(|i| BlobKey::parse(&format!("bench/small/{i}")).unwrap())
        .collect();
    let t = Instant::now();
    for k in &keys {
        blobs.put_file(k, &small).await.unwrap();
    }
    let small_put = mb(200 * (100 << 10), t);
    let t = Instant::now();
    for k in &keys {
        blobs.get_to_file(k, &back).await.unwrap();
    }
    let small_get = mb(200 * (100 << 10), t);
    [(big_put, big_get), (small_put, small_get)]
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cutout ARGS` and waits for its log line `ready`; returns the process and its port.
fn spawn(bin: &Path, args: &[&str], config: &Path, ready: &str) -> (Proc, u16) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(bin)
        .args(args)
        .arg("--config")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("the process exited early").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if v["message"] == ready {
            break v["port"].as_u64().unwrap_or(0) as u16;
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    (Proc(child), port)
}

/// Jobs per second through one API node with `workers` worker processes.
async fn throughput(args: &Args, config: &Path, key: &str, workers: usize) -> f64 {
    let (_api, port) = spawn(
        &args.cutout,
        &["serve", "--no-workers"],
        config,
        "listening",
    );
    let photo = std::fs::read(&args.photo).unwrap();
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for _ in 0..args.image_jobs {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(photo.clone()).file_name("p.jpg"),
        );
        let r: serde_json::Value = client
            .post(format!("http://127.0.0.1:{port}/api/v1/upload"))
            .header("x-api-key", key)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(r["job_id"].as_str().unwrap().to_owned());
    }
    // The clock starts when the workers do (each has loaded its model by then).
    let procs: Vec<Proc> = (0..workers)
        .map(|_| spawn(&args.cutout, &["worker"], config, "worker started").0)
        .collect();
    let t = Instant::now();
    for id in &ids {
        loop {
            let s: serde_json::Value = client
                .get(format!("http://127.0.0.1:{port}/api/v1/status?job_id={id}"))
                .header("x-api-key", key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if s["state"] == "done" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let rate = ids.len() as f64 / t.elapsed().as_secs_f64();
    drop(procs);
    rate
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let admin = postgres::testing::server_url()
        .expect("CUTOUT_TEST_PG_URL (scripts/bench-scaleout.sh sets it)");
    let s3 = blob::testing::fresh_bucket()
        .expect("CUTOUT_TEST_S3_ENDPOINT (scripts/bench-scaleout.sh sets it)");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = DatabaseConfig::Sqlite {
        path: dir.path().join("bench.db"),
        max_connections: 8,
    };
    let pg_db = postgres::testing::fresh_database(&admin).await.unwrap();
    let pg = DatabaseConfig::Postgres {
        url: pg_db.url.clone(),
        max_connections: 8,
    };
    migrate(&pg).await.unwrap();

    println!("## Queue ({} jobs each)\n", args.jobs);
    println!("| backend | enqueue→claim p50 ms | p99 ms | database ms per job |");
    println!("|---|---|---|---|");
    for (name, config) in [("SQLite (embedded)", &sqlite), ("PostgreSQL", &pg)] {
        let repo = open_repo(config).await.unwrap();
        let mut lat = latency(repo.clone(), args.jobs).await;
        lat.sort_by(f64::total_cmp);
        let per_job = overhead(&*repo, args.jobs).await;
        println!(
            "| {name} | {:.2} | {:.2} | {per_job:.2} |",
            pct(&lat, 0.5),
            pct(&lat, 0.99)
        );
    }

    println!("\n## Blobs\n");
    println!("| store | 64 MiB put MB/s | get MB/s | 200 × 100 KiB put MB/s | get MB/s |");
    println!("|---|---|---|---|---|");
    let local = open_blobs(&BlobsConfig::Local {
        root: dir.path().join("blobs"),
    })
    .await
    .unwrap();
    let s3_blobs = open_blobs(&BlobsConfig::S3(s3.clone())).await.unwrap();
    for (name, blobs) in [
        ("local disk", &local),
        ("S3 (SeaweedFS, loopback)", &s3_blobs),
    ] {
        let [(bp, bg), (sp, sg)] = blob_speed(&**blobs, dir.path()).await;
        println!("| {name} | {bp:.0} | {bg:.0} | {sp:.1} | {sg:.1} |");
    }

    println!(
        "\n## Throughput: {} image jobs (u2netp) on PostgreSQL + S3\n",
        args.image_jobs
    );
    let config = dir.path().join("cutout.toml");
    let DatabaseConfig::Postgres { url, .. } = &pg else {
        unreachable!()
    };
    std::fs::write(
        &config,
        format!(
            "[server]\nbind = \"127.0.0.1:0\"\nworker_bind = \"127.0.0.1:0\"\n\
             [storage.database]\ntype = \"postgres\"\nurl = \"{}\"\n\
             [storage.blobs]\ntype = \"s3\"\nendpoint = \"{}\"\nbucket = \"{}\"\n\
             access_key_id = \"{}\"\nsecret_access_key = \"{}\"\n\
             [security]\nsigning_secret = \"bench\"\n[limits]\nrate_limit_per_minute = 0\n\
             [inference]\ndefault_model = \"u2netp\"\nsessions = 1\nthreads = 1\n\
             [jobs]\nworkers = 1\npoll_interval_ms = 200\n",
            url.expose(),
            s3.endpoint,
            s3.bucket,
            s3.access_key_id,
            s3.secret_access_key.expose()
        ),
    )
    .unwrap();
    let key = server::create_key(&args.cutout, &config).unwrap();
    println!("| worker processes | jobs/s | vs 1 |");
    println!("|---|---|---|");
    let mut base = 0.0;
    for workers in 1..=3 {
        let rate = throughput(&args, &config, &key, workers).await;
        if workers == 1 {
            base = rate;
        }
        println!("| {workers} | {rate:.2} | {:.2} |", rate / base);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "\n({cores} cores: inference is CPU-bound, so past {cores} processes the curve is flat.)"
    );
}
