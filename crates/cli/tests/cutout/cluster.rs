//! Scale-out on loopback: two API nodes (`serve --no-workers`) and three `cutout worker`
//! processes on one PostgreSQL database and one S3 bucket (SeaweedFS), real models. Jobs go in
//! through both nodes while one worker and one API node are killed with SIGKILL and restarted;
//! every job completes exactly once, is charged once, and no blob is left orphaned. A burst split
//! over both nodes meets one global rate limit.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cutout_store::postgres::testing::{fresh_database, server_url};
use cutout_store::{BlobsConfig, DatabaseConfig, S3Config};
use cutout_testkit::cli::{stdout_of, Cli};
use cutout_testkit::fixtures::{CAT, PERSON, PRODUCT};
use cutout_testkit::process::{self, Server};
use cutout_testkit::require;
use serde_json::Value;

/// Jobs sent through the two API nodes (the issue's figure).
const JOBS: usize = 300;

fn cutout() -> Command {
    Cli::new(env!("CARGO_BIN_EXE_cutout")).cmd()
}

/// One configuration for every node: the shared database, bucket and signing secret, and the
/// rate limit (`per_minute` 0: none).
fn write_config(dir: &Path, db: &DatabaseConfig, s3: &S3Config, per_minute: u32) -> PathBuf {
    let DatabaseConfig::Postgres { url, .. } = db else {
        unreachable!("the cluster runs on PostgreSQL")
    };
    let cfg = format!(
        r#"[server]
bind = "127.0.0.1:0"
worker_bind = "127.0.0.1:0"
[storage.database]
type = "postgres"
url = "{url}"
max_connections = 6
[storage.blobs]
type = "s3"
endpoint = "{endpoint}"
bucket = "{bucket}"
access_key_id = "{ak}"
secret_access_key = "{sk}"
create_bucket = true
[security]
signing_secret = "one-secret-shared-by-every-node"
[inference]
default_model = "u2netp"
sessions = 1
threads = 1
[jobs]
workers = 1
heartbeat_secs = 1
stale_after_secs = 3
retry_backoff_secs = 0
poll_interval_ms = 500
sweep_interval_secs = 1
orphan_grace_secs = 2
[limits]
rate_limit_per_minute = {per_minute}
rate_limit_burst = 4
"#,
        url = url.expose(),
        endpoint = s3.endpoint,
        bucket = s3.bucket,
        ak = s3.access_key_id,
        sk = s3.secret_access_key.expose(),
    );
    let path = dir.join(format!("cutout-{per_minute}.toml"));
    std::fs::write(&path, cfg).unwrap();
    path
}

fn api_node(config: &Path) -> (Server, u16) {
    let mut cmd = cutout();
    cmd.args(["serve", "--no-workers", "--config"]).arg(config);
    let (server, line) = process::start(cmd, "listening");
    (server, line["port"].as_u64().unwrap() as u16)
}

fn worker(config: &Path) -> Server {
    let mut cmd = cutout();
    cmd.args(["worker", "--config"]).arg(config);
    process::start(cmd, "worker started").0
}

/// Uploads one photo through `port`; `None` when the node is gone (killed mid-request).
async fn upload(client: &reqwest::Client, port: u16, key: &str, photo: &[u8]) -> Option<String> {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(photo.to_vec()).file_name("p.jpg"),
    );
    let r = client
        .post(format!("http://127.0.0.1:{port}/api/v1/upload"))
        .header("x-api-key", key)
        .multipart(form)
        .send()
        .await
        .ok()?;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.ok()?;
    Some(body["job_id"].as_str()?.to_owned())
}

