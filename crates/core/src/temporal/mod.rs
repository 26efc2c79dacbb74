//! Temporal stabilisation of per-frame masks. A segmenter sees each video frame alone, so its
//! mask wobbles from frame to frame even where nothing moved: the cut-out's edge shimmers. The
//! [`Stabilizer`] removes that wobble without trailing the subject when it moves:
//!
//! 1. It estimates the motion between neighbouring frames at the mask's resolution
//!    ([`motion`]: block matching on a small pyramid, then a few Lucas-Kanade steps per pixel
//!    that make the edge's motion exact to a fraction of a pixel) and moves the neighbours' masks
//!    onto the current frame before using them, so history follows the subject instead of being
//!    averaged across its motion.
//! 2. A one-frame lookahead median: each raw mask becomes the per-pixel median of itself and its
//!    two neighbours, each moved onto it. A flip the model makes for a single frame disappears;
//!    a moving edge, a spinning part or a limb crossing a pixel for one frame stays, since the
//!    moved neighbours agree with it.
//! 3. A blend with the previous stabilised alpha (moved too), per pixel by how well the moved
//!    previous frame matches this one: where the match is good (still or tracked), the mask keeps
//!    most of its history; where it is poor (occlusion, a new part, a cut), the new mask wins at
//!    once. Neighbours that do not match are not used by the median either. The picture decides,
//!    not the model: where the picture matches, even a large change of the model's mind is damped.
//!
//! Measured alternatives (README, the `make video-eval` figures): blending by the raw per-pixel
//! luma change without motion (the previous design) smeared the median across moving edges and
//! spinning parts; dropping the median kept more flicker on still scenes; tile vectors without
//! the per-pixel refinement left the edge a fraction of a pixel off, which the steepened alpha
//! shows as flicker; taking large changes of the model's mind at once let its one-frame misses
//! through on fast motion.

mod lucas_kanade;
pub mod motion;

use image::RgbaImage;

use crate::Mask;
use motion::{estimate, Flow, Plane, Pyramid};

/// Documented defaults: see each field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TemporalOptions {
    /// Turn stabilisation off to get the raw per-frame masks.
    pub enabled: bool,
    /// The one-frame lookahead median over motion-compensated neighbours. Default on.
    pub median: bool,
    /// The new mask's weight where the previous frame, moved, matches this one (0-1). Lower is
    /// steadier but slower to follow changes the model makes without motion. Default 0.15
    /// (measured: 0.1 let u2netp's edge trail on the fast-motion clip, boundary F 0.603 against
    /// 0.618; 0.2 added flicker on blackswan).
    pub still_weight: f32,
    /// The luma mismatch (0-1) between this frame and the moved previous one at which a pixel
    /// counts as not tracked: its history is dropped. Default 0.12.
    ///
    /// Where the picture matches, a change of the model's mind is damped however large it is
    /// (it takes about ten frames to settle): on the fast-motion clip, taking large changes at
    /// once let the model's one-frame misses through (mIoU 0.80 without, 0.74 with).
    pub motion_threshold: f32,
    /// How far motion is searched between frames, in pixels at the mask's resolution
    /// (320 for the default models); 0 turns motion compensation off. Default 24.
    pub motion_search: u32,
    /// Contrast of the final alpha around 0.5 (1 = unchanged), applied by [`steepen_alpha`]
    /// after refinement. A model's soft edge, several pixels wide after upscaling, "breathes"
    /// from frame to frame; steepening it keeps the edge where the model puts it while removing
    /// most of that shimmer. Default 5.
    pub edge_contrast: f32,
    /// The guided filter's regularisation for stabilised frames, in place of
    /// [`RefineOptions::epsilon`](crate::refine::RefineOptions::epsilon): a filter that follows
    /// each frame's own edges tightly adds back the shimmer of its noise and compression, which
    /// the stabilised mask does not have. Default 1e-3 (10x the still-image default; measured on
    /// u2net with a history weight of 0.1: blackswan flicker 0.00286 → 0.00283, fastmotion
    /// boundary F 0.687 → 0.690).
    pub refine_epsilon: f32,
}

impl Default for TemporalOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            median: true,
            still_weight: 0.15,
            motion_threshold: 0.12,
            motion_search: 24,
            edge_contrast: 5.0,
            refine_epsilon: 1e-3,
        }
    }
}

/// A frame as the stabiliser sees it: its luma and raw mask at the mask's resolution.
struct Seen {
    luma: Pyramid,
    raw: Plane,
    /// How much each pixel counts when matching motion: the subject several times more than the
    /// background (see [`motion::estimate`]).
    weight: Pyramid,
}

impl Seen {
    fn new(frame: &RgbaImage, mask: &Mask) -> Seen {
        let (w, h) = (mask.width() as usize, mask.height() as usize);
        let raw: Vec<f32> = mask.data().iter().map(|&v| v as f32 / 255.0).collect();
        let weight = raw.iter().map(|a| BACKGROUND_WEIGHT + a).collect();
        Seen {
            weight: Pyramid::new(Plane::new(w, h, weight)),
            luma: Pyramid::new(Plane::new(w, h, sample_luma(frame, w as u32, h as u32))),
            raw: Plane::new(w, h, raw),
        }
    }

