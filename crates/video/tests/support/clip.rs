//! Test clips from ffmpeg's generators: a video pattern with a 440 Hz tone, H.264 + AAC in mp4.
//! Shared by the video, server and CLI tests (each includes this file with `#[path]`).

use std::path::Path;
use std::process::Command;

/// Writes `out` from the lavfi video source `pattern` (e.g.
/// `testsrc=size=160x120:rate=15:duration=2`), a tone of `secs`, and extra output options.
pub fn make_clip(out: &Path, pattern: &str, secs: u32, extra: &[&str]) {
    let ok = Command::new("ffmpeg")
        .args([
            "-v", "error", "-y", "-f", "lavfi", "-i", pattern, "-f", "lavfi", "-i",
        ])
        .arg(format!("sine=frequency=440:duration={secs}"))
        .args(extra)
        .args([
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .arg(out)
        .status()
        .expect("ffmpeg is installed by scripts/test.sh");
    assert!(ok.success(), "ffmpeg could not make {}", out.display());
}
