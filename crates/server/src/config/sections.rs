//! The sections besides `[video]`, each with its documented defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Secret;

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
    /// Where `cutout worker` answers `/healthz`, `/readyz` and `/metrics` (no API there).
    pub worker_bind: SocketAddr,
    /// Seconds a client has to send a request's headers; then the connection is closed
    /// (a client that sends part of them and stalls cannot hold it).
    pub header_read_timeout_secs: u64,
    /// Largest request head (request line and headers), in bytes; more is answered 431.
    pub max_header_bytes: usize,
    /// Connections served at once; more wait in the listen queue until one closes.
    pub max_connections: usize,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Which database: `type = "sqlite"` (`path`, `max_connections`) or `type = "postgres"`
    /// (`url`, `max_connections`).
    pub database: cutout_store::DatabaseConfig,
    /// Which blob store: `type = "local"` (`root`) or `type = "s3"` (`endpoint`, `bucket`,
    /// `region`, `access_key_id`, `secret_access_key`, `public_url`, `create_bucket`).
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
    /// Most XML nodes an SVG input may have (parsed before it is rasterised).
    pub svg_max_nodes: u32,
    /// Deepest element nesting an SVG input may have.
    pub svg_max_depth: u32,
    /// Jobs queued or running at once; beyond it uploads get 503 with `Retry-After`.
    pub max_pending_jobs: u64,
    /// Megapixels of images decoded or processed at once, across jobs and inline calls: work
    /// waits for its share (read from the header) before decoding, so many large images at once
    /// cannot exhaust memory. Each megapixel in flight costs about 40 MB at peak.
    pub max_megapixels_in_flight: f64,
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
    /// How often a worker process looks for orphaned job blobs (an input stored by an API node
    /// that died before recording its job; a published result a re-run replaced). 0: never.
    pub sweep_interval_secs: u64,
    /// Blobs younger than this are never orphans: their job may be being recorded now.
    pub orphan_grace_secs: u64,
}

/// Inference: which engine runs the models, where, and how much of the machine it takes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct InferenceConfig {
    /// `auto` (OpenVINO bf16 on CPUs with native bf16 where OpenVINO is installed, else ONNX
    /// Runtime f32), `onnxruntime` or `openvino`.
    pub engine: cutout_core::EngineChoice,
    /// `auto`, `f32` or `bf16` (OpenVINO only).
    pub precision: cutout_core::PrecisionChoice,
    /// `cpu`, or `cuda` (ONNX Runtime's CUDA provider; opt-in install, see the README).
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
            precision: Default::default(),
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
            worker_bind: SocketAddr::from(([127, 0, 0, 1], 9091)),
            header_read_timeout_secs: 5,
            max_header_bytes: 16 << 10,
            max_connections: 1024,
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
            svg_max_nodes: 200_000,
            svg_max_depth: 256,
            max_pending_jobs: 1000,
            max_megapixels_in_flight: 200.0,
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
            sweep_interval_secs: 600,
            orphan_grace_secs: 3600,
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
