//! One video through the cut-out: decode → segment each frame → stabilise the masks over time →
//! refine and compose at full resolution → encode. Blocking, on two threads (the model's and the
//! caller's); frames stream through, so memory holds a few frames whatever the clip's length.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::{Duration, Instant};

use cutout_core::refine::refine;
use cutout_core::temporal::steepen_alpha;
use cutout_core::{
    compose, Background, ComposeOptions, FrameSegmenter, Mask, RefineOptions, Rgba, RgbaImage,
    Stabilizer, TemporalOptions,
};
use serde::{Deserialize, Serialize};

use crate::format::VideoFormat;
use crate::frames::{EncodeSpec, FrameReader, FrameSink};
use crate::probe::{variable_frame_times, VideoInfo};
use crate::tools::{MediaError, Tools};

/// Explicit options; limits are checked against the probe before any frame is decoded.
#[derive(Clone, Debug)]
pub struct VideoOptions {
    pub format: VideoFormat,
    /// `None`: transparent (formats without alpha flatten on white).
    pub background: Option<Rgba<u8>>,
    pub refine: RefineOptions,
    pub temporal: TemporalOptions,
    pub max_duration_secs: f64,
    /// Largest frame, in pixels.
    pub max_frame_pixels: u64,
    /// Most frames: checked against the probe (duration × frame rate, so a 1 s clip claiming
    /// 100 000 fps is refused), and again while decoding, for streams whose header lies.
    pub max_frames: u64,
    /// The whole job's deadline: past it the ffmpeg processes are killed.
    pub deadline: Duration,
}

impl Default for VideoOptions {
    fn default() -> Self {
        Self {
            format: VideoFormat::Webm,
            background: None,
            refine: RefineOptions::default(),
            temporal: TemporalOptions::default(),
            max_duration_secs: 300.0,
            max_frame_pixels: 3840 * 2160,
            max_frames: 36_000,
            deadline: Duration::from_secs(3600),
        }
    }
}

/// What a finished video took, stage by stage. Decode and inference run on the model's thread,
/// the rest on the caller's, so the stages overlap: they add up to more than `total_ms`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct VideoSummary {
    pub frames: u64,
    pub width: u32,
    pub height: u32,
    pub fps_num: u32,
    pub fps_den: u32,
    pub audio: bool,
    pub decode_ms: u64,
    pub inference_ms: u64,
    /// Refine and compose.
    pub post_ms: u64,
    /// Of which temporal stabilisation alone, in microseconds (a few milliseconds a frame).
    pub stabilize_us: u64,
    pub encode_ms: u64,
    pub total_ms: u64,
}

/// Called after each frame with (done, expected total); returning false cancels the job.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64) -> bool;

/// Refuses a video over the configured limits, from its probe alone.
pub fn check_limits(info: &VideoInfo, opts: &VideoOptions) -> Result<(), MediaError> {
    if info.duration_secs > opts.max_duration_secs {
        return Err(MediaError::Limit(format!(
            "the video is {:.1} s long; the limit is {} s",
            info.duration_secs, opts.max_duration_secs
        )));
    }
    let pixels = info.width as u64 * info.height as u64;
    if pixels > opts.max_frame_pixels {
        return Err(MediaError::Limit(format!(
            "frames of {}x{} exceed the limit of {} pixels",
            info.width, info.height, opts.max_frame_pixels
        )));
    }
    if info.expected_frames() > opts.max_frames {
        return Err(too_many_frames(opts));
    }
    Ok(())
}

fn too_many_frames(opts: &VideoOptions) -> MediaError {
    MediaError::Limit(format!(
        "the video has more than {} frames, the limit",
        opts.max_frames
    ))
}

/// Cuts the subject out of every frame of `input` into `output`.
///
/// Two threads: one decodes and runs the model, the caller's stabilises, refines, composes and
/// encodes, a frame behind. Where the model leaves a core free (fewer inference threads than
/// cores, or a GPU) the post-processing hides behind it entirely; on a machine the model
/// already fills, the two share the cores (README: "Two threads per video"). The channel
/// between them holds one frame, so memory stays a few frames.
pub fn process_video(
    tools: &Tools,
    input: &Path,
    info: &VideoInfo,
    output: &Path,
    segmenter: &mut dyn FrameSegmenter,
    opts: &VideoOptions,
    progress: Progress,
) -> Result<VideoSummary, MediaError> {
    check_limits(info, opts)?;
    let started = Instant::now();
    let deadline = started + opts.deadline;
    let (w, h) = (info.width, info.height);
    let reader = FrameReader::open(tools, input, w, h)?;
    let mut sink = FrameSink::open(tools, output, &encode_spec(tools, input, info, opts)?)?;
    let background = match (opts.background, opts.format.has_alpha()) {
        (Some(c), _) => Some(c),
        (None, false) => Some(Rgba([255, 255, 255, 255])),
        (None, true) => None,
    };
    let mut post = Post {
        sink: &mut sink,
        background,
        opts,
        total: info.expected_frames(),
    };
    let mut s = VideoSummary {
        width: w,
        height: h,
        fps_num: info.fps_num,
        fps_den: info.fps_den,
        audio: info.has_audio && opts.format.has_audio(),
        ..Default::default()
    };
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel(1);
        let model = scope.spawn(move || segment_frames(reader, segmenter, opts, deadline, tx));
        let posted = stabilise_and_emit(rx, &mut post, &mut s, progress);
        let modelled = model
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // The caller's side stops first only for its own reasons (cancelled, the encoder
        // failed); a model error ends the stream early, and wins over the shorter stream's Ok.
        posted?;
        (s.decode_ms, s.inference_ms) = modelled?;
        Ok::<_, MediaError>(())
    })?;
    if s.frames == 0 {
        return Err(MediaError::Invalid(
            "the video has no decodable frames".into(),
        ));
    }
    let t = Instant::now();
    sink.finish(deadline)?;
    s.encode_ms += ms(t);
    s.total_ms = ms(started);
    Ok(s)
}

