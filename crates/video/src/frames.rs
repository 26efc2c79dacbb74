//! Raw RGBA frames in from an ffmpeg decoder and out to an ffmpeg encoder (or a zip of PNGs).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Instant;

use cutout_core::{encode, EncodeOptions, OutputFormat, RgbaImage};

use crate::format::VideoFormat;
use crate::mkv::MkvWriter;
use crate::tools::{Guard, MediaError, Tools};

/// Keeps the last 8 KiB of a child's stderr, read on a thread so a chatty child never blocks.
fn stderr_tail(g: &mut Guard) -> Option<JoinHandle<String>> {
    let mut err = g.child.stderr.take()?;
    Some(std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        let start = buf.len().saturating_sub(8 << 10);
        String::from_utf8_lossy(&buf[start..]).into_owned()
    }))
}

fn finish(
    mut g: Guard,
    tail: Option<JoinHandle<String>>,
    deadline: Instant,
) -> Result<(), MediaError> {
    let waited = g.wait(deadline);
    let text = tail.and_then(|t| t.join().ok()).unwrap_or_default();
    match waited {
        Err(MediaError::Failed { tool, .. }) => Err(MediaError::Failed {
            tool,
            message: text.lines().rev().take(3).collect::<Vec<_>>().join(" | "),
        }),
        other => other,
    }
}

/// Decodes the first video stream to RGBA frames, rotation applied, one output frame per
/// decoded frame (no duplication or dropping, so counts and VFR timing survive).
pub struct FrameReader {
    guard: Guard,
    out: ChildStdout,
    tail: Option<JoinHandle<String>>,
    width: u32,
    height: u32,
}

impl FrameReader {
    pub fn open(tools: &Tools, input: &Path, width: u32, height: u32) -> Result<Self, MediaError> {
        let mut cmd = Command::new(&tools.ffmpeg);
        cmd.args(["-v", "error", "-nostdin", "-i"])
            .arg(input)
            .args([
                "-map",
                "0:v:0",
                "-fps_mode",
                "passthrough",
                "-f",
                "rawvideo",
            ])
            .args(["-pix_fmt", "rgba", "-"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut guard = Guard::spawn("ffmpeg", &mut cmd)?;
        let out = guard.child.stdout.take().expect("piped");
        let tail = stderr_tail(&mut guard);
        Ok(Self {
            guard,
            out,
            tail,
            width,
            height,
        })
    }

    /// The next frame, or `None` at the end of the stream.
    pub fn next_frame(&mut self) -> Result<Option<RgbaImage>, MediaError> {
        let len = self.width as usize * self.height as usize * 4;
        let mut buf = vec![0u8; len];
        let mut got = 0;
        while got < len {
            match self.out.read(&mut buf[got..])? {
                0 => break,
                n => got += n,
            }
        }
        match got {
            0 => Ok(None),
            n if n == len => Ok(RgbaImage::from_raw(self.width, self.height, buf)),
            n => Err(MediaError::Invalid(format!(
                "the video ended inside a frame ({n} of {len} bytes): truncated or damaged"
            ))),
        }
    }

    /// Waits for the decoder to exit cleanly (a decode error surfaces here).
    pub fn finish(self, deadline: Instant) -> Result<(), MediaError> {
        drop(self.out);
        finish(self.guard, self.tail, deadline)
    }
}

/// Where composed frames go: an ffmpeg encoder, or PNGs in a zip.
pub enum FrameSink {
    Ffmpeg {
        guard: Guard,
        input: Option<Input>,
        tail: Option<JoinHandle<String>>,
    },
    Zip {
        zip: Box<zip::ZipWriter<std::fs::File>>,
        count: u64,
    },
}

/// The encoder's stdin: raw frames evenly spaced at the frame rate, or Matroska frames carrying
/// the source's own times (variable frame rate).
pub enum Input {
    Raw(ChildStdin),
    Timed {
        mkv: MkvWriter<ChildStdin>,
        times: Vec<f64>,
        next: usize,
        step: f64,
    },
}

impl Input {
    fn write(&mut self, frame: &RgbaImage) -> std::io::Result<()> {
        match self {
            Self::Raw(pipe) => pipe.write_all(frame.as_raw()),
            Self::Timed {
                mkv,
                times,
                next,
                step,
            } => {
                // More frames than packets (should not happen): continue at the average rate.
                let last = times.last().copied().unwrap_or(0.0);
                let extra = (*next + 1).saturating_sub(times.len()) as f64;
                let t = times.get(*next).copied().unwrap_or(last + extra * *step);
                *next += 1;
                mkv.frame(t, frame.as_raw())
            }
        }
    }
}

/// What an encoder needs to know about the stream.
pub struct EncodeSpec<'a> {
    pub format: VideoFormat,
    pub width: u32,
    pub height: u32,
    pub fps_num: u32,
    pub fps_den: u32,
    /// The source, whose audio is copied when the format can carry it.
    pub audio_from: Option<&'a Path>,
    /// Each frame's time, for a variable frame rate source; `None`: evenly spaced.
    pub times: Option<Vec<f64>>,
}

impl FrameSink {
    pub fn open(tools: &Tools, output: &Path, spec: &EncodeSpec) -> Result<Self, MediaError> {
        if spec.format == VideoFormat::PngSequence {
            let file = std::fs::File::create(output)?;
            return Ok(Self::Zip {
                zip: Box::new(zip::ZipWriter::new(file)),
                count: 0,
            });
        }
        let mut cmd = Command::new(&tools.ffmpeg);
        cmd.args(["-v", "error", "-nostdin", "-y"]);
        if spec.times.is_some() {
            cmd.args(["-f", "matroska", "-i", "-"]);
        } else {
            cmd.args(["-f", "rawvideo", "-pix_fmt", "rgba"])
                .arg("-s")
                .arg(format!("{}x{}", spec.width, spec.height))
                .arg("-framerate")
                .arg(format!("{}/{}", spec.fps_num, spec.fps_den))
                .args(["-i", "-"]);
        }
        let audio = spec.audio_from.filter(|_| spec.format.has_audio());
        if let Some(src) = audio {
            cmd.arg("-i")
                .arg(src)
                .args(["-map", "0:v:0", "-map", "1:a:0?"]);
            cmd.args(spec.format.audio_args());
        }
        cmd.args(spec.format.video_args());
        let odd = spec.width % 2 == 1 || spec.height % 2 == 1;
        if odd
            && matches!(
                spec.format,
                VideoFormat::Mp4 | VideoFormat::Webm | VideoFormat::Webp
            )
        {
            // 4:2:0 needs even sizes: drop the last row/column rather than rescale.
            cmd.args(["-vf", "crop=trunc(iw/2)*2:trunc(ih/2)*2"]);
        }
        if spec.times.is_some() {
            // Keep every frame at its own time: no duplicates or drops to fit a constant rate.
            cmd.args(["-fps_mode", "passthrough"]);
        }
        cmd.args(["-f", spec.format.muxer()])
            .arg(output)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut guard = Guard::spawn("ffmpeg", &mut cmd)?;
        let stdin = guard.child.stdin.take();
        let tail = stderr_tail(&mut guard);
        let input = match (stdin, &spec.times) {
            (Some(pipe), Some(times)) => Some(Input::Timed {
                // A failed header write means the encoder died; `finish` reports why.
                mkv: MkvWriter::start(pipe, spec.width, spec.height)?,
                times: times.clone(),
                next: 0,
                step: spec.fps_den as f64 / spec.fps_num.max(1) as f64,
            }),
            (Some(pipe), None) => Some(Input::Raw(pipe)),
            (None, _) => None,
        };
        Ok(Self::Ffmpeg { guard, input, tail })
    }

