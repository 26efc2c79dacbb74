//! Real processes killed with SIGKILL mid-job: `cutout serve` with image jobs queued and running,
//! and a separate `cutout worker` half way through a video. After a restart every job completes
//! exactly once and is charged exactly once.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use cutout_testkit::cli::Cli;
use cutout_testkit::fixtures::PERSON;
use cutout_testkit::media::make_clip;
use cutout_testkit::process::{self, Server};
use cutout_testkit::require;
const JOBS: usize = 5;

fn write_config(dir: &Path) -> std::path::PathBuf {
    let d = dir.display();
    let cfg = format!(
        r#"[server]
bind = "127.0.0.1:0"
worker_bind = "127.0.0.1:0"
[storage]
database_url = "sqlite://{d}/cutout.db"
blob_url = "file://{d}/blobs"
[security]
signing_secret_file = "{d}/signing.key"
[limits]
# The test polls faster than a real client would.
rate_limit_per_minute = 0
[jobs]
workers = 1
default_model = "u2net"
heartbeat_secs = 1
stale_after_secs = 2
retry_backoff_secs = 0
"#
    );
    let path = dir.join("cutout.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

fn cutout() -> Command {
    Cli::new(env!("CARGO_BIN_EXE_cutout")).cmd()
}

/// Starts `cutout serve` and returns it with its port (read from the JSON "listening" log line).
fn serve(config: &Path) -> (Server, u16) {
    let (server, line) = start(config, "serve", &[], "listening");
    (server, line["port"].as_u64().unwrap() as u16)
}

/// Starts `cutout <command>` and waits for the JSON log line whose message is `ready`.
fn start(config: &Path, command: &str, env: &[(&str, &str)], ready: &str) -> (Server, Value) {
    let mut cmd = cutout();
    cmd.args([command, "--config"])
        .arg(config)
        .envs(env.iter().copied());
    process::start(cmd, ready)
}

fn create_key(config: &Path) -> String {
    process::create_key(cutout(), config, 20)
}

async fn get(client: &reqwest::Client, port: u16, key: &str, path: &str) -> Value {
    client
        .get(format!("http://127.0.0.1:{port}{path}"))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_mid_job_then_restart_completes_every_job_once() {
    require!(Models);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let key = create_key(&config);
    let client = reqwest::Client::new();
    let (mut server, port) = serve(&config);
    let mut jobs = Vec::new();
    for _ in 0..JOBS {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(PERSON.to_vec()).file_name("p.jpg"),
        );
        let r = client
            .post(format!("http://127.0.0.1:{port}/api/v1/upload"))
            .header("x-api-key", &key)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        jobs.push(
            r.json::<Value>().await.unwrap()["job_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Kill as soon as a job is in flight, with the rest still queued.
    let t = Instant::now();
    'wait: loop {
        for j in &jobs {
            let s = get(&client, port, &key, &format!("/api/v1/status?job_id={j}")).await;
            if s["state"] == "pending" && s["status"] != "queued" {
                break 'wait;
            }
        }
        assert!(t.elapsed() < Duration::from_secs(60), "no job started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill(); // SIGKILL

    let (mut server, port) = serve(&config);
    let t = Instant::now();
    loop {
        let mut done = 0;
        for j in &jobs {
            done += (get(&client, port, &key, &format!("/api/v1/status?job_id={j}")).await["state"]
                == "done") as usize;
        }
        if done == JOBS {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "{done}/{JOBS} jobs done after restart"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut requeued = 0;
    for j in &jobs {
        let d = get(&client, port, &key, &format!("/api/v1/jobs/{j}")).await;
        assert_eq!(d["status"], "completed", "{d}");
        let events = d["events"].as_array().unwrap();
        let completions = events.iter().filter(|e| e["to"] == "completed").count();
        assert_eq!(completions, 1, "completed exactly once: {events:?}");
        requeued += events
            .iter()
            .filter(|e| e["cause"] == "heartbeat_lost")
            .count();
        let r = client
            .get(d["final_url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert!(
        requeued >= 1,
        "the job in flight at the kill was re-queued by the reaper"
    );
    let acc = get(&client, port, &key, "/api/v1/account").await;
    assert_eq!(
        acc["usage"]["credits_spent"], JOBS as i64,
        "charged once per job: {acc}"
    );
    assert_eq!(acc["usage"]["credits_refunded"], 0);
    assert_eq!(acc["balance"], 20 - JOBS as i64);
    // A graceful stop (SIGTERM) exits cleanly.
    Command::new("kill")
        .arg(server.0.id().to_string())
        .status()
        .unwrap();
    assert!(server.0.wait().unwrap().success());
}

/// An 8 s, 15 fps, 320x240 clip with a tone: long enough to kill a worker half way.
fn clip(dir: &Path) -> Vec<u8> {
    let out = dir.join("clip.mp4");
    make_clip(&out, "testsrc2=size=320x240:rate=15:duration=8", 8, &[]);
    std::fs::read(out).unwrap()
}

/// Polls the video job until `done` says so.
async fn wait_video(
    client: &reqwest::Client,
    port: u16,
    key: &str,
    id: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let t = Instant::now();
    loop {
        let j = get(client, port, key, &format!("/v1/jobs/{id}")).await;
        if done(&j) {
            return j;
        }
        assert!(t.elapsed() < limit, "gave up waiting: {j}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_of_a_worker_mid_video_restarts_the_job_and_charges_once() {
    require!(Models, Ffmpeg);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let key = create_key(&config);
    let client = reqwest::Client::new();
    // The API node runs no workers: only the separate worker processes do.
    let api_only = [("CUTOUT_JOBS__RUN_WORKERS", "false")];
    let (_api, line) = start(&config, "serve", &api_only, "listening");
    let port = line["port"].as_u64().unwrap() as u16;
    let (mut worker, _) = start(&config, "worker", &[], "worker started");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(clip(dir.path())).file_name("clip.mp4"),
    );
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    let up: Value = client
        .post(url("/v1/uploads"))
        .header("x-api-key", &key)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job: Value = client
        .post(url("/v1/jobs"))
        .header("x-api-key", &key)
        .json(&serde_json::json!({"video_id": up["video_id"], "model": "light", "output_format": "webm"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap().to_owned();
    let minute = Duration::from_secs(60);
    let mid = wait_video(&client, port, &key, &id, minute, |j| {
        j["progress"].as_u64().unwrap_or(0) >= 10
    })
    .await;
    assert_eq!(mid["status"], "processing", "{mid}");
    worker.kill(); // SIGKILL, half way through the video

    let (_worker, _) = start(&config, "worker", &[], "worker started");
    // A bound against hanging, not a speed target: on a 2-core AVX2 machine the restarted
    // attempt of this debug build took over 2 minutes (it reached 92 %).
    let done = wait_video(&client, port, &key, &id, 5 * minute, |j| {
        j["status"] != "processing" && j["status"] != "pending"
    })
    .await;
    assert_eq!(
        (
            done["status"].as_str(),
            done["billing_status"].as_str(),
            done["attempts"].as_u64()
        ),
        (Some("completed"), Some("charged"), Some(2)),
        "{done}"
    );
    // Light is 45 credits a minute, per started second: charged once and never refunded.
    let cost = (up["duration"].as_f64().unwrap().ceil() as i64 * 45 + 59) / 60;
    let usage = get(&client, port, &key, "/v1/usage/summary?days=1").await;
    let figures = ["credits_charged", "credits_refunded", "balance"].map(|k| usage[k].as_i64());
    assert_eq!(figures, [Some(cost), Some(0), Some(20 - cost)], "{usage}");
    let dl = get(&client, port, &key, &format!("/api/download/{id}")).await;
    let bytes = client
        .get(dl["download_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let out = dir.path().join("out.webm");
    std::fs::write(&out, &bytes).unwrap();
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&probe.stdout).trim(),
        "120",
        "every frame, once"
    );
}
