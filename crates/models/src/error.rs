use std::path::PathBuf;

/// Errors of the manifest and installer. Each variant has a stable machine code.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    #[error("unknown model `{0}`; known models: {1}")]
    UnknownModel(String, String),
    #[error("model `{name}` is not installed ({path}); install it with `{command}`")]
    NotInstalled {
        name: String,
        path: PathBuf,
        command: String,
    },
    #[error("the ONNX Runtime library is not installed ({0}); install it with `cutout models install --runtime`")]
    RuntimeMissing(PathBuf),
    #[error("{engine} is not installed ({path}); install it with `{command}`")]
    EngineMissing {
        engine: &'static str,
        path: PathBuf,
        command: &'static str,
    },
    #[error("`{program}` failed while fetching {package}: {detail}")]
    Fetch {
        program: String,
        package: String,
        detail: String,
    },
    #[error("`{path}` was not found inside the package {package}")]
    NotInPackage { package: String, path: String },
    #[error("sha256 mismatch for {name}: expected {expected}, got {actual}")]
    Checksum {
        name: String,
        expected: String,
        actual: String,
    },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the package archive: {0}")]
    Archive(String),
    #[error("cannot import the model: {0}")]
    BadImport(String),
}

impl ModelsError {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownModel(..) => "unknown_model",
            Self::NotInstalled { .. } => "model_not_installed",
            Self::RuntimeMissing(_) => "runtime_not_installed",
            Self::EngineMissing { .. } => "engine_not_installed",
            Self::Fetch { .. } => "fetch_failed",
            Self::NotInPackage { .. } => "not_in_package",
            Self::Checksum { .. } => "checksum_mismatch",
            Self::Io { .. } => "io_error",
            Self::Archive(_) => "bad_archive",
            Self::BadImport(_) => "bad_import",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

/// Why an imported model file was refused by the check its import runs (its graph does not
/// fit the family, or the engine cannot open it): the reason, in words for the operator.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ModelRejected(pub String);