    fn same_size(&self, other: &Seen) -> bool {
        (self.raw.w, self.raw.h) == (other.raw.w, other.raw.h)
    }
}

/// The background's weight in motion matching, against 1 + this for the subject.
const BACKGROUND_WEIGHT: f32 = 0.1;

/// Misalignment, in pixels at the mask's resolution, that is not counted as a mismatch.
const ALIGN_SLACK: f32 = 1.0;

/// Another frame aligned to the current one: the motion, and how badly each pixel matches after
/// moving (0 = perfectly, 1 = not at all, on the `motion_threshold` scale).
struct Aligned {
    flow: Flow,
    mismatch: Vec<f32>,
}

impl Aligned {
    fn new(cur: &Seen, other: &Seen, o: &TemporalOptions) -> Aligned {
        let field = estimate(&cur.luma, &other.luma, &cur.weight, o.motion_search);
        let (luma, w, h) = (cur.luma.full(), cur.raw.w, cur.raw.h);
        let mut flow = Flow::new(&field, w, h);
        if o.motion_search > 0 {
            flow.refine(luma, other.luma.full(), cur.weight.full());
        }
        let moved = flow.warp(other.luma.full());
        let diff: Vec<f32> = luma
            .px
            .iter()
            .zip(&moved.px)
            .map(|(a, b)| (a - b).abs())
            .collect();
        // An edge seen in both frames may be misaligned by a fraction of a pixel, which shows as
        // a large luma difference though the match is right: the difference is tolerated in
        // proportion to the gradient there. An edge in one frame only (something that appeared)
        // has no such tolerance.
        let shared: Vec<f32> = gradient(luma)
            .iter()
            .zip(gradient(&moved))
            .map(|(a, b)| a.min(b))
            .collect();
        let thr = o.motion_threshold.max(1e-3);
        let scaled: Vec<f32> = box3(&diff, w, h)
            .iter()
            .zip(box3(&shared, w, h))
            .map(|(d, g)| d / (thr + ALIGN_SLACK * g))
            .collect();
        let mismatch = max3(&scaled, w, h)
            .into_iter()
            .map(|m| m.min(1.0))
            .collect();
        Aligned { flow, mismatch }
    }

    /// `plane` of the other frame moved onto the current one; where it does not match, `fallback`.
    fn moved(&self, plane: &Plane, fallback: &Plane) -> Plane {
        let mut out = self.flow.warp(plane);
        for ((v, &m), &f) in out.px.iter_mut().zip(&self.mismatch).zip(&fallback.px) {
            *v = m * f + (1.0 - m) * *v;
        }
        out
    }
}

/// Stabilises a stream of (frame, raw mask) pairs. With the median on, each frame comes out one
/// push later (it waits for its next neighbour); [`Stabilizer::finish`] gives the last one.
pub struct Stabilizer {
    opts: TemporalOptions,
    pending: Option<(RgbaImage, Seen)>,
    /// The last frame given out, with its stabilised alpha.
    last: Option<(Seen, Plane)>,
}

impl Stabilizer {
    pub fn new(opts: TemporalOptions) -> Self {
        Self {
            opts,
            pending: None,
            last: None,
        }
    }

    /// Takes the next frame and its raw mask; returns the frame that is ready, if any, with its
    /// stabilised mask.
    pub fn push(&mut self, frame: RgbaImage, mask: Mask) -> Option<(RgbaImage, Mask)> {
        if !self.opts.enabled {
            return Some((frame, mask));
        }
        let seen = Seen::new(&frame, &mask);
        if !self.opts.median {
            let m = self.settle(seen, None);
            return Some((frame, m));
        }
        let ready = self.pending.take().map(|(f, cur)| {
            let m = self.settle(cur, Some(&seen));
            (f, m)
        });
        self.pending = Some((frame, seen));
        ready
    }

    /// The frame still waiting for a neighbour at the end of the stream.
    pub fn finish(&mut self) -> Option<(RgbaImage, Mask)> {
        let (f, cur) = self.pending.take()?;
        let m = self.settle(cur, None);
        Some((f, m))
    }

    fn settle(&mut self, cur: Seen, next: Option<&Seen>) -> Mask {
        let o = self.opts;
        let last = self.last.take().filter(|(s, _)| s.same_size(&cur));
        let back = last.as_ref().map(|(s, _)| Aligned::new(&cur, s, &o));
        let raw = match o.median {
            true => {
                let prev = match (&back, &last) {
                    (Some(a), Some((s, _))) => a.moved(&s.raw, &cur.raw),
                    _ => cur.raw.clone(),
                };
                let next = match next.filter(|n| n.same_size(&cur)) {
                    Some(n) => Aligned::new(&cur, n, &o).moved(&n.raw, &cur.raw),
                    None => cur.raw.clone(),
                };
                median3(&prev, &cur.raw, &next)
            }
            false => cur.raw.clone(),
        };
        let alpha = match (&back, &last) {
            (Some(a), Some((_, prev_alpha))) => {
                let prev = a.flow.warp(prev_alpha);
                blend(&raw, &a.mismatch, &prev, &o)
            }
            _ => raw,
        };
        let mask = Mask::from_unit_f32(alpha.w as u32, alpha.h as u32, &alpha.px)
            .expect("a plane of the mask's own size");
        self.last = Some((cur, alpha));
        mask
    }
}

