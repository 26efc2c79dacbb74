//! `cutout serve` and `cutout worker` as real processes: started from a config file, readiness
//! read from their JSON log, killed with SIGKILL when a test (or its failure) drops them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::cli::stdout_of;

/// A running `cutout` process; dropping it kills it, so no process outlives a failed test.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

/// Runs `cmd` (a `cutout` command with its subcommand and config) and waits for the JSON log
/// line whose message is `ready`, returning it (it carries the port). The rest of the log is
/// drained in the background, warnings and errors echoed.
pub fn start(mut cmd: Command, ready: &str) -> (Server, Value) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let found = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the process exited before {ready:?}"))
            .unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_default();
        if v["message"] == ready {
            break v;
        }
    };
    // Keep draining the log so the process never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if line.contains("ERROR") || line.contains("WARN") {
                eprintln!("cutout: {line}");
            }
        }
    });
    (Server(child), found)
}

/// As [`start`], keeping every log line (for tests that read the whole log).
pub fn start_logged(
    mut cmd: Command,
    ready: &str,
) -> (Server, Value, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let found = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the process exited before {ready:?}"))
            .unwrap();
        log.lock().unwrap().push(line.clone());
        let v: Value = serde_json::from_str(&line).unwrap_or_default();
        if v["message"] == ready {
            break v;
        }
    };
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (Server(child), found, log)
}

/// `cutout keys create` with `credits` on the database `config` names; returns the key.
pub fn create_key(mut cmd: Command, config: &Path, credits: i64) -> String {
    let out = cmd
        .args(["keys", "create", "--name", "test", "--credits"])
        .arg(credits.to_string())
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    let text = String::from_utf8(stdout_of(out)).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("key:"))
        .unwrap()
        .trim()
        .to_owned()
}
