//! Which backends to open, as the config file names them (`[storage.database]` and
//! `[storage.blobs]`, each with a `type`), plus the older URL spellings.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{BlobStore, LocalBlobs, Repo, StoreError};

/// The database: `type = "sqlite"` with its `path`.
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
}

/// The blob store: `type = "local"` with its `root` directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BlobsConfig {
    Local {
        /// Blobs are files under this directory.
        root: PathBuf,
    },
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
    /// The older spelling: `sqlite://PATH` or a bare path.
    pub fn from_url(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let path = match url.split_once("://") {
            Some(("sqlite", path)) => path,
            None => url,
            Some(_) => "",
        };
        match path {
            "" => Err(StoreError::Config(format!(
                "database URL {url:?} is not supported (use [storage.database] type = \"sqlite\")"
            ))),
            path => Ok(Self::Sqlite {
                path: PathBuf::from(path),
                max_connections,
            }),
        }
    }
}

impl BlobsConfig {
    /// The older spelling: `file://DIR` or a bare path.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        match url.split_once("://") {
            Some(("file", dir)) => Ok(Self::Local { root: dir.into() }),
            None if !url.is_empty() => Ok(Self::Local { root: url.into() }),
            _ => Err(StoreError::Config(format!(
                "blob URL {url:?} is not supported (use [storage.blobs] type = \"local\")"
            ))),
        }
    }
}

/// Opens (and migrates) the configured database.
pub async fn open_repo(config: &DatabaseConfig) -> Result<Arc<dyn Repo>, StoreError> {
    match config {
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

/// Opens the configured blob store.
pub async fn open_blobs(config: &BlobsConfig) -> Result<Arc<dyn BlobStore>, StoreError> {
    match config {
        BlobsConfig::Local { root } => Ok(Arc::new(LocalBlobs::open(root).await?)),
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
        assert!(DatabaseConfig::from_url("postgres://x/y", 4).is_err());
        assert_eq!(
            BlobsConfig::from_url("file:///srv/b").unwrap(),
            BlobsConfig::Local {
                root: "/srv/b".into()
            }
        );
        assert!(BlobsConfig::from_url("s3://bucket").is_err());
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
}
