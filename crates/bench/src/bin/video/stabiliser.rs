//! `stabiliser`: the temporal stabiliser alone, without inference or video I/O, so its cost is
//! not mixed with the model's (whose idle threads spin while the stabiliser runs). The eval
//! clip's frames at a given height with its ground-truth masks at the model's 320x320: the
//! stabiliser's work depends on the sizes, not on what the masks say.

use std::path::Path;
use std::time::{Duration, Instant};

use cutout_core::{Mask, Stabilizer, TemporalOptions};
use image::imageops::{resize, FilterType};
use image::RgbaImage;

/// The side of the default models' mask.
const MASK_SIDE: u32 = 320;

/// The frames of `clip` in the eval set `set`, scaled to `height`, each with its mask.
pub fn load(set: &Path, clip: &str, height: u32) -> Vec<(RgbaImage, Mask)> {
    let dir = set.join("video").join(clip);
    let mut names: Vec<_> = std::fs::read_dir(dir.join("frames"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let frame = image::open(dir.join("frames").join(&name))
                .unwrap()
                .to_rgba8();
            let width = frame.width() * height / frame.height();
            let frame = resize(&frame, width, height, FilterType::Triangle);
            let stem = Path::new(&name).with_extension("png");
            let gt = image::open(dir.join("masks").join(stem))
                .unwrap()
                .to_luma8();
            let gt = resize(&gt, MASK_SIDE, MASK_SIDE, FilterType::Triangle);
            let mask = Mask::new(MASK_SIDE, MASK_SIDE, gt.into_raw()).unwrap();
            (frame, mask)
        })
        .collect()
}

/// Milliseconds per frame spent in the stabiliser over `rounds` passes of `frames` (one
/// stream: each pass follows the last, as a cut would).
pub fn time(frames: &[(RgbaImage, Mask)], opts: TemporalOptions, rounds: usize) -> f64 {
    let mut s = Stabilizer::new(opts);
    let (mut spent, mut out) = (Duration::ZERO, 0);
    for _ in 0..rounds {
        for (frame, mask) in frames {
            let (frame, mask) = (frame.clone(), mask.clone());
            let t = Instant::now();
            out += usize::from(s.push(frame, mask).is_some());
            spent += t.elapsed();
        }
    }
    let t = Instant::now();
    out += usize::from(s.finish().is_some());
    spent += t.elapsed();
    spent.as_secs_f64() * 1000.0 / out.max(1) as f64
}
