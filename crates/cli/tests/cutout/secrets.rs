//! Secrets stay secret: a real `cutout serve`, driven through good and bad requests (webhooks
//! included), never writes an API key, a webhook secret or the signing secret to its log, an
//! error body or `cutout config print`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use cutout_testkit::cli::{stdout_of, Cli};
use cutout_testkit::fixtures::PERSON;
use cutout_testkit::process;
use cutout_testkit::require;

const SIGNING: &str = "sgn-0123456789abcdef-do-not-print";

fn cutout() -> Command {
    Cli::new(env!("CARGO_BIN_EXE_cutout")).cmd()
}

fn config(dir: &Path) -> std::path::PathBuf {
    let d = dir.display();
    let cfg = format!(
        r#"[server]
bind = "127.0.0.1:0"
[storage]
database_url = "sqlite://{d}/cutout.db"
blob_url = "file://{d}/blobs"
[security]
signing_secret = "{SIGNING}"
[limits]
rate_limit_per_minute = 0
[fetch]
allow_hosts = ["127.0.0.1"]
[jobs]
workers = 1
default_model = "u2netp"
"#
    );
    let path = dir.join("cutout.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

/// A webhook receiver: accepts connections and answers 200, keeping the bodies.
fn receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = got.clone();
    std::thread::spawn(move || {
        for mut s in l.incoming().map_while(Result::ok) {
            let mut buf = vec![0u8; 1 << 16];
            let n = s.read(&mut buf).unwrap_or(0);
            sink.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        }
    });
    (url, got)
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_logs_bodies_or_config() {
    require!(Models);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let out = cutout()
        .args([
            "keys",
            "create",
            "--name",
            "t",
            "--credits",
            "20",
            "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    let text = String::from_utf8(stdout_of(out)).unwrap();
    let field = |name: &str| crate::printed(&text, name);
    let (key, webhook_secret) = (field("key:"), field("webhook secret:"));
    let mut cmd = cutout();
    cmd.args(["serve", "--config"])
        .arg(&cfg)
        .env("RUST_LOG", "debug");
    let (mut server, line, log) = process::start_logged(cmd, "listening");
    let base = format!("http://127.0.0.1:{}", line["port"]);
    let (hook, hooks) = receiver();
    let client = reqwest::Client::new();
    let mut bodies = Vec::new();
    let upload_bytes = |k: &str, fields: &[(&str, &str)], bytes: &[u8]| {
        let mut form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("p.jpg"),
        );
        for (n, v) in fields {
            form = form.text(n.to_string(), v.to_string());
        }
        client
            .post(format!("{base}/api/v1/upload"))
            .header("x-api-key", k)
            .multipart(form)
    };
    let upload = |k: &str, fields: &[(&str, &str)]| upload_bytes(k, fields, PERSON);
    // A job with a webhook, run to the end.
    let r = upload(&key, &[("webhook_url", &hook)])
        .send()
        .await
        .unwrap();
    let job: serde_json::Value = r.json().await.unwrap();
    let job = job["job_id"].as_str().unwrap().to_owned();
    for _ in 0..600 {
        let s: serde_json::Value = client
            .get(format!("{base}/api/v1/status?job_id={job}"))
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if s["state"] == "done" && !hooks.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        !hooks.lock().unwrap().is_empty(),
        "the webhook was delivered"
    );
    // Bad keys that look like real ones, bad input, a bearer key, the remove.bg family.
    let near_miss = format!("{}x", key);
    for r in [
        // A refused key is answered before the body is read, and the connection closed: a small
        // body is sent whole before that, so the client reads the answer instead of a reset.
        upload_bytes(&near_miss, &[], b"tiny"),
        upload(&key, &[("bg_color", "nope")]),
        client
            .get(format!("{base}/api/v1/account"))
            .header("authorization", format!("Bearer {near_miss}")),
        client
            .post(format!("{base}/v1.0/removebg"))
            .header("x-api-key", &near_miss)
            .body("x"),
        client
            .get(format!(
                "{base}/v1/jobs/00000000-0000-0000-0000-000000000000"
            ))
            .header("x-api-key", &key),
    ] {
        bodies.push(r.send().await.unwrap().text().await.unwrap());
    }
    server.kill();
    let config_print = String::from_utf8(stdout_of(
        cutout()
            .args(["config", "print", "--config"])
            .arg(&cfg)
            .output()
            .unwrap(),
    ))
    .unwrap();
    let log = log.lock().unwrap().join("\n");
    assert!(log.lines().count() > 10, "the log was read: {log}");
    let hook_bodies = hooks.lock().unwrap().join("\n");
    for (what, secret) in [
        ("API key", key.as_str()),
        ("webhook secret", &webhook_secret),
        ("signing secret", SIGNING),
    ] {
        assert!(!log.contains(secret), "the log holds the {what}");
        assert!(
            !config_print.contains(secret),
            "`config print` shows the {what}"
        );
        for b in &bodies {
            assert!(!b.contains(secret), "an error body holds the {what}: {b}");
        }
        assert!(
            !hook_bodies.contains(secret),
            "a webhook carries the {what}"
        );
    }
    assert!(
        !log.contains(&near_miss),
        "the log holds a presented (wrong) key"
    );
}
