//! `cutout-video-bench`: the video numbers of the closing note.
//!
//! `stability`: the eval clip (blackswan) and a synthetic fast-motion clip with exact ground truth
//! ([`synth`]) as mp4s, through the video pipeline with and without temporal stabilisation,
//! alphas scored by `../shared/eval/score.py` (mIoU, MAE, BF, flicker), with the stabiliser's own
//! milliseconds per frame.
//! `speed`: 10 s clips at 720p and 1080p per model: frames/s, real-time factor, and the share of
//! time in decode, inference, post-processing and encode.
//! `stabiliser`: the temporal stabiliser alone on the eval clip's frames at 720p and 1080p,
//! milliseconds per frame, with parts of it turned off for comparison.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use clap::{Parser, Subcommand};

#[path = "video/service.rs"]
mod service;
#[path = "video/stabiliser.rs"]
mod stabiliser;
#[path = "video/synth.rs"]
mod synth;
use cutout_core::{SegmenterProvider, TemporalOptions};
use cutout_infer::{EngineProvider, InferenceOptions};
use cutout_video::{probe, process_video, Tools, VideoFormat, VideoOptions, VideoSummary};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// Engine for the in-process runs: auto, onnxruntime, openvino.
    #[arg(long, global = true, default_value = "auto")]
    engine: cutout_core::EngineChoice,
    /// Precision for the in-process runs: auto, f32, bf16.
    #[arg(long, global = true, default_value = "auto")]
    precision: cutout_core::PrecisionChoice,
    /// Idle inference threads sleep instead of spin-waiting, as in `cutout serve` (the default
    /// spins, as `cutout remove` does).
    #[arg(long, global = true)]
    no_spin: bool,
    /// Threads inside one inference (0: the default, every core up to 4). Fewer than the cores
    /// leaves a core to the refinement that runs beside the model.
    #[arg(long, global = true, default_value_t = 0)]
    threads: usize,
}

#[derive(Subcommand)]
enum Cmd {
    Stability {
        #[arg(long, default_value = "../shared/eval")]
        set: PathBuf,
        #[arg(long, default_value = "u2netp,u2net")]
        models: String,
        #[arg(long, default_value = "blackswan,fastmotion")]
        clips: String,
        #[arg(long, default_value = "out/video-eval")]
        out: PathBuf,
        #[arg(long, default_value = "python3")]
        python: String,
    },
    /// The same measurement through a running `cutout serve`: upload, jobs with
    /// `temporal_smoothing` false and true, download the PNG sequences, score.
    Service {
        #[arg(long)]
        url: String,
        #[arg(long, env = "CUTOUT_KEY")]
        key: String,
        #[arg(long, default_value = "../shared/eval")]
        set: PathBuf,
        /// The API's model names.
        #[arg(long, default_value = "light,original")]
        models: String,
        #[arg(long, default_value = "blackswan,fastmotion")]
        clips: String,
        #[arg(long, default_value = "out/video-service-eval")]
        out: PathBuf,
        #[arg(long, default_value = "python3")]
        python: String,
    },
    /// The stabiliser alone, no model: ms per frame at each height, default options and
    /// without motion compensation or the median.
    Stabiliser {
        #[arg(long, default_value = "../shared/eval")]
        set: PathBuf,
        #[arg(long, default_value = "720,1080")]
        heights: String,
        /// Passes over the clip's 50 frames.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    Speed {
        #[arg(long, default_value = "../shared/eval")]
        set: PathBuf,
        #[arg(long, default_value = "u2netp,u2net")]
        models: String,
        #[arg(long, default_value_t = 10)]
        seconds: u32,
        #[arg(long, default_value = "720,1080")]
        heights: String,
        #[arg(long, default_value = "out/video-bench")]
        out: PathBuf,
    },
}

fn ffmpeg(args: &[&str]) {
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .status();
    assert!(ok.is_ok_and(|s| s.success()), "ffmpeg {args:?} failed");
}

/// A clip of an eval set: `<set>/video/<name>/frames/NNNNN.<ext>` with `masks/NNNNN.png`.
struct Clip {
    name: String,
    set: PathBuf,
    ext: &'static str,
    /// The eval set's `score.py`.
    scorer: PathBuf,
}

/// The clips named in `names`: blackswan from the eval set, fastmotion built into `out/synth`.
fn clips(names: &str, set: &Path, out: &Path) -> Vec<Clip> {
    names
        .split(',')
        .map(|name| match name {
            synth::NAME => {
                let dir = out.join("synth");
                let photo = set.join("../bench-images/person_craft-beer.jpg");
                synth::build(set, &photo, &dir);
                Clip {
                    name: name.to_owned(),
                    set: dir,
                    ext: "png",
                    scorer: set.join("score.py"),
                }
            }
            _ => Clip {
                name: name.to_owned(),
                set: set.to_owned(),
                ext: "jpg",
                scorer: set.join("score.py"),
            },
        })
        .collect()
}

