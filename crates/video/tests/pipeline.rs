//! The two threads of `process_video` (the model's, and the caller's that stabilises, refines and
//! encodes): every frame comes out once and in order, and a failure on either side ends the job
//! with that side's error, without a hang or a half-written success.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use cutout_core::{FrameSegmenter, RgbaImage, SegmentError, SegmentOutput};
use cutout_testkit::fake::FakeSequence;
use cutout_testkit::media::make_clip;
use cutout_testkit::require;
use cutout_video::{probe, process_video, MediaError, Tools, VideoFormat, VideoOptions};

/// 30 frames of 96x64 at 15 fps (with a tone, which a PNG sequence drops).
fn clip(dir: &Path) -> PathBuf {
    let out = dir.join("in.mp4");
    make_clip(&out, "testsrc=size=96x64:rate=15:duration=2", 2, &[]);
    out
}

fn run(
    seg: &mut dyn FrameSegmenter,
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<cutout_video::VideoSummary, MediaError> {
    let dir = tempfile::tempdir().unwrap();
    let input = clip(dir.path());
    let tools = Tools::default();
    let info = probe(&tools, &input).unwrap();
    let opts = VideoOptions {
        format: VideoFormat::PngSequence,
        ..Default::default()
    };
    let out = dir.path().join("out.zip");
    let s = process_video(&tools, &input, &info, &out, seg, &opts, progress)?;
    assert!(out.exists(), "a finished job leaves its output");
    Ok(s)
}

/// The fake model, failing (or panicking) on its `fail_at`th frame.
struct FailsAt {
    inner: FakeSequence,
    fail_at: usize,
    panic: bool,
}

impl FrameSegmenter for FailsAt {
    fn next_frame(&mut self, frame: &RgbaImage) -> Result<SegmentOutput, SegmentError> {
        if self.inner.frames + 1 == self.fail_at {
            assert!(!self.panic, "the model broke");
            return Err(SegmentError::internal("the model broke"));
        }
        self.inner.next_frame(frame)
    }
}

fn fails_at(fail_at: usize, panic: bool) -> FailsAt {
    FailsAt {
        inner: FakeSequence { frames: 0 },
        fail_at,
        panic,
    }
}

#[test]
fn every_frame_is_reported_once_and_in_order() {
    require!(Ffmpeg);
    let mut seen = Vec::new();
    let mut seg = FakeSequence { frames: 0 };
    let s = run(&mut seg, &mut |done, _| {
        seen.push(done);
        true
    })
    .unwrap();
    assert_eq!(seg.frames, 30);
    assert_eq!(s.frames, 30);
    assert_eq!(seen, (1..=30).collect::<Vec<u64>>());
}

#[test]
fn a_model_error_mid_video_fails_the_job_with_its_code() {
    require!(Ffmpeg);
    let mut done = 0;
    let e = run(&mut fails_at(12, false), &mut |d, _| {
        done = d;
        true
    })
    .unwrap_err();
    assert_eq!(e.code(), "segmentation_failed", "{e}");
    assert!(done < 12, "{done} frames reported past the failure");
}

#[test]
fn a_model_panic_reaches_the_caller() {
    require!(Ffmpeg);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        run(&mut fails_at(5, true), &mut |_, _| true)
    }));
    let payload = caught.expect_err("the panic is not swallowed");
    let text = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()));
    assert_eq!(text.as_deref(), Some("the model broke"));
}

#[test]
fn cancelling_stops_the_model_too() {
    require!(Ffmpeg);
    let mut seg = FakeSequence { frames: 0 };
    let e = run(&mut seg, &mut |done, _| done < 3).unwrap_err();
    assert_eq!(e.code(), "cancelled");
    // The model runs at most a couple of frames ahead of the cancelled side, not to the end.
    assert!(seg.frames < 10, "the model ran {} frames", seg.frames);
}
