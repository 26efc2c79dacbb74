use std::sync::OnceLock;

use serde::Deserialize;

use crate::ModelsError;

/// Where a package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registry {
    Pypi,
    Npm,
}

/// The ONNX Runtime shared library, shipped in the `onnxruntime` wheel.
#[derive(Debug, Clone, Deserialize)]
pub struct RuntimeEntry {
    pub name: String,
    pub registry: Registry,
    pub package: String,
    pub version: String,
    pub pip_args: Vec<String>,
    pub path: String,
    pub file: String,
    pub sha256: String,
    pub license: String,
}

/// A second engine's shared libraries, shipped together in one wheel (OpenVINO).
#[derive(Debug, Clone, Deserialize)]
pub struct EngineLibs {
    pub name: String,
    pub registry: Registry,
    pub package: String,
    pub version: String,
    pub pip_args: Vec<String>,
    /// The folder inside the wheel that holds the libraries.
    pub dir: String,
    /// The library the engine is opened through; the others are loaded beside it.
    pub entry: String,
    pub license: String,
    pub files: Vec<LibFile>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LibFile {
    pub file: String,
    pub sha256: String,
}

/// A model published on a hub, with the checksum its publisher gives.
#[derive(Debug, Clone, Deserialize)]
pub struct HubEntry {
    pub name: String,
    /// The preprocessing family (`u2net`, `isnet`, `birefnet`, `modnet`).
    pub family: String,
    pub url: String,
    pub sha256: Option<String>,
    /// Only where the publisher gives no sha256.
    pub md5: Option<String>,
    pub size_bytes: Option<u64>,
    pub license: String,
    pub summary: String,
}

/// One model file: provenance, checksum, licence and how to feed it.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelEntry {
    pub name: String,
    pub registry: Registry,
    pub package: String,
    pub version: String,
    pub pip_args: Vec<String>,
    pub package_license: String,
    /// Path inside the archive; for npm chunked models, `resources.json#/<key>`.
    pub path: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub license: String,
    pub commercial_use: bool,
    /// Copyleft models are never installed unless named.
    pub copyleft: bool,
    pub default: bool,
    /// Which preprocessing family the model belongs to (`u2net`, `modnet`, `isnet`, `rvm`).
    pub kind: String,
    /// Whether its bf16 results passed `make eval`'s gate against f32 (within 0.002 IoU and
    /// MAE, 0.003 boundary F, no more flicker): `engine = "auto"` runs it in bf16 only then.
    #[serde(default)]
    pub bf16: bool,
    pub input: String,
    pub preprocessing: String,
    pub output: String,
    pub summary: String,
}

impl ModelEntry {
    /// `name@version` as the registry's client spells it.
    pub fn package_spec(&self) -> String {
        match self.registry {
            Registry::Pypi => format!("{}=={}", self.package, self.version),
            Registry::Npm => format!("{}@{}", self.package, self.version),
        }
    }

    /// The file name the model is installed under.
    pub fn file_name(&self) -> String {
        format!("{}.onnx", self.name)
    }
}

/// The checked-in manifest.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub runtime: RuntimeEntry,
    pub openvino: EngineLibs,
    /// Well-known models published on hubs (see `catalogue`).
    #[serde(default)]
    pub hub: Vec<HubEntry>,
    #[serde(rename = "model")]
    pub models: Vec<ModelEntry>,
}

const MANIFEST_TOML: &str = include_str!("../../../models/manifest.toml");

/// The manifest compiled into this binary. It is checked by a unit test, so parsing cannot fail.
pub fn manifest() -> &'static Manifest {
    static M: OnceLock<Manifest> = OnceLock::new();
    M.get_or_init(|| toml::from_str(MANIFEST_TOML).expect("models/manifest.toml is valid (tested)"))
}

impl Manifest {
    pub fn get(&self, name: &str) -> Result<&ModelEntry, ModelsError> {
        self.models.iter().find(|m| m.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.models.iter().map(|m| m.name.as_str()).collect();
            ModelsError::UnknownModel(name.to_owned(), known.join(", "))
        })
    }

    pub fn defaults(&self) -> impl Iterator<Item = &ModelEntry> {
        self.models.iter().filter(|m| m.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parses_and_is_consistent() {
        let m = manifest();
        assert!(m.models.len() >= 5);
        for e in &m.models {
            assert_eq!(e.sha256.len(), 64, "{}", e.name);
            assert!(hex::decode(&e.sha256).is_ok(), "{}", e.name);
            // Copyleft models must never be part of the silent default install.
            assert!(
                !(e.copyleft && e.default),
                "{} is copyleft and default",
                e.name
            );
        }
        let ov = &m.openvino;
        assert!(ov.files.iter().any(|f| f.file == ov.entry));
        assert!(ov.files.iter().all(|f| f.sha256.len() == 64));
        let defaults: Vec<_> = m.defaults().map(|e| e.name.as_str()).collect();
        assert_eq!(defaults, ["u2netp", "u2net", "modnet"]);
    }

    #[test]
    fn unknown_model_lists_known_ones() {
        let err = manifest().get("nope").unwrap_err();
        assert_eq!(err.code(), "unknown_model");
        assert!(err.to_string().contains("u2net"));
    }
}