/// The new mask where the previous one does not match, mostly the previous one elsewhere.
fn blend(raw: &Plane, mismatch: &[f32], prev: &Plane, o: &TemporalOptions) -> Plane {
    let still = o.still_weight.clamp(0.0, 1.0);
    let px = raw
        .px
        .iter()
        .zip(mismatch)
        .zip(&prev.px)
        .map(|((&r, &m), &p)| {
            let w = still + (1.0 - still) * m;
            w * r + (1.0 - w) * p
        })
        .collect();
    Plane::new(raw.w, raw.h, px)
}

/// Per-pixel median of three planes of the same size.
fn median3(a: &Plane, cur: &Plane, b: &Plane) -> Plane {
    let px =
        a.px.iter()
            .zip(&cur.px)
            .zip(&b.px)
            .map(|((&x, &y), &z)| x.max(y).min(x.min(y).max(z)))
            .collect();
    Plane::new(cur.w, cur.h, px)
}

/// The luma change per pixel at each pixel (mean of the central differences across and down).
fn gradient(p: &Plane) -> Vec<f32> {
    let (gx, gy) = p.gradients();
    gx.iter()
        .zip(&gy)
        .map(|(x, y)| (x.abs() + y.abs()) / 2.0)
        .collect()
}

/// Mean over each pixel's 3x3 neighbourhood (clamped at the borders): one noisy pixel of luma
/// must not read as a mismatch.
fn box3(v: &[f32], w: usize, h: usize) -> Vec<f32> {
    over3x3(v, w, h, |a, b, c| (a + b + c) / 3.0)
}

/// Maximum over each pixel's 3x3 neighbourhood: a mismatch also covers the pixels next to it,
/// where the averaging of [`box3`] diluted it (the leading edge of a thin moving part).
fn max3(v: &[f32], w: usize, h: usize) -> Vec<f32> {
    over3x3(v, w, h, |a, b, c| a.max(b).max(c))
}

/// A separable 3x3 filter: `f` over each row's three neighbours, then each column's.
fn over3x3(v: &[f32], w: usize, h: usize, f: impl Fn(f32, f32, f32) -> f32) -> Vec<f32> {
    let mut rows = vec![0.0; v.len()];
    for (src, dst) in v.chunks_exact(w).zip(rows.chunks_exact_mut(w)) {
        for x in 0..w {
            dst[x] = f(src[x.saturating_sub(1)], src[x], src[(x + 1).min(w - 1)]);
        }
    }
    let mut out = vec![0.0; v.len()];
    for y in 0..h {
        let (up, down) = (y.saturating_sub(1) * w, (y + 1).min(h - 1) * w);
        for x in 0..w {
            out[y * w + x] = f(rows[up + x], rows[y * w + x], rows[down + x]);
        }
    }
    out
}

/// Steepens the alpha of a refined frame around 0.5 by `contrast` (see
/// [`TemporalOptions::edge_contrast`]).
pub fn steepen_alpha(frame: &mut RgbaImage, contrast: f32) {
    if (contrast - 1.0).abs() < f32::EPSILON {
        return;
    }
    let lut: Vec<u8> = (0..=255u32)
        .map(|a| {
            let v = (a as f32 / 255.0 - 0.5) * contrast + 0.5;
            (v.clamp(0.0, 1.0) * 255.0).round() as u8
        })
        .collect();
    for p in frame.pixels_mut() {
        p.0[3] = lut[p.0[3] as usize];
    }
}

/// The frame's luma (0-1) at the centre of each mask pixel, averaged over a 2x2 neighbourhood so
/// sensor noise does not read as motion.
fn sample_luma(frame: &RgbaImage, w: u32, h: u32) -> Vec<f32> {
    let (fw, fh) = frame.dimensions();
    let mut out = Vec::with_capacity((w * h) as usize);
    let luma = |x: u32, y: u32| {
        let p = frame.get_pixel(x.min(fw - 1), y.min(fh - 1)).0;
        (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32) / 255.0
    };
    for y in 0..h {
        let sy = ((y as f32 + 0.5) * fh as f32 / h as f32) as u32;
        for x in 0..w {
            let sx = ((x as f32 + 0.5) * fw as f32 / w as f32) as u32;
            out.push(
                (luma(sx, sy) + luma(sx + 1, sy) + luma(sx, sy + 1) + luma(sx + 1, sy + 1)) / 4.0,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests;
