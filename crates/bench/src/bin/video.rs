//! `cutout-video-bench`: the video numbers of the closing note.
//!
//! `stability`: the eval clip (blackswan) as an mp4, through the video pipeline with and without
//! temporal stabilisation, alphas scored by `../shared/eval/score.py` (mIoU, MAE, BF, flicker).
//! `speed`: 10 s clips at 720p and 1080p per model: frames/s, real-time factor, and the share of
//! time in decode, inference, post-processing and encode.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use clap::{Parser, Subcommand};

#[path = "video/service.rs"]
mod service;
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
}

#[derive(Subcommand)]
enum Cmd {
    Stability {
        #[arg(long, default_value = "../shared/eval")]
        set: PathBuf,
        #[arg(long, default_value = "u2netp,u2net")]
        models: String,
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
        #[arg(long, default_value = "out/video-service-eval")]
        out: PathBuf,
        #[arg(long, default_value = "python3")]
        python: String,
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

/// The clip's JPEG frames as a near-lossless 24 fps mp4 at `height` (0 = as is), looped to
/// `seconds` (0 = once).
fn clip_mp4(set: &Path, out: &Path, height: u32, seconds: u32) -> PathBuf {
    let frames = set.join("video/blackswan/frames/%05d.jpg");
    let file = out.join(format!("blackswan-{height}p-{seconds}s.mp4"));
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

/// The defaults, or `CUTOUT_TEMPORAL=still,motion,change,contrast` (and `CUTOUT_TEMPORAL_MEDIAN=0`)
/// to try other settings.
fn temporal_options(enabled: bool) -> TemporalOptions {
    let mut t = TemporalOptions {
        enabled,
        ..Default::default()
    };
    if std::env::var("CUTOUT_TEMPORAL_MEDIAN").is_ok_and(|v| v == "0") {
        t.median = false;
    }
    if let Ok(v) = std::env::var("CUTOUT_TEMPORAL") {
        let p: Vec<f32> = v.split(',').filter_map(|x| x.parse().ok()).collect();
        if let [still, motion, change, contrast] = p[..] {
            (
                t.still_weight,
                t.motion_threshold,
                t.change_threshold,
                t.edge_contrast,
            ) = (still, motion, change, contrast);
        }
    }
    t
}

fn print_header() {
    println!("| model | pipeline | mIoU | MAE | BF@3px | flicker |");
    println!("|---|---|---|---|---|---|");
}

/// Scores the frame-by-frame and the stabilised PNG sequences and prints their rows.
fn report(model: &str, zips: &[PathBuf; 2], set: &Path, python: &str) {
    let mut flicker = [0.0; 2];
    for (i, name) in ["frame by frame", "stabilised"].into_iter().enumerate() {
        let pred = zips[i].with_extension("");
        alphas(&zips[i], &pred);
        let s = score(python, set, &pred);
        flicker[i] = s["flicker"].as_f64().unwrap();
        let m = |k: &str| s[k].as_f64().unwrap();
        println!(
            "| {model} | {name} | {:.4} | {:.4} | {:.4} | {:.5} |",
            m("iou"),
            m("mae"),
            m("bf"),
            flicker[i]
        );
    }
    let reduction = 100.0 * (1.0 - flicker[1] / flicker[0]);
    println!("| {model} | flicker reduction | | | | {reduction:.1} % |");
}

/// Unzips the PNG frames' alpha into `dir/video/blackswan/00000.png ...` for the scorer.
fn alphas(zip_path: &Path, dir: &Path) {
    let target = dir.join("video/blackswan");
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

fn score(python: &str, set: &Path, pred: &Path) -> serde_json::Value {
    let json = pred.join("score.json");
    let ok = Command::new(python)
        .arg(set.join("score.py"))
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
    v["video"]["blackswan"].clone()
}

fn main() {
    let cli = Cli::parse();
    let provider = Arc::new(EngineProvider::new(
        cutout_models::DataDir::from_env(),
        InferenceOptions::exclusive(1).on(cli.engine, cli.precision),
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
            out,
            python,
        } => {
            std::fs::create_dir_all(&out).unwrap();
            let input = clip_mp4(&set, &out, 0, 0);
            print_header();
            for model in models.split(',') {
                let zips = [false, true].map(|temporal| {
                    let zip = out.join(format!("{model}-{temporal}.zip"));
                    let fmt = VideoFormat::PngSequence;
                    run(&provider, model, &input, &zip, fmt, temporal);
                    zip
                });
                report(model, &zips, &set, &python);
            }
        }
        Cmd::Service {
            url,
            key,
            set,
            models,
            out,
            python,
        } => {
            std::fs::create_dir_all(&out).unwrap();
            let input = clip_mp4(&set, &out, 0, 0);
            let rt = tokio::runtime::Runtime::new().unwrap();
            let client = service::Client::new(&url, &key);
            let video_url = rt.block_on(client.upload(&input));
            print_header();
            for model in models.split(',') {
                let zips = [false, true].map(|smoothing| {
                    let zip = out.join(format!("{model}-{smoothing}.zip"));
                    rt.block_on(client.png_sequence(&video_url, model, smoothing, &zip));
                    zip
                });
                report(model, &zips, &set, &python);
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
            println!("| model | clip | frames | frames/s | real-time factor | decode | inference | refine+compose | encode |");
            println!("|---|---|---|---|---|---|---|---|---|");
            for h in heights.split(',').map(|h| h.parse::<u32>().unwrap()) {
                let input = clip_mp4(&set, &out, h, seconds);
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
                    let pct = |v: u64| 100.0 * v as f64 / s.total_ms.max(1) as f64;
                    println!(
                        "| {model} | {seconds} s {h}p | {} | {:.2} | {:.2}x | {:.0} % | {:.0} % | {:.0} % | {:.0} % |",
                        s.frames,
                        s.frames as f64 / secs,
                        secs / seconds as f64,
                        pct(s.decode_ms),
                        pct(s.inference_ms),
                        pct(s.post_ms),
                        pct(s.encode_ms)
                    );
                }
            }
        }
    }
}
