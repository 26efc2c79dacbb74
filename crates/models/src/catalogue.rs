//! Models users bring: well-known models published on hubs (`[[hub]]` in the manifest), and
//! files imported by hand. Both end up as a verified file in the models folder and an entry in
//! `imported.toml` beside it, which makes them usable everywhere a model name is.

use std::io::Read;
use std::path::{Path, PathBuf};

use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::datadir::stamp_path;
use crate::{manifest, DataDir, HubEntry, ModelRejected, ModelSpec, ModelsError};

/// An imported model, as recorded in `<data>/models/imported.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImportedModel {
    pub name: String,
    pub family: String,
    /// The sha256 of the file as imported; a changed file no longer counts as installed.
    pub sha256: String,
    pub licence: String,
    /// Where it came from: the hub URL, or the path it was imported from.
    pub source: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Registry {
    #[serde(default, rename = "model")]
    models: Vec<ImportedModel>,
}

/// The hub catalogue: the manifest's, plus the entries of the TOML file `CUTOUT_CATALOGUE`
/// names (an organisation's own mirror, or the tests' stand-in hub).
pub fn hub_catalogue() -> Result<Vec<HubEntry>, ModelsError> {
    let mut entries = manifest().hub.clone();
    if let Some(path) = std::env::var_os("CUTOUT_CATALOGUE").filter(|v| !v.is_empty()) {
        #[derive(Deserialize)]
        struct Extra {
            #[serde(default)]
            hub: Vec<HubEntry>,
        }
        let text = std::fs::read_to_string(&path).map_err(ModelsError::io(&path))?;
        let extra: Extra = toml::from_str(&text).map_err(|e| {
            ModelsError::Archive(format!("{}: {e}", PathBuf::from(&path).display()))
        })?;
        entries.extend(extra.hub);
    }
    Ok(entries)
}

pub fn hub_entry(name: &str) -> Result<Option<HubEntry>, ModelsError> {
    Ok(hub_catalogue()?.into_iter().find(|h| h.name == name))
}

/// Model names users pick: lower-case letters, digits, `-` and `_`, up to 64 characters, and not
/// one of the manifest's.
pub fn check_name(name: &str) -> Result<(), ModelsError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        return Err(ModelsError::BadImport(format!(
            "model names are 1-64 characters of a-z, 0-9, - and _; got {name:?}"
        )));
    }
    if manifest().models.iter().any(|m| m.name == name) {
        return Err(ModelsError::BadImport(format!(
            "{name} is a built-in model; pick another name"
        )));
    }
    Ok(())
}

impl DataDir {
    fn registry_path(&self) -> PathBuf {
        self.models_dir().join("imported.toml")
    }

    /// The imported models (none when nothing was imported).
    pub fn imported(&self) -> Vec<ImportedModel> {
        std::fs::read_to_string(self.registry_path())
            .ok()
            .and_then(|t| toml::from_str::<Registry>(&t).ok())
            .map(|r| r.models)
            .unwrap_or_default()
    }

    pub(crate) fn imported_spec(&self, m: ImportedModel) -> ModelSpec {
        ModelSpec {
            path: self.imported_path(&m.name),
            family: m.family,
            licence: m.licence,
            commercial_use: None,
            input: None,
            summary: None,
            imported_from: Some(m.source),
            bf16_verified: false,
            name: m.name,
        }
    }

    /// Where an imported model's file lives.
    pub fn imported_path(&self, name: &str) -> PathBuf {
        self.models_dir().join(format!("{name}.onnx"))
    }

