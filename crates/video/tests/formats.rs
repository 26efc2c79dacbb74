//! Every output format made from a real clip (ffmpeg's test pattern with a tone) and read back
//! with ffprobe/ffmpeg: frame count, rate, audio where the container holds it, alpha where the
//! format has it. A fake segmenter (a centred box) keeps this fast; the server's tests run the
//! real model.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use cutout_core::{Mask, PerFrame, RgbaImage, SegmentError, SegmentOutput, Segmenter};
use cutout_video::{probe, process_video, Tools, VideoFormat, VideoOptions};

use cutout_testkit::media::{ffprobe, first_frame_alpha, make_clip};
use cutout_testkit::require;

struct BoxSegmenter;

impl Segmenter for BoxSegmenter {
    fn name(&self) -> &str {
        "box"
    }
    fn segment(&self, _: &RgbaImage) -> Result<SegmentOutput, SegmentError> {
        let mut m = vec![0u8; 32 * 32];
        for y in 8..24 {
            for x in 8..24 {
                m[y * 32 + x] = 255;
            }
        }
        Ok(SegmentOutput {
            mask: Mask::new(32, 32, m).unwrap(),
            preprocess: Duration::ZERO,
            inference: Duration::ZERO,
        })
    }
}

/// A 2 s, 15 fps, 160x120 clip with a stereo tone.
fn clip(dir: &Path) -> PathBuf {
    let out = dir.join("in.mp4");
    make_clip(&out, "testsrc=size=160x120:rate=15:duration=2", 2, &[]);
    out
}

#[test]
fn every_format_keeps_frames_rate_audio_and_alpha() {
    require!(Ffmpeg);
    let dir = tempfile::tempdir().unwrap();
    let input = clip(dir.path());
    let tools = Tools::default();
    let info = probe(&tools, &input).unwrap();
    assert_eq!(
        (info.width, info.height, info.fps_num, info.fps_den),
        (160, 120, 15, 1)
    );
    assert!(info.has_audio);
    for format in VideoFormat::ALL {
        let out = dir.path().join(format!("out.{}", format.extension()));
        let opts = VideoOptions {
            format,
            ..Default::default()
        };
        let mut calls = 0;
        let s = process_video(
            &tools,
            &input,
            &info,
            &out,
            &mut PerFrame(Arc::new(BoxSegmenter)),
            &opts,
            &mut |_, _| {
                calls += 1;
                true
            },
        )
        .unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!((s.frames, calls), (30, 30), "{format:?}");
        match format {
            VideoFormat::PngSequence => {
                let zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
                assert_eq!(zip.len(), 30);
            }
            VideoFormat::Webp => {
                // ffmpeg cannot decode animated WebP; the image crate can.
                let dec = image::codecs::webp::WebPDecoder::new(std::io::BufReader::new(
                    std::fs::File::open(&out).unwrap(),
                ))
                .unwrap();
                use image::AnimationDecoder;
                let frames: Vec<_> = dec.into_frames().collect::<Result<_, _>>().unwrap();
                assert_eq!(frames.len(), 30);
                let px = frames[0].buffer();
                assert_eq!((px.get_pixel(0, 0)[3], px.get_pixel(80, 60)[3]), (0, 255));
            }
            _ => {
                let p = ffprobe(&out);
                let streams = p["streams"].as_array().unwrap();
                let v = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
                assert_eq!(v["nb_read_frames"], "30", "{format:?}");
                assert_eq!(v["r_frame_rate"], "15/1", "{format:?}");
                let audio = streams.iter().any(|s| s["codec_type"] == "audio");
                assert_eq!(audio, format.has_audio(), "{format:?}");
                let (lo, hi) = first_frame_alpha(&out, format == VideoFormat::Webm);
                if format.has_alpha() {
                    assert_eq!(
                        (lo, hi),
                        (0, 255),
                        "{format:?}: transparent outside, opaque inside"
                    );
                } else {
                    assert_eq!(lo, 255, "{format:?} is opaque");
                }
            }
        }
    }
}

#[test]
fn limits_and_garbage_are_refused_before_decoding() {
    require!(Ffmpeg);
    let dir = tempfile::tempdir().unwrap();
    let tools = Tools::default();
    let text = dir.path().join("fake.mp4");
    std::fs::write(&text, "this is not a video").unwrap();
    assert_eq!(probe(&tools, &text).unwrap_err().code(), "invalid_video");
    let input = clip(dir.path());
    let truncated = dir.path().join("cut.mp4");
    let bytes = std::fs::read(&input).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let e = probe(&tools, &truncated)
        .and_then(|info| {
            let opts = VideoOptions::default();
            let out = dir.path().join("o.webm");
            process_video(
                &tools,
                &truncated,
                &info,
                &out,
                &mut PerFrame(Arc::new(BoxSegmenter)),
                &opts,
                &mut |_, _| true,
            )
        })
        .unwrap_err();
    assert!(
        matches!(
            e.code(),
            "invalid_video" | "limit_exceeded" | "ffmpeg_failed"
        ),
        "{e}"
    );
    let info = probe(&tools, &input).unwrap();
    let opts = VideoOptions {
        max_duration_secs: 1.0,
        ..Default::default()
    };
    let e = process_video(
        &tools,
        &input,
        &info,
        &dir.path().join("x.webm"),
        &mut PerFrame(Arc::new(BoxSegmenter)),
        &opts,
        &mut |_, _| true,
    )
    .unwrap_err();
    assert_eq!(e.code(), "limit_exceeded");
    let e = process_video(
        &tools,
        &input,
        &info,
        &dir.path().join("y.webm"),
        &mut PerFrame(Arc::new(BoxSegmenter)),
        &VideoOptions::default(),
        &mut |done, _| done < 5,
    )
    .unwrap_err();
    assert_eq!(e.code(), "cancelled");
}

