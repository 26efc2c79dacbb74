//! `cutout remove`: the pipeline over files, folders or stdin, on `--jobs` worker threads that
//! share one loaded model.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cutout_core::compose::parse_color;
use cutout_core::SegmenterProvider;
use cutout_core::{
    decode, process, Background, ComposeOptions, CropMargin, CutoutError, DecodeError,
    EncodeOptions, Options, OutputFormat, RefineOptions, Segmenter,
};
use cutout_infer::{EngineProvider, InferenceOptions};
use cutout_models::DataDir;

use crate::args::RemoveArgs;
use crate::progress::Progress;
use crate::targets::{plan, Target};

use crate::BoxError;

pub fn run(data: &DataDir, args: RemoveArgs) -> Result<ExitCode, BoxError> {
    let opts = options(&args)?;
    let targets = plan(
        &args.inputs,
        args.output.as_deref(),
        opts.encode.format.extension(),
    )?;
    let e = args.engine;
    let provider = EngineProvider::new(
        data.clone(),
        InferenceOptions {
            device: e.device,
            ..InferenceOptions::exclusive(usize::from(args.jobs)).on(e.engine, e.precision)
        },
    );
    provider.plan()?;
    let segmenter = provider.get(&args.model)?;
    if targets
        == [Target {
            input: None,
            output: None,
        }]
    {
        return stdin_to_stdout(segmenter.as_ref(), &opts);
    }
    let progress = Progress::new(targets.len());
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Result<Duration, BoxError>)>();
    let (mut ok, mut failed) = (0, 0);
    std::thread::scope(|s| {
        for _ in 0..usize::from(args.jobs).min(targets.len()) {
            let tx = tx.clone();
            let (targets, next, segmenter, opts) = (&targets, &next, segmenter.as_ref(), &opts);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(t) = targets.get(i) else { break };
                let t0 = Instant::now();
                let r = one_file(t, segmenter, opts).map(|()| t0.elapsed());
                if tx.send((i, r)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (i, r) in rx {
            let t = &targets[i];
            let (input, output) = (
                t.input.as_deref().unwrap_or(Path::new("-")),
                t.output.as_deref().unwrap_or(Path::new("-")),
            );
            match r {
                Ok(took) => {
                    ok += 1;
                    progress.done(input, output, took);
                }
                Err(e) => {
                    failed += 1;
                    progress.failed(input, &e);
                }
            }
        }
    });
    progress.finish(ok, failed);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn one_file(t: &Target, segmenter: &dyn Segmenter, opts: &Options) -> Result<(), BoxError> {
    let (Some(input), Some(output)) = (&t.input, &t.output) else {
        unreachable!("files only")
    };
    let bytes = read_limited(input, opts.limits.max_bytes)?;
    let out = process(&bytes, segmenter, opts)?;
    write_atomic(output, &out.bytes)
}

/// Checks the size from metadata before reading, so a huge file is refused without loading it.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, BoxError> {
    let size = std::fs::metadata(path)?.len();
    if size > limit {
        return Err(CutoutError::Decode(DecodeError::TooManyBytes { size, limit }).into());
    }
    Ok(std::fs::read(path)?)
}

/// Writes beside the target and renames, so an interrupted run never leaves a half-written file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BoxError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut builder = tempfile::Builder::new();
    // tempfile creates its files 0600; an output gets what a newly created file gets (0666 less
    // the umask), or the rest of a shared workflow cannot read it. A replaced output takes that
    // mode too, not the old file's.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn stdin_to_stdout(segmenter: &dyn Segmenter, opts: &Options) -> Result<ExitCode, BoxError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(opts.limits.max_bytes + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > opts.limits.max_bytes {
        let e = DecodeError::TooManyBytes {
            size: bytes.len() as u64,
            limit: opts.limits.max_bytes,
        };
        return Err(CutoutError::Decode(e).into());
    }
    let out = process(&bytes, segmenter, opts)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out.bytes)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Parses the command line into pipeline options; bad values are reported before any work.
fn options(a: &RemoveArgs) -> Result<Options, BoxError> {
    let mut format: OutputFormat =
        match (&a.format, a.output.as_deref().and_then(|o| o.extension())) {
            (Some(f), _) => f.parse()?,
            // `-o cut.jpg` means JPEG; a folder or an unknown extension means the default.
            (None, Some(ext)) => ext
                .to_str()
                .and_then(|e| e.parse().ok())
                .unwrap_or_default(),
            (None, None) => OutputFormat::default(),
        };
    if a.only_mask {
        format = OutputFormat::Mask;
    }
    let mut opts = Options::default();
    opts.limits.max_bytes = a.max_bytes;
    opts.limits.max_pixels = (a.max_megapixels * 1e6) as u64;
    opts.refine = RefineOptions {
        guided_filter: !a.no_edge_refine,
        decontaminate: !a.no_decontaminate,
        radius: a.edge_radius,
        epsilon: a.edge_epsilon,
        work_size: a.work_size,
    };
    if let Some(s) = a.scale.filter(|s| !(*s > 0.0 && *s <= 1.0)) {
        return Err(format!("--scale must be in (0, 1], got {s}").into());
    }
    let background = match (&a.bg_color, &a.bg_image) {
        (Some(c), _) => Background::Color(parse_color(c)?),
        (None, Some(p)) => Background::Image(load_background(p, &opts)?),
        (None, None) => Background::Transparent,
    };
    let jpeg_background = match &background {
        Background::Color(c) => *c,
        _ => EncodeOptions::default().jpeg_background,
    };
    opts.compose = ComposeOptions {
        background,
        crop: a.crop,
        crop_margin: a.crop_margin.parse::<CropMargin>()?,
        scale: a.scale,
        max_width: a.max_width,
        max_height: a.max_height,
    };
    opts.encode = EncodeOptions {
        format,
        quality: a.quality,
        webp_lossy: a.webp_lossy,
        jpeg_background,
        ..Default::default()
    };
    Ok(opts)
}

fn load_background(path: &Path, opts: &Options) -> Result<cutout_core::RgbaImage, BoxError> {
    let bytes = read_limited(path, opts.limits.max_bytes)?;
    let decoded = decode(&bytes, &opts.limits).map_err(CutoutError::Background)?;
    Ok(decoded.image)
}