/// The output's size, rate, audio source and, for a variable frame rate, each frame's time.
fn encode_spec<'a>(
    tools: &Tools,
    input: &'a Path,
    info: &VideoInfo,
    opts: &VideoOptions,
) -> Result<EncodeSpec<'a>, MediaError> {
    Ok(EncodeSpec {
        format: opts.format,
        width: info.width,
        height: info.height,
        fps_num: info.fps_num,
        fps_den: info.fps_den,
        audio_from: info.has_audio.then_some(input),
        times: match opts.format {
            VideoFormat::PngSequence => None,
            _ => variable_frame_times(tools, input, info)?,
        },
    })
}

/// The model's thread: decodes each frame and segments it, until the video ends, the receiver
/// hangs up (the other side failed or was cancelled) or a limit is hit. Returns the
/// milliseconds spent decoding and in the model.
fn segment_frames(
    mut reader: FrameReader,
    segmenter: &mut dyn FrameSegmenter,
    opts: &VideoOptions,
    deadline: Instant,
    tx: SyncSender<(RgbaImage, Mask)>,
) -> Result<(u64, u64), MediaError> {
    let (mut decode_ms, mut inference_ms, mut read) = (0, 0, 0u64);
    loop {
        if Instant::now() > deadline {
            return Err(MediaError::Timeout {
                tool: "ffmpeg",
                secs: opts.deadline.as_secs(),
            });
        }
        let t = Instant::now();
        let Some(frame) = reader.next_frame()? else {
            break;
        };
        read += 1;
        if read > opts.max_frames {
            return Err(too_many_frames(opts));
        }
        decode_ms += ms(t);
        let t = Instant::now();
        let seg = segmenter
            .next_frame(&frame)
            .map_err(cutout_core::CutoutError::from)?;
        inference_ms += ms(t);
        if tx.send((frame, seg.mask)).is_err() {
            // The receiving side stopped and reports why; the decoder is killed on drop.
            return Ok((decode_ms, inference_ms));
        }
    }
    drop(tx);
    reader.finish(deadline)?;
    Ok((decode_ms, inference_ms))
}

/// The caller's side: each segmented frame through the stabiliser, then refined, composed and
/// encoded, in order.
fn stabilise_and_emit(
    rx: Receiver<(RgbaImage, Mask)>,
    post: &mut Post,
    s: &mut VideoSummary,
    progress: Progress,
) -> Result<(), MediaError> {
    let mut stabilizer = Stabilizer::new(post.opts.temporal);
    for (frame, mask) in rx.iter() {
        let t = Instant::now();
        let ready = stabilizer.push(frame, mask);
        s.stabilize_us += t.elapsed().as_micros() as u64;
        if let Some((frame, mask)) = ready {
            post.emit(frame, &mask, s, progress)?;
        }
    }
    if let Some((frame, mask)) = stabilizer.finish() {
        post.emit(frame, &mask, s, progress)?;
    }
    Ok(())
}

/// Everything after inference and stabilisation for one frame: refine, compose, encode, report.
struct Post<'a> {
    sink: &'a mut FrameSink,
    background: Option<Rgba<u8>>,
    opts: &'a VideoOptions,
    total: u64,
}

impl Post<'_> {
    fn emit(
        &mut self,
        mut frame: RgbaImage,
        mask: &Mask,
        s: &mut VideoSummary,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<(), MediaError> {
        let t = Instant::now();
        let temporal = &self.opts.temporal;
        if temporal.enabled {
            let opts = RefineOptions {
                epsilon: temporal.refine_epsilon,
                ..self.opts.refine
            };
            refine(&mut frame, mask, &opts);
            steepen_alpha(&mut frame, temporal.edge_contrast);
        } else {
            refine(&mut frame, mask, &self.opts.refine);
        }
        let frame = match self.background {
            Some(c) => compose::compose(
                frame,
                &ComposeOptions {
                    background: Background::Color(c),
                    ..Default::default()
                },
            ),
            None => frame,
        };
        s.post_ms += ms(t);
        let t = Instant::now();
        self.sink.write(&frame)?;
        s.encode_ms += ms(t);
        s.frames += 1;
        if !progress(s.frames, self.total.max(s.frames)) {
            return Err(MediaError::Cancelled);
        }
        Ok(())
    }
}

fn ms(t: Instant) -> u64 {
    t.elapsed().as_millis() as u64
}