    /// Copies `file` in as model `name` and records it; `check` vets the copied graph before the
    /// model is recorded (a graph that does not fit its family is never listed).
    pub fn import(
        &self,
        name: &str,
        file: &Path,
        family: &str,
        licence: &str,
        source: &str,
        check: &dyn Fn(&Path) -> Result<(), ModelRejected>,
    ) -> Result<ImportedModel, ModelsError> {
        check_name(name)?;
        if licence.trim().is_empty() {
            return Err(ModelsError::BadImport(
                "--licence must say under what terms the weights are used".into(),
            ));
        }
        let dest = self.imported_path(name);
        if dest.canonicalize().ok() == file.canonicalize().ok() && dest.exists() {
            return Err(ModelsError::BadImport(format!(
                "{} is already the installed file of {name}",
                file.display()
            )));
        }
        let mut src = std::fs::File::open(file).map_err(ModelsError::io(file))?;
        let sha256 = copy_hashed(&mut src, &dest)?;
        if let Err(why) = check(&dest) {
            let _ = std::fs::remove_file(&dest);
            return Err(ModelsError::BadImport(format!("{}: {why}", file.display())));
        }
        std::fs::write(stamp_path(&dest), &sha256).map_err(ModelsError::io(&dest))?;
        let model = ImportedModel {
            name: name.to_owned(),
            family: family.to_owned(),
            sha256,
            licence: licence.trim().to_owned(),
            source: source.to_owned(),
        };
        let mut registry = Registry {
            models: self.imported(),
        };
        registry.models.retain(|m| m.name != name);
        registry.models.push(model.clone());
        let text = toml::to_string(&registry).map_err(|e| ModelsError::Archive(e.to_string()))?;
        let path = self.registry_path();
        let tmp = path.with_extension("toml.partial");
        std::fs::write(&tmp, text).map_err(ModelsError::io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(ModelsError::io(&path))?;
        Ok(model)
    }
}

/// Downloads a hub model (from `url` when given, e.g. a mirror), refuses it unless it matches the
/// published checksum, then imports it under its catalogue name.
pub fn install_from_hub(
    data: &DataDir,
    entry: &HubEntry,
    url: Option<&str>,
    check: &dyn Fn(&Path) -> Result<(), ModelRejected>,
) -> Result<ImportedModel, ModelsError> {
    let url = url.unwrap_or(&entry.url);
    let fetch_error = |detail: String| ModelsError::Fetch {
        program: "cutout".into(),
        package: url.to_owned(),
        detail,
    };
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(20))
        .timeout(None)
        .build()
        .map_err(|e| fetch_error(e.to_string()))?;
    let mut response = client
        .get(url)
        .send()
        .and_then(|r| r.error_for_status())
        .map_err(|e| fetch_error(e.to_string()))?;
    let tmp = tempfile::tempdir().map_err(ModelsError::io(std::env::temp_dir()))?;
    let file = tmp.path().join(format!("{}.onnx", entry.name));
    let (sha256, md5) = download_hashed(&mut response, &file)?;
    let (want, got) = match (&entry.sha256, &entry.md5) {
        (Some(want), _) => (want, sha256),
        (None, Some(want)) => (want, md5),
        (None, None) => {
            return Err(ModelsError::BadImport(format!(
                "the catalogue entry {} has no checksum",
                entry.name
            )))
        }
    };
    if !got.eq_ignore_ascii_case(want) {
        return Err(ModelsError::Checksum {
            name: entry.name.clone(),
            expected: want.clone(),
            actual: got,
        });
    }
    data.import(
        &entry.name,
        &file,
        &entry.family,
        &entry.license,
        url,
        check,
    )
}

/// Streams `src` to `dest`, returning the sha256 (hex).
fn copy_hashed(src: &mut dyn Read, dest: &Path) -> Result<String, ModelsError> {
    download_hashed(src, dest).map(|(sha, _)| sha)
}

/// Streams `src` to `dest`, returning the sha256 and md5 (hex).
fn download_hashed(src: &mut dyn Read, dest: &Path) -> Result<(String, String), ModelsError> {
    use std::io::Write;
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(ModelsError::io(dir))?;
    let mut out = std::fs::File::create(dest).map_err(ModelsError::io(dest))?;
    let (mut sha, mut md5) = (Sha256::new(), Md5::new());
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = src.read(&mut buf).map_err(ModelsError::io(dest))?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        md5.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(ModelsError::io(dest))?;
    }
    out.sync_all().map_err(ModelsError::io(dest))?;
    Ok((hex::encode(sha.finalize()), hex::encode(md5.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_built_ins_are_reserved() {
        assert!(check_name("birefnet-lite").is_ok());
        for bad in ["", "U2", "a/b", "../x", "u2net", &"x".repeat(65)] {
            assert_eq!(check_name(bad).unwrap_err().code(), "bad_import", "{bad}");
        }
    }

    #[test]
    fn an_import_is_recorded_only_when_its_check_passes() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let src = dir.path().join("m.onnx");
        std::fs::write(&src, b"graph").unwrap();
        let refused = data.import("mine", &src, "u2net", "MIT", "test", &|_| {
            Err(ModelRejected("no".into()))
        });
        assert_eq!(refused.unwrap_err().code(), "bad_import");
        assert!(data.imported().is_empty() && !data.imported_path("mine").exists());
        let m = data
            .import("mine", &src, "u2net", " MIT ", "test", &|_| Ok(()))
            .unwrap();
        assert_eq!(m.sha256, hex::encode(Sha256::digest(b"graph")));
        assert_eq!(data.imported(), std::slice::from_ref(&m));
        assert_eq!(m.licence, "MIT");
        // Re-importing replaces the entry instead of listing the name twice.
        data.import("mine", &src, "isnet", "MIT", "again", &|_| Ok(()))
            .unwrap();
        assert_eq!(data.imported().len(), 1);
        assert_eq!(data.imported()[0].family, "isnet");
    }

    #[test]
    fn the_manifest_catalogue_names_birefnet_and_isnet_general_use() {
        let hub = hub_catalogue().unwrap();
        for name in ["birefnet-general", "birefnet-lite", "isnet-general-use"] {
            let e = hub.iter().find(|h| h.name == name).unwrap();
            assert!(e.url.starts_with("https://"), "{name}");
            assert!(e.sha256.is_some() || e.md5.is_some(), "{name}");
        }
    }
}
