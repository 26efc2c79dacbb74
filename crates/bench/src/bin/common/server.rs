//! A real `cutout serve` for the HTTP benchmarks: its own data folder and key, the port read
//! from its log, killed when dropped; and its resident memory and open files from /proc.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident set size of a process, in MB.
pub fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Samples a process's RSS every `every` until dropped; [`PeakRss::mb`] is the highest seen.
pub struct PeakRss {
    peak: std::sync::Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakRss {
    pub fn start(pid: u32, every: std::time::Duration) -> PeakRss {
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let seen = peak.clone();
        let task = tokio::spawn(async move {
            loop {
                seen.fetch_max(rss_mb(pid) as u64, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(every).await;
            }
        });
        PeakRss { peak, task }
    }

    pub fn mb(&self) -> u64 {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for PeakRss {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Open file descriptors of a process.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// A key with ample credits, made by `cutout keys create` on the config `cfg`.
pub fn create_key(cutout: &Path, cfg: &Path) -> Result<String, BoxError> {
    let out = Command::new(cutout)
        .args([
            "keys",
            "create",
            "--name",
            "bench",
            "--credits",
            "100000000",
            "-c",
        ])
        .arg(cfg)
        .output()?;
    let key = String::from_utf8(out.stdout)?
        .lines()
        .find_map(|l| l.strip_prefix("key:"))
        .ok_or("no key printed")?
        .trim()
        .to_owned();
    Ok(key)
}

/// Starts `cutout serve` on SQLite and local disk in `dir`, with `extra` appended to its config
/// (sections other than `[server]`, `[storage]`, `[security]` and `[log]`), and a key with ample
/// credits.
pub fn start(cutout: &Path, dir: &Path, extra: &str) -> Result<(Server, String), BoxError> {
    std::fs::create_dir_all(dir)?;
    let d = dir.display();
    let cfg = dir.join("cutout.toml");
    std::fs::write(
        &cfg,
        format!(
            "[server]\nbind = \"127.0.0.1:0\"\n[storage]\ndatabase_url = \"sqlite://{d}/cutout.db\"\n\
             blob_url = \"file://{d}/blobs\"\n[security]\nsigning_secret_file = \"{d}/signing.key\"\n\
             [log]\nlevel = \"warn,cutout::serve=info\"\n{extra}"
        ),
    )?;
    let key = create_key(cutout, &cfg)?;
    let mut child = Command::new(cutout)
        .args(["serve", "-c"])
        .arg(&cfg)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let port = loop {
        let line = lines.next().ok_or("cutout serve exited")??;
        let v: Value = serde_json::from_str(&line).unwrap_or_default();
        if v["message"] == "listening" {
            break v["port"].as_u64().ok_or("no port")? as u16;
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    Ok((Server { child, port }, key))
}
