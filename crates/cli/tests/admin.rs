//! `cutout config print`, `cutout keys ...` and `cutout worker` as an operator runs them.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn cutout() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cutout"))
}

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let d = dir.display();
    let path = dir.join("c.toml");
    let text = format!(
        "[storage]\ndatabase_url = \"sqlite://{d}/db\"\nblob_url = \"file://{d}/blobs\"\n\
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .trim()
            .to_owned()
    };
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
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let mut child = cutout()
        .args(["worker", "-c"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "worker exited on its own"
    );
    Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "worker ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert!(
        log.contains("worker started") && log.contains("shutting down"),
        "{log}"
    );
}