    pub fn write(&mut self, frame: &RgbaImage) -> Result<(), MediaError> {
        match self {
            Self::Ffmpeg { input, tail, .. } => {
                let pipe = input.as_mut().ok_or_else(|| MediaError::Failed {
                    tool: "ffmpeg",
                    message: "the encoder's input is closed".into(),
                })?;
                // A broken pipe means the encoder exited: its stderr says why.
                pipe.write(frame).map_err(|e| {
                    *input = None;
                    let why = tail.take().and_then(|t| t.join().ok()).unwrap_or_default();
                    MediaError::Failed {
                        tool: "ffmpeg",
                        message: format!("the encoder stopped reading ({e}): {why}"),
                    }
                })
            }
            Self::Zip { zip, count } => {
                *count += 1;
                let opts = EncodeOptions {
                    format: OutputFormat::Png,
                    ..Default::default()
                };
                let png = encode(frame, None, &opts).map_err(cutout_core::CutoutError::from)?;
                let entry = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored);
                zip.start_file(format!("frame_{count:06}.png"), entry)
                    .map_err(|e| MediaError::Io(std::io::Error::other(e)))?;
                zip.write_all(&png)?;
                Ok(())
            }
        }
    }

    /// Closes the input and waits for the file to be complete.
    pub fn finish(self, deadline: Instant) -> Result<(), MediaError> {
        match self {
            Self::Ffmpeg { guard, input, tail } => {
                drop(input);
                finish(guard, tail, deadline)
            }
            Self::Zip { zip, .. } => {
                zip.finish()
                    .map_err(|e| MediaError::Io(std::io::Error::other(e)))?;
                Ok(())
            }
        }
    }
}
