//! What ffprobe says about a file, reduced to what the service needs. The content decides the
//! type: a renamed text file or a truncated mp4 fails here, whatever its name or MIME type.

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::tools::{MediaError, Tools};

/// Containers accepted as input (ffprobe's `format_name` lists several aliases per demuxer).
const ACCEPTED: &[&str] = &["mov", "mp4", "m4a", "3gp", "matroska", "webm", "avi"];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    /// The container, as ffprobe names it (`mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, `avi`).
    pub container: String,
    pub codec: String,
    /// Display size: rotation already applied.
    pub width: u32,
    pub height: u32,
    /// Clockwise rotation the player applies (0, 90, 180, 270).
    pub rotation: i32,
    /// Average frame rate as a fraction, e.g. (30000, 1001).
    pub fps_num: u32,
    pub fps_den: u32,
    pub duration_secs: f64,
    /// Frames in the stream when the container says (it may not).
    pub frames: Option<u64>,
    pub has_audio: bool,
}

impl VideoInfo {
    pub fn fps(&self) -> f64 {
        self.fps_num as f64 / self.fps_den.max(1) as f64
    }

    /// Frames expected: the container's count, or duration x rate.
    pub fn expected_frames(&self) -> u64 {
        self.frames
            .unwrap_or_else(|| (self.duration_secs * self.fps()).round() as u64)
    }
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    streams: Vec<RawStream>,
    format: Option<RawFormat>,
}

#[derive(Deserialize)]
struct RawStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    nb_frames: Option<String>,
    duration: Option<String>,
    #[serde(default)]
    tags: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    side_data_list: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawFormat {
    format_name: Option<String>,
    duration: Option<String>,
}

fn ratio(s: Option<&str>) -> Option<(u32, u32)> {
    let (n, d) = s?.split_once('/')?;
    let (n, d) = (n.parse().ok()?, d.parse().ok()?);
    (n > 0 && d > 0).then_some((n, d))
}

/// Runs ffprobe on `path`.
pub fn probe(tools: &Tools, path: &Path) -> Result<VideoInfo, MediaError> {
    let out = tools.output(
        "ffprobe",
        Command::new(&tools.ffprobe)
            .args([
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
            ])
            .arg(path),
        tools.probe_timeout,
    );
    match out {
        Ok(json) => parse(&json),
        // ffprobe exits non-zero on garbage: that is the input's fault.
        Err(MediaError::Failed { message, .. }) => Err(MediaError::Invalid(format!(
            "not a readable video: {message}"
        ))),
        Err(e) => Err(e),
    }
}

/// The presentation times (seconds from the first frame) of a variable frame rate video, read
/// from its packets (no decoding). `None` when every frame sits within half a frame of the
/// average rate's grid: even spacing is then exact and the plain raw pipe is used.
pub fn variable_frame_times(
    tools: &Tools,
    path: &Path,
    info: &VideoInfo,
) -> Result<Option<Vec<f64>>, MediaError> {
    let out = tools.output(
        "ffprobe",
        Command::new(&tools.ffprobe)
            .args(["-v", "error", "-select_streams", "v:0"])
            .args(["-show_entries", "packet=pts_time,flags", "-of", "csv=p=0"])
            .arg(path),
        tools.probe_timeout,
    )?;
    Ok(uneven_times(&String::from_utf8_lossy(&out), info.fps()))
}

