//! Test media: clips from ffmpeg's generators (a video pattern with a 440 Hz tone, H.264 + AAC in
//! mp4) and readers for outputs, shared by the video, server and CLI tests. Each needs
//! [`Need::Ffmpeg`](crate::Need::Ffmpeg): call `require!(Ffmpeg)` first.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::cli::stdout_of;

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
        .expect("ffmpeg runs (the test asked for Need::Ffmpeg)");
    assert!(ok.success(), "ffmpeg could not make {}", out.display());
}

/// ffprobe's streams of `path`, with frames counted.
pub fn ffprobe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-print_format",
            "json",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .unwrap();
    serde_json::from_slice(&stdout_of(out)).unwrap()
}

/// The first frame decoded to RGBA by ffmpeg (with libvpx for VP9 alpha).
pub fn first_frame_alpha(path: &Path, vp9: bool) -> (u8, u8) {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error"]);
    if vp9 {
        cmd.args(["-c:v", "libvpx-vp9"]);
    }
    let out = cmd
        .arg("-i")
        .arg(path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgba", "-"])
        .output()
        .unwrap();
    let rgba = stdout_of(out);
    let alphas = rgba.chunks(4).map(|p| p[3]);
    alphas.fold((255, 0), |(lo, hi), a| (lo.min(a), hi.max(a)))
}
