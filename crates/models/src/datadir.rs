use std::path::{Path, PathBuf};

use crate::{manifest, ModelEntry, ModelsError};

/// A model as everything outside this crate sees it: built in (the manifest) or imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    pub name: String,
    /// The preprocessing family (`u2net`, `modnet`, `isnet`, `birefnet`, `rvm`).
    pub family: String,
    pub path: PathBuf,
    pub licence: String,
    /// Unknown for imported models: their licence text says.
    pub commercial_use: Option<bool>,
    pub input: Option<String>,
    pub summary: Option<String>,
    /// Where an imported model came from; `None` for built-in ones.
    pub imported_from: Option<String>,
    /// bf16 results verified against f32 by `make eval` (built-in models only).
    pub bf16_verified: bool,
}

/// The directory that holds installed model files and the ONNX Runtime library.
///
/// Chosen from `CUTOUT_DATA_DIR`, else `$XDG_DATA_HOME/cutout`, else `~/.local/share/cutout`.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The data directory named by the environment, or the XDG default.
    pub fn from_env() -> Self {
        if let Some(dir) = std::env::var_os("CUTOUT_DATA_DIR").filter(|v| !v.is_empty()) {
            return Self::new(dir);
        }
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."));
        Self::new(base.join("cutout"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn models_dir(&self) -> PathBuf {
        self.root.join("models")
    }

    pub fn model_path(&self, entry: &ModelEntry) -> PathBuf {
        self.models_dir().join(entry.file_name())
    }

    /// The ONNX Runtime library: `ORT_DYLIB_PATH` wins when set, as the `ort` crate documents.
    pub fn runtime_path(&self) -> PathBuf {
        match std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
            Some(p) => PathBuf::from(p),
            None => self.root.join("runtime").join(&manifest().runtime.file),
        }
    }

    /// Where OpenVINO's libraries are installed (one folder per version, as they load each
    /// other from their own folder).
    pub fn openvino_dir(&self) -> PathBuf {
        let ov = &manifest().openvino;
        self.root
            .join("runtime")
            .join(format!("openvino-{}", ov.version))
    }

    /// True when every OpenVINO library is present and was verified at install time.
    pub fn openvino_installed(&self) -> bool {
        let dir = self.openvino_dir();
        let ov = &manifest().openvino;
        ov.files
            .iter()
            .all(|f| stamp_matches(&dir.join(&f.file), &f.sha256))
    }

    /// OpenVINO's C API library, or an error that names the install command.
    pub fn require_openvino(&self) -> Result<PathBuf, ModelsError> {
        if self.openvino_installed() {
            Ok(self.openvino_dir().join(&manifest().openvino.entry))
        } else {
            Err(ModelsError::EngineMissing {
                engine: "OpenVINO",
                path: self.openvino_dir(),
                command: "cutout models install --engine openvino",
            })
        }
    }

    /// True when the model file is present and was verified at install time.
    ///
    /// The installer writes a `.sha256` stamp beside the file after checking the full hash, so this
    /// check stays cheap for the 176 MB model; a file with no or a stale stamp counts as missing.
    pub fn is_installed(&self, entry: &ModelEntry) -> bool {
        stamp_matches(&self.model_path(entry), &entry.sha256)
    }

    /// Model `name`, built in or imported, installed or not.
    pub fn model(&self, name: &str) -> Result<ModelSpec, ModelsError> {
        if let Some(m) = self.imported().into_iter().find(|m| m.name == name) {
            return Ok(self.imported_spec(m));
        }
        Ok(self.builtin_spec(manifest().get(name)?))
    }

    fn builtin_spec(&self, e: &ModelEntry) -> ModelSpec {
        ModelSpec {
            name: e.name.clone(),
            family: e.kind.clone(),
            path: self.model_path(e),
            licence: e.license.clone(),
            commercial_use: Some(e.commercial_use),
            input: Some(e.input.clone()),
            summary: Some(e.summary.clone()),
            imported_from: None,
            bf16_verified: e.bf16,
        }
    }

    /// Every installed model, built in then imported (an imported file that changed since it
    /// was imported no longer counts).
    pub fn installed_models(&self) -> Vec<ModelSpec> {
        // Called on every request that names a model: imported.toml is read once here.
        let builtin = manifest()
            .models
            .iter()
            .filter(|m| self.is_installed(m))
            .map(|m| self.builtin_spec(m));
        let imported = self
            .imported()
            .into_iter()
            .filter(|m| stamp_matches(&self.imported_path(&m.name), &m.sha256))
            .map(|m| self.imported_spec(m));
        builtin.chain(imported).collect()
    }

    /// The installed model's path, or an error that names the install command.
    pub fn require_model(&self, name: &str) -> Result<PathBuf, ModelsError> {
        let path = self.model(name)?.path;
        if !path.is_file() {
            return Err(ModelsError::NotInstalled {
                name: name.to_owned(),
                path,
                command: crate::install_command(name),
            });
        }
        Ok(path)
    }

    pub fn require_runtime(&self) -> Result<PathBuf, ModelsError> {
        let path = self.runtime_path();
        if path.is_file() {
            Ok(path)
        } else {
            Err(ModelsError::RuntimeMissing(path))
        }
    }
}

pub(crate) fn stamp_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

pub(crate) fn stamp_matches(file: &Path, sha256: &str) -> bool {
    file.is_file()
        && std::fs::read_to_string(stamp_path(file))
            .is_ok_and(|s| s.trim().eq_ignore_ascii_case(sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_model_error_names_install_command() {
        let dir = tempfile::tempdir().unwrap();
        let err = DataDir::new(dir.path())
            .require_model("u2netp")
            .unwrap_err();
        assert_eq!(err.code(), "model_not_installed");
        assert!(
            err.to_string().contains("cutout models install u2netp"),
            "{err}"
        );
    }

    #[test]
    fn stamp_must_match_manifest_hash() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let entry = manifest().get("u2netp").unwrap();
        let path = data.model_path(entry);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"x").unwrap();
        assert!(!data.is_installed(entry));
        std::fs::write(stamp_path(&path), "0".repeat(64)).unwrap();
        assert!(!data.is_installed(entry));
        std::fs::write(stamp_path(&path), &entry.sha256).unwrap();
        assert!(data.is_installed(entry));
    }
}
