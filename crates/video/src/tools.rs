//! The one place that starts ffmpeg/ffprobe: found on `PATH` (or configured), run with a
//! deadline, and killed when dropped so a cancelled or failed job leaves no process behind.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{tool} could not be started ({source}); install ffmpeg (apt-get install ffmpeg)")]
    Missing {
        tool: &'static str,
        source: std::io::Error,
    },
    #[error("{tool} took longer than {secs} s")]
    Timeout { tool: &'static str, secs: u64 },
    #[error("{tool} failed: {message}")]
    Failed { tool: &'static str, message: String },
    /// The input is not a video this service accepts (or not a video at all).
    #[error("{0}")]
    Invalid(String),
    /// A configured limit (duration, size, frames) is exceeded.
    #[error("{0}")]
    Limit(String),
    #[error("the job was cancelled")]
    Cancelled,
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Pipeline(#[from] cutout_core::CutoutError),
}

impl MediaError {
    /// A stable machine code, for job errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "ffmpeg_missing",
            Self::Timeout { .. } => "timeout",
            Self::Failed { .. } => "ffmpeg_failed",
            Self::Invalid(_) => "invalid_video",
            Self::Limit(_) => "limit_exceeded",
            Self::Cancelled => "cancelled",
            Self::Io(_) => "io_error",
            Self::Pipeline(e) => e.code(),
        }
    }
}

/// Where the tools are and how long one probe may take.
#[derive(Clone, Debug)]
pub struct Tools {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    pub probe_timeout: Duration,
}

impl Default for Tools {
    fn default() -> Self {
        Self {
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
            probe_timeout: Duration::from_secs(30),
        }
    }
}

/// A child process killed (and reaped) when dropped.
pub struct Guard {
    pub child: Child,
    pub tool: &'static str,
}

impl Guard {
    pub fn spawn(tool: &'static str, cmd: &mut Command) -> Result<Self, MediaError> {
        let child = cmd
            .spawn()
            .map_err(|source| MediaError::Missing { tool, source })?;
        Ok(Self { child, tool })
    }

    /// Waits until `deadline`; past it the process is killed. Returns stderr's text on failure.
    pub fn wait(&mut self, deadline: Instant) -> Result<(), MediaError> {
        loop {
            if let Some(status) = self.child.try_wait()? {
                if status.success() {
                    return Ok(());
                }
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                return Err(MediaError::Failed {
                    tool: self.tool,
                    message: last_lines(&err),
                });
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                return Err(MediaError::Timeout {
                    tool: self.tool,
                    secs: 0,
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The tail of ffmpeg's stderr: the useful part, bounded.
fn last_lines(s: &str) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(3)..].join(" | ");
    tail.chars().take(500).collect()
}

impl Tools {
    /// Runs a command to completion within `timeout`, returning stdout.
    pub fn output(
        &self,
        tool: &'static str,
        cmd: &mut Command,
        timeout: Duration,
    ) -> Result<Vec<u8>, MediaError> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut g = Guard::spawn(tool, cmd)?;
        // Read stdout on a thread: a full pipe would otherwise block the child forever.
        let mut out = g.child.stdout.take().expect("piped");
        let reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        });
        let waited = g.wait(Instant::now() + timeout);
        let buf = reader.join().unwrap_or_default();
        match waited {
            Err(MediaError::Timeout { tool, .. }) => Err(MediaError::Timeout {
                tool,
                secs: timeout.as_secs(),
            }),
            Err(e) => Err(e),
            Ok(()) => Ok(buf),
        }
    }
}
