//! `cutout config print`, `cutout keys ...` and `cutout worker` as an operator runs them.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cutout_testkit::cli::{stdout_of, Cli};
use cutout_testkit::require;

/// A plain HTTP/1.0 GET on loopback: (status, body). Blocking, as these tests are.
mod plain_http {
    use std::io::{Read, Write};

    pub fn get(url: &str) -> (u16, String) {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_once('/').unwrap();
        let mut s = std::net::TcpStream::connect(host).unwrap();
        write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text[9..12].parse().unwrap();
        let body = text.split_once("\r\n\r\n").map_or("", |b| b.1).to_owned();
        (status, body)
    }
}

fn cutout() -> Command {
    Cli::new(env!("CARGO_BIN_EXE_cutout")).cmd()
}

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let d = dir.display();
    let path = dir.join("c.toml");
    let text = format!(
        "[server]\nworker_bind = \"127.0.0.1:0\"\n\
         [storage]\ndatabase_url = \"sqlite://{d}/db\"\nblob_url = \"file://{d}/blobs\"\n\
         [security]\nsigning_secret_file = \"{d}/key\"\n[jobs]\ndefault_model = \"u2netp\"\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn config_print_masks_secrets_and_applies_env_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let out = cutout()
        .args(["config", "print", "-c"])
        .arg(config(dir.path()))
        .env("CUTOUT_SECURITY__SIGNING_SECRET", "hunter2-very-secret")
        .env("CUTOUT_LIMITS__MAX_MEGAPIXELS", "12.5")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("signing_secret = \"***\""), "{text}");
    assert!(text.contains("max_megapixels = 12.5"), "{text}");
    let bad = cutout()
        .args(["config", "print"])
        .env("CUTOUT_LIMITS__NO_SUCH_KEY", "1")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "unknown keys are refused");
}

#[test]
fn keys_create_list_credit_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let out = cutout()
        .args([
            "keys",
            "create",
            "--name",
            "ops",
            "--credits",
            "3",
            "--scopes",
            "images:write,images:read",
            "-c",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    let text = String::from_utf8(stdout_of(out)).unwrap();
    let field = |name: &str| crate::printed(&text, name);
    let (key, key_id, account) = (field("key:"), field("key id:"), field("account id:"));
    assert!(key.starts_with("ck_") && key.len() == 67);
    let list = cutout()
        .args(["keys", "list", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(
        list.contains(&key_id) && !list.contains(&key),
        "listing shows ids, never keys"
    );
    let credit = cutout()
        .args(["keys", "credit", &account, "7", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(String::from_utf8(credit.stdout)
        .unwrap()
        .contains("balance 10"));
    let below = cutout()
        .args(["keys", "credit", &account, "-11", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(below.status.code(), Some(2));
    let bad_scope = cutout()
        .args(["keys", "create", "--name", "x", "--scopes", "root", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(bad_scope.status.code(), Some(2));
    assert!(cutout()
        .args(["keys", "revoke", &key_id, "-c"])
        .arg(&cfg)
        .status()
        .unwrap()
        .success());
    assert!(!cutout()
        .args(["keys", "revoke", &key_id, "-c"])
        .arg(&cfg)
        .status()
        .unwrap()
        .success());
}

#[test]
fn worker_runs_without_http_and_stops_on_sigterm() {
    require!(Models);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let mut child = cutout()
        .args(["worker", "-c"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Its log says when it is up; a worker that exits first ends the stream instead.
    let mut log = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("worker started") {
        let mut line = String::new();
        assert!(
            log.read_line(&mut line).unwrap() > 0,
            "worker exited: {seen}"
        );
        seen.push_str(&line);
    }
    // Its small port answers health, readiness and metrics, and nothing of the API.
    let line = seen.lines().find(|l| l.contains("worker started")).unwrap();
    let port = serde_json::from_str::<serde_json::Value>(line).unwrap()["port"]
        .as_u64()
        .unwrap();
    let get = |path: &str| {
        let url = format!("http://127.0.0.1:{port}{path}");
        plain_http::get(&url)
    };
    assert_eq!(get("/healthz"), (200, "ok".to_owned()));
    assert_eq!(get("/readyz").0, 200);
    assert!(get("/metrics").1.contains("# EOF"));
    assert_eq!(get("/api/v1/account").0, 404);
    Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    // A bound on the wait, so a worker that ignores SIGTERM fails the test instead of hanging it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("worker ignored SIGTERM: {seen}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    log.read_to_string(&mut seen).unwrap();
    assert!(status.success(), "{status}: {seen}");
    assert!(seen.contains("shutting down"), "{seen}");
}

/// `cutout store copy` between two embedded installs (no other service): the key, its account
/// and a blob arrive; copying into a target that already has data is refused.
#[test]
fn store_copy_moves_an_install_and_verifies_counts() {
    let dir = tempfile::tempdir().unwrap();
    let src = config(dir.path());
    stdout_of(
        cutout()
            .args(["keys", "create", "--name", "moved", "--credits", "7", "-c"])
            .arg(&src)
            .output()
            .unwrap(),
    );
    std::fs::create_dir_all(dir.path().join("blobs/inputs")).unwrap();
    std::fs::write(dir.path().join("blobs/inputs/x"), b"blob").unwrap();
    let to = tempfile::tempdir().unwrap();
    let copy = |target: &std::path::Path| {
        cutout()
            .args(["store", "copy", "--from"])
            .arg(format!("sqlite://{}/db", dir.path().display()))
            .arg("--to")
            .arg(format!("sqlite://{}/db", target.display()))
            .arg("--blobs-from")
            .arg(format!("file://{}/blobs", dir.path().display()))
            .arg("--blobs-to")
            .arg(format!("file://{}/blobs", target.display()))
            .output()
            .unwrap()
    };
    let text = String::from_utf8(stdout_of(copy(to.path()))).unwrap();
    assert!(text.contains("counts verified"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("api_keys") && l.ends_with(" 1 rows")),
        "{text}"
    );
    assert_eq!(
        std::fs::read(to.path().join("blobs/inputs/x")).unwrap(),
        b"blob"
    );
    let listed = cutout()
        .args(["keys", "list", "-c"])
        .arg(config(to.path()))
        .output()
        .unwrap();
    assert!(String::from_utf8(stdout_of(listed))
        .unwrap()
        .contains("moved"));
    let again = copy(to.path());
    assert!(!again.status.success(), "a second copy must not merge");
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty"));
}