/// The clip's frames as a near-lossless 24 fps mp4 at `height` (0 = as is), looped to
/// `seconds` (0 = once).
fn clip_mp4(clip: &Clip, out: &Path, height: u32, seconds: u32) -> PathBuf {
    let frames = clip
        .set
        .join(format!("video/{}/frames/%05d.{}", clip.name, clip.ext));
    let file = out.join(format!("{}-{height}p-{seconds}s.mp4", clip.name));
    let scale = if height == 0 {
        "null".to_owned()
    } else {
        format!("scale=-2:{height}:flags=lanczos")
    };
    let mut args = vec!["-framerate", "24"];
    let loops = seconds.to_string();
    if seconds > 0 {
        args.extend(["-stream_loop", "-1"]);
    }
    let frames = frames.to_str().unwrap().to_owned();
    args.extend(["-i", &frames, "-vf", &scale]);
    if seconds > 0 {
        args.extend(["-t", &loops]);
    }
    args.extend([
        "-c:v",
        "libx264",
        "-crf",
        "12",
        "-pix_fmt",
        "yuv420p",
        file.to_str().unwrap(),
    ]);
    ffmpeg(&args);
    file
}

fn run(
    provider: &EngineProvider,
    model: &str,
    input: &Path,
    output: &Path,
    format: VideoFormat,
    temporal: bool,
) -> VideoSummary {
    let tools = Tools::default();
    let info = probe(&tools, input).unwrap();
    let mut seg = provider.sequence(model).unwrap();
    let opts = VideoOptions {
        format,
        temporal: temporal_options(temporal),
        ..Default::default()
    };
    process_video(
        &tools,
        input,
        &info,
        output,
        seg.as_mut(),
        &opts,
        &mut |_, _| true,
    )
    .unwrap()
}

/// The defaults, or `CUTOUT_TEMPORAL=still,motion,contrast[,refine_epsilon]`,
/// `CUTOUT_TEMPORAL_MEDIAN=0` and `CUTOUT_TEMPORAL_SEARCH=px` (0: no motion compensation) to try
/// other settings.
fn temporal_options(enabled: bool) -> TemporalOptions {
    let mut t = TemporalOptions {
        enabled,
        ..Default::default()
    };
    if std::env::var("CUTOUT_TEMPORAL_MEDIAN").is_ok_and(|v| v == "0") {
        t.median = false;
    }
    if let Some(search) = std::env::var("CUTOUT_TEMPORAL_SEARCH")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        t.motion_search = search;
    }
    if let Ok(v) = std::env::var("CUTOUT_TEMPORAL") {
        let p: Vec<f32> = v.split(',').filter_map(|x| x.parse().ok()).collect();
        if let [still, motion, contrast, ref rest @ ..] = p[..] {
            (t.still_weight, t.motion_threshold, t.edge_contrast) = (still, motion, contrast);
            t.refine_epsilon = rest.first().copied().unwrap_or(t.refine_epsilon);
        }
    }
    t
}

fn print_header() {
    println!("| clip | model | pipeline | mIoU | MAE | BF@3px | flicker | stabiliser ms/frame |");
    println!("|---|---|---|---|---|---|---|---|");
}

/// Scores the frame-by-frame and the stabilised PNG sequences and prints their rows.
fn report(clip: &Clip, model: &str, zips: &[PathBuf; 2], python: &str, stab_ms: Option<f64>) {
    let mut flicker = [0.0; 2];
    for (i, name) in ["frame by frame", "stabilised"].into_iter().enumerate() {
        let pred = zips[i].with_extension("");
        alphas(&zips[i], &pred, &clip.name);
        let s = score(python, clip, &pred);
        flicker[i] = s["flicker"].as_f64().unwrap();
        let m = |k: &str| s[k].as_f64().unwrap();
        let ms = match (i, stab_ms) {
            (1, Some(ms)) => format!("{ms:.1}"),
            _ => String::new(),
        };
        println!(
            "| {} | {model} | {name} | {:.4} | {:.4} | {:.4} | {:.5} | {ms} |",
            clip.name,
            m("iou"),
            m("mae"),
            m("bf"),
            flicker[i]
        );
    }
    let reduction = 100.0 * (1.0 - flicker[1] / flicker[0]);
    println!(
        "| {} | {model} | flicker reduction | | | | {reduction:.1} % | |",
        clip.name
    );
}

/// Unzips the PNG frames' alpha into `dir/video/<clip>/00000.png ...` for the scorer.
fn alphas(zip_path: &Path, dir: &Path, clip: &str) {
    let target = dir.join("video").join(clip);
    std::fs::create_dir_all(&target).unwrap();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut buf).unwrap();
        let img = image::load_from_memory(&buf).unwrap().to_rgba8();
        let alpha = image::GrayImage::from_fn(img.width(), img.height(), |x, y| {
            image::Luma([img.get_pixel(x, y)[3]])
        });
        alpha.save(target.join(format!("{i:05}.png"))).unwrap();
    }
}

