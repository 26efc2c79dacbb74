use thiserror::Error;

/// A storage failure. Every variant is transient from a job's point of view except `Corrupt`.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("blob storage I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("object storage error: {0}")]
    Object(String),
    #[error("invalid blob key {0:?}")]
    BadKey(String),
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error("unsupported storage configuration: {0}")]
    Config(String),
}

impl StoreError {
    /// A stable machine code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Db(_) => "db_error",
            Self::Migrate(_) => "db_migration",
            Self::Io(_) => "blob_io",
            Self::Object(_) => "object_store",
            Self::BadKey(_) => "blob_bad_key",
            Self::Corrupt(_) => "corrupt_record",
            Self::Config(_) => "storage_config",
        }
    }
}