/// Frame bombs: a clip claiming far more frames than allowed is refused from its probe; one
/// whose header under-counts is stopped while decoding; huge frames are refused from the probe.
#[test]
fn too_many_or_too_large_frames_are_refused() {
    require!(Ffmpeg);
    let dir = tempfile::tempdir().unwrap();
    let tools = Tools::default();
    // 1 s at 600 fps: 600 tiny frames.
    let fast = dir.path().join("fast.mp4");
    make_clip(&fast, "testsrc=size=32x32:rate=600:duration=1", 1, &[]);
    let info = probe(&tools, &fast).unwrap();
    let run = |info: &cutout_video::VideoInfo, opts: &VideoOptions| {
        process_video(
            &tools,
            &fast,
            info,
            &dir.path().join("o.webm"),
            &mut PerFrame(Arc::new(BoxSegmenter)),
            opts,
            &mut |_, _| true,
        )
        .unwrap_err()
    };
    let few = VideoOptions {
        max_frames: 100,
        ..Default::default()
    };
    let e = cutout_video::check_limits(&info, &few).unwrap_err();
    assert_eq!(e.code(), "limit_exceeded", "{e}");
    // The header claims 50 frames: decoding counts and stops after the 100th.
    let lying = cutout_video::VideoInfo {
        frames: Some(50),
        duration_secs: 50.0 / 600.0,
        ..info.clone()
    };
    assert_eq!(run(&lying, &few).code(), "limit_exceeded");
    let small = VideoOptions {
        max_frame_pixels: 32 * 31,
        ..Default::default()
    };
    assert_eq!(run(&info, &small).code(), "limit_exceeded");
}

/// A variable frame rate clip: 1 s at 10 fps then 1 s at 30 fps, with a tone throughout (phones
/// record like this when the light changes).
fn vfr_clip(dir: &Path) -> PathBuf {
    let out = dir.join("vfr.mp4");
    // Keep every third frame of the first second: 10 fps there, 30 fps after.
    let keep = ["-vf", "select='gte(t,1)+not(mod(n,3))'", "-fps_mode", "vfr"];
    make_clip(&out, "testsrc=size=160x120:rate=30:duration=2", 2, &keep);
    out
}

/// The video stream's frame times, sorted, in milliseconds from the first.
fn frame_times_ms(path: &Path) -> Vec<i64> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["frame=best_effort_timestamp_time", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    let mut t: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect();
    t.sort_by(f64::total_cmp);
    let first = t[0];
    t.iter()
        .map(|x| ((x - first) * 1000.0).round() as i64)
        .collect()
}

#[test]
fn variable_frame_rate_keeps_every_frame_at_its_time() {
    require!(Ffmpeg);
    let dir = tempfile::tempdir().unwrap();
    let input = vfr_clip(dir.path());
    let tools = Tools::default();
    let info = probe(&tools, &input).unwrap();
    let source = frame_times_ms(&input);
    assert_eq!(source.len(), 40, "10 + 30 frames");
    assert_eq!((source[1], source[11]), (100, 1033), "uneven: {source:?}");
    for format in [VideoFormat::Webm, VideoFormat::Mp4, VideoFormat::Mov] {
        let out = dir.path().join(format!("out-vfr.{}", format.extension()));
        let opts = VideoOptions {
            format,
            ..Default::default()
        };
        let s = process_video(
            &tools,
            &input,
            &info,
            &out,
            &mut PerFrame(Arc::new(BoxSegmenter)),
            &opts,
            &mut |_, _| true,
        )
        .unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!(s.frames, 40);
        let got = frame_times_ms(&out);
        assert_eq!(got.len(), 40, "{format:?}: every frame once");
        let worst = got
            .iter()
            .zip(&source)
            .map(|(a, b)| (a - b).abs())
            .max()
            .unwrap();
        assert!(
            worst <= 1,
            "{format:?}: frames moved by up to {worst} ms\n{got:?}\n{source:?}"
        );
        assert!(ffprobe(&out)["streams"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["codec_type"] == "audio"));
    }
}
