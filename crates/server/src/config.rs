//! Configuration: documented defaults, then an optional TOML file, then `CUTOUT_*` environment
//! variables (`CUTOUT_LIMITS__MAX_INPUT_BYTES=...`: a double underscore separates the section).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize, Serializer};

/// A value that must never be printed: `Debug` and `Serialize` show `***`.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "" } else { "***" })
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub security: SecurityConfig,
    pub limits: LimitsConfig,
    pub jobs: JobsConfig,
    pub inference: InferenceConfig,
    pub fetch: FetchConfig,
    pub webhooks: WebhookConfig,
    pub log: LogConfig,
    pub video: VideoConfig,
}

/// Video uploads and jobs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct VideoConfig {
    /// Largest upload, in bytes, enforced while streaming.
    pub max_bytes: u64,
    /// Longest accepted video, in seconds (from the probe, before any decoding).
    pub max_duration_secs: f64,
    /// Largest frame, in pixels.
    pub max_frame_pixels: u64,
    /// Credits per minute of video, by API model name (charged per started second).
    pub credits_per_minute: std::collections::BTreeMap<String, u32>,
    /// A video job's deadline; past it ffmpeg is killed and the attempt fails.
    pub job_timeout_secs: u64,
    /// How long a worker may take to download a remote `video_url` (up to `max_bytes`).
    pub fetch_timeout_secs: u64,
    /// ffmpeg and ffprobe (found on PATH by default).
    pub ffmpeg: String,
    pub ffprobe: String,
}

impl Default for VideoConfig {
    fn default() -> Self {
        Self {
            max_bytes: 500 << 20,
            max_duration_secs: 600.0,
            max_frame_pixels: 3840 * 2160,
            // The vendor's list (NOTES.md §2).
            credits_per_minute: [("original", 60), ("light", 45), ("pro", 180), ("human", 45)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            job_timeout_secs: 3600,
            fetch_timeout_secs: 600,
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
        }
    }
}

impl VideoConfig {
    pub fn tools(&self) -> cutout_video::Tools {
        cutout_video::Tools {
            ffmpeg: self.ffmpeg.clone().into(),
            ffprobe: self.ffprobe.clone().into(),
            probe_timeout: std::time::Duration::from_secs(30),
        }
    }

    /// Pipeline options carrying this config's limits (the format and background are the job's).
    pub fn limits(&self) -> cutout_video::VideoOptions {
        cutout_video::VideoOptions {
            max_duration_secs: self.max_duration_secs,
            max_frame_pixels: self.max_frame_pixels,
            deadline: std::time::Duration::from_secs(self.job_timeout_secs),
            ..Default::default()
        }
    }

