//! Configuration: documented defaults, then an optional TOML file, then `CUTOUT_*` environment
//! variables (`CUTOUT_LIMITS__MAX_INPUT_BYTES=...`: a double underscore separates the section).

mod removebg;
mod sections;
#[cfg(test)]
mod tests;
mod video;

use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

pub use removebg::RemoveBgConfig;
pub use sections::*;
pub use video::VideoConfig;

/// A value that must never be printed (`Debug` and `Serialize` show `***`): the store's type,
/// so the database's and the server's secrets are masked the same way.
pub use cutout_store::Secret;

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
    pub removebg: RemoveBgConfig,
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
    /// written for earlier versions keep working. A value set under the new name (in the file or
    /// the environment) wins over an old one.
    fn adopt_old_keys(&mut self) -> Result<(), ConfigError> {
        let storage = &mut self.storage;
        let connections = storage.database_max_connections.take();
        let default_db = cutout_store::DatabaseConfig::default();
        if let Some(url) = storage.database_url.take() {
            if storage.database == default_db {
                storage.database =
                    cutout_store::DatabaseConfig::from_url(&url, connections.unwrap_or(8))
                        .map_err(|e| ConfigError(e.to_string()))?;
            }
        } else if let (Some(n), true) = (connections, storage.database == default_db) {
            // The default is SQLite; the old key only ever tuned its pool.
            if let cutout_store::DatabaseConfig::Sqlite {
                max_connections, ..
            } = &mut storage.database
            {
                *max_connections = n;
            }
        }
        if let Some(url) = storage.blob_url.take() {
            if storage.blobs == cutout_store::BlobsConfig::default() {
                storage.blobs = cutout_store::BlobsConfig::from_url(&url)
                    .map_err(|e| ConfigError(e.to_string()))?;
            }
        }
        let (jobs, inf, default) = (
            &mut self.jobs,
            &mut self.inference,
            InferenceConfig::default(),
        );
        adopt(
            &mut jobs.inference_sessions,
            &mut inf.sessions,
            default.sessions,
        );
        adopt(
            &mut jobs.inference_threads,
            &mut inf.threads,
            default.threads,
        );
        adopt(
            &mut jobs.inference_spinning,
            &mut inf.spinning,
            default.spinning,
        );
        adopt(
            &mut jobs.default_model,
            &mut inf.default_model,
            default.default_model,
        );
        if let (Some(v), None) = (jobs.data_dir.take(), &inf.data_dir) {
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

/// Takes an old key's value into its new place unless the new key was set (differs from its
/// default).
fn adopt<T: PartialEq>(old: &mut Option<T>, new: &mut T, default: T) {
    if let Some(v) = old.take() {
        if *new == default {
            *new = v;
        }
    }
}