async fn get(client: &reqwest::Client, port: u16, key: &str, path: &str) -> Value {
    let r = client
        .get(format!("http://127.0.0.1:{port}{path}"))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_api_nodes_and_three_workers_survive_sigkill() {
    require!(Models, Postgres, S3);
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database(&server_url().unwrap()).await.unwrap();
    let database = DatabaseConfig::Postgres {
        url: db.url.clone(),
        max_connections: 6,
    };
    let s3 = cutout_store::blob::testing::fresh_bucket().unwrap();
    let config = write_config(dir.path(), &database, &s3, 0);
    let out = cutout()
        .args(["migrate", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    stdout_of(out);
    let key = process::create_key(cutout(), &config, JOBS as i64 + 50);
    let client = reqwest::Client::new();

    let (mut api_a, mut port_a) = api_node(&config);
    let (_api_b, port_b) = api_node(&config);
    let mut workers: Vec<Server> = (0..3).map(|_| worker(&config)).collect();
    let photos = [PERSON, CAT, PRODUCT];
    let mut jobs = Vec::new();
    let mut lost = 0;
    for i in 0..JOBS {
        if i == JOBS / 3 {
            workers[0].kill(); // SIGKILL, with jobs in flight
        }
        if i == JOBS / 2 {
            api_a.kill(); // SIGKILL
            workers[0] = worker(&config);
            (api_a, port_a) = api_node(&config);
        }
        let port = if i % 2 == 0 { port_a } else { port_b };
        match upload(&client, port, &key, photos[i % 3]).await {
            Some(id) => jobs.push(id),
            None => lost += 1,
        }
    }
    assert_eq!(lost, 0, "uploads to a live node do not fail");

    // Every job done, through either node.
    let t = Instant::now();
    loop {
        let mut done = 0;
        for j in &jobs {
            let s = get(&client, port_b, &key, &format!("/api/v1/status?job_id={j}")).await;
            done += (s["state"] == "done") as usize;
        }
        if done == jobs.len() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(600),
            "{done}/{} done",
            jobs.len()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let mut results = BTreeSet::new();
    for j in &jobs {
        let d = get(&client, port_a, &key, &format!("/api/v1/jobs/{j}")).await;
        assert_eq!(d["status"], "completed", "{d}");
        let events = d["events"].as_array().unwrap();
        let completed = events.iter().filter(|e| e["to"] == "completed").count();
        assert_eq!(completed, 1, "completed exactly once: {events:?}");
        results.insert(j.clone());
    }
    let acc = get(&client, port_b, &key, "/api/v1/account").await;
    let usage = &acc["usage"];
    assert_eq!(
        (
            usage["credits_spent"].as_i64(),
            usage["credits_refunded"].as_i64()
        ),
        (Some(jobs.len() as i64), Some(0)),
        "charged once per job: {acc}"
    );
    assert_eq!(acc["balance"], 50, "{acc}");

    // No orphans: every blob belongs to a recorded job (the sweep removes any that do not).
    let blobs = cutout_store::open_blobs(&BlobsConfig::S3(s3.clone()))
        .await
        .unwrap();
    let orphans = |keys: Vec<cutout_store::BlobKey>| -> Vec<String> {
        keys.iter()
            .map(|k| k.as_str().to_owned())
            .filter(|k| !jobs.iter().any(|j| k.contains(j.as_str())))
            .collect()
    };
    let t = Instant::now();
    loop {
        let left = orphans(blobs.list("").await.unwrap());
        if left.is_empty() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "orphaned blobs: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let inputs = blobs.list("inputs/").await.unwrap().len();
    assert_eq!(inputs, jobs.len(), "one input per job");
    drop(workers);

    // A burst split over both nodes meets one limit: 4 pass of 10.
    let limited = write_config(dir.path(), &database, &s3, 1);
    let burst_key = process::create_key(cutout(), &limited, 5);
    let (_a, pa) = api_node(&limited);
    let (_b, pb) = api_node(&limited);
    let mut passed = 0;
    for i in 0..10 {
        let port = if i % 2 == 0 { pa } else { pb };
        let r = client
            .get(format!("http://127.0.0.1:{port}/api/v1/account"))
            .header("x-api-key", &burst_key)
            .send()
            .await
            .unwrap();
        passed += (r.status() == 200) as usize;
    }
    assert_eq!(passed, 4, "the limit is global, not per node");
}
