//! Which backends to open, as the config file names them (`[storage.database]` and
//! `[storage.blobs]`, each with a `type`), plus the older URL spellings.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use crate::blob::S3Config;
pub use crate::secret::{DatabaseUrl, Secret};

use crate::{BlobStore, LocalBlobs, Repo, StoreError};

/// The database: `type = "sqlite"` with its `path` (embedded, one node), or
/// `type = "postgres"` with its `url` (shared by many API nodes and worker processes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DatabaseConfig {
    Sqlite {
        /// The database file (created, with its directory, on first start).
        path: PathBuf,
        /// Connections in the pool (writers are serialised by SQLite anyway). Default: 8.
        #[serde(default = "default_connections")]
        max_connections: u32,
    },
    Postgres {
        /// `postgres://user:password@host:port/database`; the password never appears in logs.
        url: DatabaseUrl,
        /// Connections in this process's pool. Default: 8.
        #[serde(default = "default_connections")]
        max_connections: u32,
    },
}

/// The blob store: `type = "local"` with its `root` directory (one node), or `type = "s3"`
/// (shared by every node).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BlobsConfig {
    Local {
        /// Blobs are files under this directory.
        root: PathBuf,
    },
    S3(S3Config),
}

fn default_connections() -> u32 {
    8
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self::Sqlite {
            path: "cutout-data/cutout.db".into(),
            max_connections: default_connections(),
        }
    }
}

impl Default for BlobsConfig {
    fn default() -> Self {
        Self::Local {
            root: "cutout-data/blobs".into(),
        }
    }
}

impl DatabaseConfig {
    /// The URL spelling: `postgres://...`, `sqlite://PATH` or a bare path.
    pub fn from_url(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres {
                url: DatabaseUrl::new(url),
                max_connections,
            });
        }
        let path = match url.split_once("://") {
            Some(("sqlite", path)) => path,
            None => url,
            Some(_) => "",
        };
        match path {
            "" => Err(StoreError::Config(format!(
                "database URL {url:?} is not supported (use [storage.database] type = \"sqlite\" \
                 or \"postgres\")"
            ))),
            path => Ok(Self::Sqlite {
                path: PathBuf::from(path),
                max_connections,
            }),
        }
    }
}

impl BlobsConfig {
    /// The URL spelling: `file://DIR`, a bare path, or
    /// `s3://BUCKET?endpoint=URL&region=R&public_url=URL` with the credentials in the standard
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` variables (never on a command line).
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if let Some(rest) = url.strip_prefix("s3://") {
            return S3Config::from_url(rest).map(Self::S3);
        }
        match url.split_once("://") {
            Some(("file", dir)) => Ok(Self::Local { root: dir.into() }),
            None if !url.is_empty() => Ok(Self::Local { root: url.into() }),
            _ => Err(StoreError::Config(format!(
                "blob URL {url:?} is not supported (use [storage.blobs] type = \"local\")"
            ))),
        }
    }
}

/// Opens the configured database. The embedded SQLite file is migrated on open (one node owns
/// it); a shared PostgreSQL database must already be at this build's schema (`cutout migrate`).
pub async fn open_repo(config: &DatabaseConfig) -> Result<Arc<dyn Repo>, StoreError> {
    match config {
        #[cfg(feature = "postgres")]
        DatabaseConfig::Postgres {
            url,
            max_connections,
        } => Ok(Arc::new(
            crate::PgRepo::open(url.expose(), *max_connections, crate::Schema::Require).await?,
        )),
        #[cfg(not(feature = "postgres"))]
        DatabaseConfig::Postgres { .. } => Err(StoreError::Config(
            "this build has no PostgreSQL backend (cargo feature `postgres`)".into(),
        )),
        #[cfg(feature = "sqlite")]
        DatabaseConfig::Sqlite {
            path,
            max_connections,
        } => Ok(Arc::new(
            crate::SqliteRepo::open(path, *max_connections).await?,
        )),
        #[cfg(not(feature = "sqlite"))]
        DatabaseConfig::Sqlite { .. } => Err(StoreError::Config(
            "this build has no SQLite backend (cargo feature `sqlite`)".into(),
        )),
    }
}

/// Brings the configured database to this build's schema (`cutout migrate`): run once per
/// upgrade, before the new nodes start.
pub async fn migrate(config: &DatabaseConfig) -> Result<(), StoreError> {
    match config {
        #[cfg(feature = "postgres")]
        DatabaseConfig::Postgres {
            url,
            max_connections,
        } => {
            crate::PgRepo::open(url.expose(), *max_connections, crate::Schema::Migrate).await?;
            Ok(())
        }
        _ => open_repo(config).await.map(drop),
    }
}

/// Opens the configured blob store.
pub async fn open_blobs(config: &BlobsConfig) -> Result<Arc<dyn BlobStore>, StoreError> {
    match config {
        BlobsConfig::Local { root } => Ok(Arc::new(LocalBlobs::open(root).await?)),
        #[cfg(feature = "s3")]
        BlobsConfig::S3(c) => Ok(Arc::new(crate::blob::S3Blobs::open(c).await?)),
        #[cfg(not(feature = "s3"))]
        BlobsConfig::S3(_) => Err(StoreError::Config(
            "this build has no S3 backend (cargo feature `s3`)".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_urls_map_to_the_tagged_form() {
        assert_eq!(
            DatabaseConfig::from_url("sqlite:///var/c.db", 4).unwrap(),
            DatabaseConfig::Sqlite {
                path: "/var/c.db".into(),
                max_connections: 4
            }
        );
        assert_eq!(
            DatabaseConfig::from_url("postgres://u:pw@db:5432/c", 4).unwrap(),
            DatabaseConfig::Postgres {
                url: DatabaseUrl::new("postgres://u:pw@db:5432/c"),
                max_connections: 4
            }
        );
        assert!(DatabaseConfig::from_url("mysql://x/y", 4).is_err());
        assert_eq!(
            BlobsConfig::from_url("file:///srv/b").unwrap(),
            BlobsConfig::Local {
                root: "/srv/b".into()
            }
        );
        assert!(BlobsConfig::from_url("s3://bucket").is_err(), "no endpoint");
    }

    #[test]
    fn the_tag_picks_the_backend_and_unknown_ones_are_refused() {
        let db: DatabaseConfig = toml::from_str("type = \"sqlite\"\npath = \"/d.db\"\n").unwrap();
        assert_eq!(
            db,
            DatabaseConfig::Sqlite {
                path: "/d.db".into(),
                max_connections: 8
            }
        );
        assert!(toml::from_str::<DatabaseConfig>("type = \"oracle\"\npath = \"x\"\n").is_err());
    }

    #[test]
    fn passwords_stay_out_of_debug_and_display() {
        let url = DatabaseUrl::new("postgres://cutout:s3cret@db.internal:5432/cutout");
        let config = DatabaseConfig::Postgres {
            url: url.clone(),
            max_connections: 8,
        };
        let printed = toml::to_string(&config).unwrap();
        for shown in [format!("{config:?}"), url.to_string(), printed] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(
                shown.contains("cutout:***@db.internal:5432/cutout"),
                "{shown}"
            );
        }
        assert!(url.expose().contains("s3cret"));
        let key = Secret::new("k3y");
        assert!(!format!("{key:?}").contains("k3y") && key.expose() == "k3y");
        assert_eq!(toml::Value::try_from(&key).unwrap().as_str(), Some("***"));
    }
}