    /// Credits for `secs` of video with the API model `model`, per started second.
    pub fn credits(&self, model: &str, secs: f64) -> i64 {
        let per_minute = self.credits_per_minute.get(model).copied().unwrap_or(60) as i64;
        (secs.ceil() as i64 * per_minute + 59) / 60
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// The URL clients reach this server at; signed result URLs start with it.
    /// Empty: `http://` + the bound address.
    pub public_url: String,
    /// Seconds a request may take before it is answered 503.
    pub request_timeout_secs: u64,
    /// Largest JSON body, in bytes.
    pub max_json_bytes: usize,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Which database (`type = "sqlite"`, `path`, `max_connections`).
    pub database: cutout_store::DatabaseConfig,
    /// Which blob store (`type = "local"`, `root`).
    pub blobs: cutout_store::BlobsConfig,
    /// Deprecated spellings, still read: `database_url = "sqlite://PATH"`,
    /// `database_max_connections`, `blob_url = "file://DIR"` (see [`Config::load`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_max_connections: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob_url: Option<String>,
    /// Public base URL of published results (`delivery_mode=final_url`), e.g. a bucket or CDN.
    /// Empty: this server publishes them under `{public_url}/files/`.
    pub public_base_url: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Key for signing result URLs. Empty: read from (or created in) `signing_secret_file`.
    /// Every API node of one deployment needs the same value.
    pub signing_secret: Secret,
    pub signing_secret_file: PathBuf,
    /// Lifetime of a signed result URL, in seconds.
    pub signed_url_ttl_secs: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest accepted input image (upload or fetched), in bytes.
    pub max_input_bytes: u64,
    /// Largest accepted image, in megapixels (checked from the header before decoding).
    pub max_megapixels: f64,
    /// Longest accepted image side, in pixels.
    pub max_side: u32,
    /// Jobs queued or running at once; beyond it uploads get 503 with `Retry-After`.
    pub max_pending_jobs: u64,
    /// Add-on cut-outs made inline (the bg_remove add-on answers with the image) at once; more
    /// wait, up to the request deadline, then get 503.
    pub max_inline_jobs: usize,
    /// Requests per minute per key (0 turns rate limiting off).
    pub rate_limit_per_minute: u32,
    /// Requests a key may burst above the steady rate.
    pub rate_limit_burst: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Run workers in this process (`cutout serve`); `cutout worker` runs only workers.
    pub run_workers: bool,
    /// Concurrent jobs per process; 0 = one per CPU core.
    pub workers: usize,
    /// Deprecated spellings of `inference.sessions`, `inference.threads`, `inference.spinning`,
    /// `inference.default_model` and `inference.data_dir`, still read (see [`Config::load`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inference_sessions: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inference_threads: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inference_spinning: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Credits one image job costs.
    pub credits_per_image: i64,
    pub max_attempts: u32,
    pub heartbeat_secs: u64,
    /// A running job whose heartbeat is older than this is re-queued.
    pub stale_after_secs: u64,
    /// First retry delay; doubles per attempt.
    pub retry_backoff_secs: u64,
    /// On shutdown, in-flight jobs get this long to finish before they are re-queued.
    pub shutdown_grace_secs: u64,
    /// Idle workers poll the queue this often (uploads also wake them directly).
    pub poll_interval_ms: u64,
}

/// Inference: which engine runs the models, where, and how much of the machine it takes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct InferenceConfig {
    /// `onnxruntime` (the only engine so far).
    pub engine: cutout_core::EngineKind,
    /// `cpu` (the only device so far).
    pub device: cutout_core::Device,
    /// Inferences at once, per model; 0 = cores / threads.
    pub sessions: usize,
    /// Threads per inference; 0 = up to 4 (cores / sessions when those are set).
    pub threads: usize,
    /// Let idle inference threads spin-wait (lower latency alone, less throughput when jobs share
    /// the cores).
    pub spinning: bool,
    /// Model used when a request names none.
    pub default_model: String,
    /// Where models and the engine's library live (see `cutout models`). Empty: the default.
    pub data_dir: Option<PathBuf>,
}

impl Default for InferenceConfig {
    fn default() -> Self {
        Self {
            engine: Default::default(),
            device: Default::default(),
            sessions: 0,
            threads: 0,
            spinning: false,
            default_model: "u2net".into(),
            data_dir: None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FetchConfig {
    pub timeout_secs: u64,
    pub connect_timeout_secs: u64,
    pub max_redirects: usize,
    /// Hosts (names or IPs) exempt from the private-address check. Empty by default; tests use it
    /// to reach a local server. Never put anything here on a server that faces the internet.
    pub allow_hosts: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    pub timeout_secs: u64,
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt, capped at one hour.
    pub retry_backoff_secs: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `json` or `pretty`.
    pub format: String,
    /// A `tracing` filter, e.g. `info` or `cutout_server=debug,info`.
    pub level: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: String::new(),
            request_timeout_secs: 120,
            max_json_bytes: 1 << 20,
        }
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            signing_secret: Secret::default(),
            signing_secret_file: "cutout-data/signing.key".into(),
            signed_url_ttl_secs: 3600,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_input_bytes: 32 << 20,
            max_megapixels: 50.0,
            max_side: 20_000,
            max_pending_jobs: 1000,
            max_inline_jobs: 4,
            rate_limit_per_minute: 600,
            rate_limit_burst: 60,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            run_workers: true,
            workers: 0,
            inference_sessions: None,
            inference_threads: None,
            inference_spinning: None,
            credits_per_image: 1,
            max_attempts: 3,
            heartbeat_secs: 5,
            stale_after_secs: 30,
            retry_backoff_secs: 2,
            shutdown_grace_secs: 30,
            poll_interval_ms: 1000,
            default_model: None,
            data_dir: None,
        }
    }
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            timeout_secs: 20,
            connect_timeout_secs: 5,
            max_redirects: 5,
            allow_hosts: Vec::new(),
        }
    }
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            timeout_secs: 10,
            max_attempts: 8,
            retry_backoff_secs: 5,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "json".into(),
            level: "info".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Defaults, then `file` (if given), then `CUTOUT_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError(format!(
                    "config file {} not found",
                    f.display()
                )));
            }
            fig = fig.merge(Toml::file(f));
        }
        // `CUTOUT_DATA_DIR` belongs to the model installer; only sectioned names are ours.
        let env = Env::prefixed("CUTOUT_")
            .filter(|k| k.as_str().contains("__"))
            .split("__");
        let mut config = fig
            .merge(env)
            .extract::<Config>()
            .map_err(|e| ConfigError(e.to_string()))?;
        config.adopt_old_keys()?;
        Ok(config)
    }

    /// Moves settings given under their old names to their sections now (`[storage]
    /// database_url`, `blob_url`; `[jobs] inference_*`, `default_model`, `data_dir`), so configs
    /// written for earlier versions keep working.
    fn adopt_old_keys(&mut self) -> Result<(), ConfigError> {
        let storage = &mut self.storage;
        let connections = storage.database_max_connections.take();
        if let Some(url) = storage.database_url.take() {
            storage.database =
                cutout_store::DatabaseConfig::from_url(&url, connections.unwrap_or(8))
                    .map_err(|e| ConfigError(e.to_string()))?;
        } else if let Some(n) = connections {
            let cutout_store::DatabaseConfig::Sqlite {
                max_connections, ..
            } = &mut storage.database;
            *max_connections = n;
        }
        if let Some(url) = storage.blob_url.take() {
            storage.blobs = cutout_store::BlobsConfig::from_url(&url)
                .map_err(|e| ConfigError(e.to_string()))?;
        }
        let (jobs, inf) = (&mut self.jobs, &mut self.inference);
        if let Some(v) = jobs.inference_sessions.take() {
            inf.sessions = v;
        }
        if let Some(v) = jobs.inference_threads.take() {
            inf.threads = v;
        }
        if let Some(v) = jobs.inference_spinning.take() {
            inf.spinning = v;
        }
        if let Some(v) = jobs.default_model.take() {
            inf.default_model = v;
        }
        if let Some(v) = jobs.data_dir.take() {
            inf.data_dir = Some(v);
        }
        Ok(())
    }

    /// The effective configuration as TOML, secrets masked.
    pub fn to_masked_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}"))
    }

    /// Worker count with `0` resolved to the machine's cores.
    pub fn worker_count(&self) -> usize {
        match self.jobs.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_everywhere() {
        let mut c = Config::default();
        c.security.signing_secret = Secret::new("hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!c.to_masked_toml().contains("hunter2"));
        assert!(c.to_masked_toml().contains("signing_secret = \"***\""));
    }

    #[test]
    fn file_then_env_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[limits]\nmax_megapixels = 12.5\nmax_side = 9000\n").unwrap();
        #[allow(clippy::result_large_err)] // figment's own test harness signature
        figment::Jail::expect_with(|jail| {
            jail.set_env("CUTOUT_LIMITS__MAX_SIDE", "4000");
            let c = Config::load(Some(&f)).unwrap();
            assert_eq!(c.limits.max_megapixels, 12.5);
            assert_eq!(c.limits.max_side, 4000);
            assert_eq!(c.jobs.max_attempts, JobsConfig::default().max_attempts);
            Ok(())
        });
    }

    #[test]
    fn old_inference_keys_still_apply() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        let old = "[jobs]\ninference_threads = 3\ndefault_model = \"u2netp\"\ndata_dir = \"/m\"\n";
        std::fs::write(&f, old).unwrap();
        #[allow(clippy::result_large_err)] // figment's own test harness signature
        figment::Jail::expect_with(|_| {
            let c = Config::load(Some(&f)).unwrap();
            assert_eq!(c.inference.threads, 3);
            assert_eq!(c.inference.default_model, "u2netp");
            assert_eq!(c.inference.data_dir.as_deref(), Some(Path::new("/m")));
            assert_eq!(c.jobs.default_model, None, "moved, not shown twice");
            let printed = c.to_masked_toml();
            assert!(printed.contains("[inference]") && !printed.contains("inference_threads"));
            Ok(())
        });
    }

    #[test]
    fn storage_takes_the_tagged_form_and_the_old_urls() {
        let dir = tempfile::tempdir().unwrap();
        let (new, old) = (dir.path().join("new.toml"), dir.path().join("old.toml"));
        let tagged = "[storage.database]\ntype = \"sqlite\"\npath = \"/d/c.db\"\n\
                      [storage.blobs]\ntype = \"local\"\nroot = \"/d/b\"\n";
        std::fs::write(&new, tagged).unwrap();
        let urls = "[storage]\ndatabase_url = \"sqlite:///d/c.db\"\nblob_url = \"file:///d/b\"\n";
        std::fs::write(&old, urls).unwrap();
        #[allow(clippy::result_large_err)] // figment's own test harness signature
        figment::Jail::expect_with(|jail| {
            let a = Config::load(Some(&new)).unwrap();
            let b = Config::load(Some(&old)).unwrap();
            assert_eq!(a.storage, b.storage);
            assert_eq!(
                a.storage.blobs,
                cutout_store::BlobsConfig::Local {
                    root: "/d/b".into()
                }
            );
            jail.set_env("CUTOUT_STORAGE__DATABASE__PATH", "/e/c.db");
            let c = Config::load(Some(&new)).unwrap();
            let cutout_store::DatabaseConfig::Sqlite { path, .. } = &c.storage.database;
            assert_eq!(path, Path::new("/e/c.db"));
            std::fs::write(&old, "[storage]\ndatabase_url = \"mysql://x\"\n").unwrap();
            assert!(Config::load(Some(&old)).is_err());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[limits]\nmax_megapixel = 1\n").unwrap();
        assert!(Config::load(Some(&f)).is_err());
    }
}