fn score(python: &str, clip: &Clip, pred: &Path) -> serde_json::Value {
    let set = &clip.set;
    let json = pred.join("score.json");
    let ok = Command::new(python)
        .arg(&clip.scorer)
        .arg(pred)
        .args([
            "--set",
            set.to_str().unwrap(),
            "--skip-missing",
            "--json",
            json.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "score.py failed");
    // score.py writes NaN for the (skipped) still images, which JSON does not allow.
    let text = std::fs::read_to_string(json)
        .unwrap()
        .replace("NaN", "null");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["video"][&clip.name].clone()
}

fn main() {
    let cli = Cli::parse();
    let provider = Arc::new(EngineProvider::new(
        cutout_models::DataDir::from_env(),
        InferenceOptions {
            spin: !cli.no_spin,
            threads: cli.threads,
            ..InferenceOptions::exclusive(1).on(cli.engine, cli.precision)
        },
    ));
    match provider.plan() {
        Ok(p) => println!(
            "engine: {} {} {}",
            p.engine.as_str(),
            p.device.as_str(),
            p.precision.as_str()
        ),
        Err(e) => panic!("{e}"),
    }
    match cli.cmd {
        Cmd::Stability {
            set,
            models,
            clips: names,
            out,
            python,
        } => {
            std::fs::create_dir_all(&out).unwrap();
            print_header();
            for clip in clips(&names, &set, &out) {
                let input = clip_mp4(&clip, &out, 0, 0);
                for model in models.split(',') {
                    let mut stab_ms = 0.0;
                    let zips = [false, true].map(|temporal| {
                        let zip = out.join(format!("{}-{model}-{temporal}.zip", clip.name));
                        let fmt = VideoFormat::PngSequence;
                        let s = run(&provider, model, &input, &zip, fmt, temporal);
                        stab_ms = s.stabilize_us as f64 / 1000.0 / s.frames.max(1) as f64;
                        zip
                    });
                    report(&clip, model, &zips, &python, Some(stab_ms));
                }
            }
        }
        Cmd::Service {
            url,
            key,
            set,
            models,
            clips: names,
            out,
            python,
        } => {
            std::fs::create_dir_all(&out).unwrap();
            let rt = tokio::runtime::Runtime::new().unwrap();
            let client = service::Client::new(&url, &key);
            print_header();
            for clip in clips(&names, &set, &out) {
                let input = clip_mp4(&clip, &out, 0, 0);
                let video_url = rt.block_on(client.upload(&input));
                for model in models.split(',') {
                    let zips = [false, true].map(|smoothing| {
                        let zip = out.join(format!("{}-{model}-{smoothing}.zip", clip.name));
                        rt.block_on(client.png_sequence(&video_url, model, smoothing, &zip));
                        zip
                    });
                    report(&clip, model, &zips, &python, None);
                }
            }
        }
        Cmd::Stabiliser {
            set,
            heights,
            rounds,
        } => {
            println!("| frames | default | no motion compensation | no median |");
            println!("|---|---|---|---|");
            for h in heights.split(',').map(|h| h.parse::<u32>().unwrap()) {
                let frames = stabiliser::load(&set, "blackswan", h);
                let base = TemporalOptions::default();
                let no_motion = TemporalOptions {
                    motion_search: 0,
                    ..base
                };
                let no_median = TemporalOptions {
                    median: false,
                    ..base
                };
                let ms = [base, no_motion, no_median].map(|o| stabiliser::time(&frames, o, rounds));
                println!(
                    "| {h}p, mask 320x320 | {:.1} ms | {:.1} ms | {:.1} ms |",
                    ms[0], ms[1], ms[2]
                );
            }
        }
        Cmd::Speed {
            set,
            models,
            seconds,
            heights,
            out,
        } => {
            std::fs::create_dir_all(&out).unwrap();
            // Per frame: the model's thread (decode, inference) runs beside the caller's
            // (stabilise, refine and compose, encode), so the columns overlap.
            println!("| model | clip | frames | frames/s | real-time factor | decode ms | inference ms | stabiliser ms | refine+compose ms | encode ms |");
            println!("|---|---|---|---|---|---|---|---|---|---|");
            let blackswan = &clips("blackswan", &set, &out)[0];
            for h in heights.split(',').map(|h| h.parse::<u32>().unwrap()) {
                let input = clip_mp4(blackswan, &out, h, seconds);
                for model in models.split(',') {
                    let s = run(
                        &provider,
                        model,
                        &input,
                        &out.join("speed.webm"),
                        VideoFormat::Webm,
                        true,
                    );
                    let secs = s.total_ms as f64 / 1000.0;
                    let per = |ms: f64| ms / s.frames.max(1) as f64;
                    println!(
                        "| {model} | {seconds} s {h}p | {} | {:.2} | {:.2}x | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
                        s.frames,
                        s.frames as f64 / secs,
                        secs / seconds as f64,
                        per(s.decode_ms as f64),
                        per(s.inference_ms as f64),
                        per(s.stabilize_us as f64 / 1000.0),
                        per(s.post_ms as f64),
                        per(s.encode_ms as f64),
                    );
                }
            }
        }
    }
}