/// Parses `pts_time,flags` lines: packets the demuxer marks as discarded (`D`, edit lists) are
/// not shown, so they are skipped; the rest, sorted, are the frames' times.
fn uneven_times(csv: &str, fps: f64) -> Option<Vec<f64>> {
    let mut times: Vec<f64> = csv
        .lines()
        .filter_map(|l| {
            let (t, flags) = l.trim().split_once(',').unwrap_or((l.trim(), ""));
            (!flags.contains('D'))
                .then(|| t.parse::<f64>().ok())
                .flatten()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let (first, step) = (*times.first()?, 1.0 / fps.max(1e-3));
    times.iter_mut().for_each(|t| *t -= first);
    let even = times
        .iter()
        .enumerate()
        .all(|(i, t)| (t - i as f64 * step).abs() <= step / 2.0);
    (!even && times.len() > 1).then_some(times)
}

/// Reduces ffprobe's JSON.
pub fn parse(json: &[u8]) -> Result<VideoInfo, MediaError> {
    let raw: Raw = serde_json::from_slice(json)
        .map_err(|e| MediaError::Invalid(format!("unreadable probe output: {e}")))?;
    let format = raw
        .format
        .ok_or_else(|| MediaError::Invalid("not a video container".into()))?;
    let container = format.format_name.unwrap_or_default();
    if !container.split(',').any(|c| ACCEPTED.contains(&c)) {
        return Err(MediaError::Invalid(format!(
            "{container:?} is not an accepted container (mp4, mov, webm, avi)"
        )));
    }
    let v = raw
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video"))
        .ok_or_else(|| MediaError::Invalid("the file has no video stream".into()))?;
    let (w, h) = match (v.width, v.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
        _ => return Err(MediaError::Invalid("the video stream has no size".into())),
    };
    let rotation = rotation_of(v);
    let (width, height) = if rotation % 180 == 0 { (w, h) } else { (h, w) };
    let (fps_num, fps_den) = ratio(v.avg_frame_rate.as_deref())
        .or_else(|| ratio(v.r_frame_rate.as_deref()))
        .ok_or_else(|| MediaError::Invalid("the video stream has no frame rate".into()))?;
    let duration_secs = v
        .duration
        .as_deref()
        .or(format.duration.as_deref())
        .and_then(|d| d.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d > 0.0)
        .ok_or_else(|| MediaError::Invalid("the video has no duration (truncated?)".into()))?;
    Ok(VideoInfo {
        container,
        codec: v.codec_name.clone().unwrap_or_default(),
        width,
        height,
        rotation,
        fps_num,
        fps_den,
        duration_secs,
        frames: v
            .nb_frames
            .as_deref()
            .and_then(|n| n.parse().ok())
            .filter(|n| *n > 0),
        has_audio: raw
            .streams
            .iter()
            .any(|s| s.codec_type.as_deref() == Some("audio")),
    })
}

/// Rotation from the display matrix (newer ffmpeg) or the `rotate` tag (older files).
fn rotation_of(v: &RawStream) -> i32 {
    let from_side = v
        .side_data_list
        .iter()
        .find_map(|d| d.get("rotation").and_then(serde_json::Value::as_f64));
    let from_tag = v.tags.get("rotate").and_then(|r| r.parse::<f64>().ok());
    let r = from_side.or(from_tag).unwrap_or(0.0).round() as i32;
    r.rem_euclid(360)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MP4: &str = r#"{"streams":[
        {"codec_type":"video","codec_name":"h264","width":1920,"height":1080,
         "avg_frame_rate":"30000/1001","r_frame_rate":"30000/1001","nb_frames":"300","duration":"10.01",
         "side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]},
        {"codec_type":"audio","codec_name":"aac"}],
      "format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"10.02"}}"#;

    #[test]
    fn only_uneven_timing_counts_as_variable() {
        let even = "0.0,K_\n0.0667,__\n0.1333,__\n0.2,__\n";
        assert_eq!(uneven_times(even, 15.0), None);
        // Out of order (B-frames) and with a discarded priming packet: still even.
        let reordered = "-0.0667,_D\n0.1333,__\n0.0,K_\n0.0667,__\n";
        assert_eq!(uneven_times(reordered, 15.0), None);
        let vfr = "1.0,K_\n1.1,__\n1.5,__\n1.55,__\n";
        let t = uneven_times(vfr, 10.0).unwrap();
        let rounded: Vec<i64> = t.iter().map(|x| (x * 1000.0).round() as i64).collect();
        assert_eq!(rounded, [0, 100, 500, 550]);
    }

    #[test]
    fn reads_size_rate_rotation_and_audio() {
        let i = parse(MP4.as_bytes()).unwrap();
        assert_eq!((i.width, i.height, i.rotation), (1080, 1920, 270));
        assert_eq!((i.fps_num, i.fps_den, i.frames), (30000, 1001, Some(300)));
        assert!(i.has_audio);
        assert!((i.fps() - 29.97).abs() < 0.01);
    }

    #[test]
    fn refuses_what_is_not_an_accepted_video() {
        let png = r#"{"streams":[{"codec_type":"video","width":4,"height":4,"avg_frame_rate":"0/0"}],
                     "format":{"format_name":"png_pipe"}}"#;
        assert!(matches!(parse(png.as_bytes()), Err(MediaError::Invalid(_))));
        let no_dur = MP4
            .replace("\"duration\":\"10.01\",", "")
            .replace(",\"duration\":\"10.02\"", "");
        assert!(parse(no_dur.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("duration"));
        assert!(parse(b"{}").is_err());
    }
}
