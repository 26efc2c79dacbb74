//! Running the `cutout` binary in tests: a command with a private data directory and config, so
//! tests neither see nor change the machine's install.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Builds `cutout` commands. `bin` is `env!("CARGO_BIN_EXE_cutout")` in the CLI's own tests.
#[derive(Clone, Debug)]
pub struct Cli {
    bin: PathBuf,
    envs: Vec<(String, String)>,
}

impl Cli {
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        Self {
            bin: bin.into(),
            envs: Vec::new(),
        }
    }

    /// Sets an environment variable on every command this builder makes (a config override such
    /// as `CUTOUT_STORAGE__DATABASE_URL`).
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.envs.push((
            key.to_owned(),
            value.as_ref().to_string_lossy().into_owned(),
        ));
        self
    }

    /// Storage (database, blobs, signing key) under `dir`.
    pub fn storage_in(self, dir: &Path) -> Self {
        self.env(
            "CUTOUT_STORAGE__DATABASE_URL",
            format!("sqlite://{}", dir.join("cutout.db").display()),
        )
        .env(
            "CUTOUT_STORAGE__BLOB_URL",
            format!("file://{}", dir.join("blobs").display()),
        )
        .env(
            "CUTOUT_SECURITY__SIGNING_SECRET_FILE",
            dir.join("signing.key"),
        )
    }

    /// A `cutout` command with this builder's environment; add arguments and run or spawn it.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        for (k, v) in &self.envs {
            c.env(k, v);
        }
        c
    }

    /// Runs `cutout ARGS` to completion.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd()
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.bin.display()))
    }
}

/// The stdout of a finished command, after checking it succeeded (its stderr is the message
/// when it did not).
pub fn stdout_of(out: Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
