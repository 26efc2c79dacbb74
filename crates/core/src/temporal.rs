//! Temporal stabilisation of per-frame masks. A segmenter sees each video frame alone, so its
//! mask wobbles from frame to frame even where nothing moved: the cut-out's edge shimmers. The
//! [`Stabilizer`] blends each new mask with the previous stabilised one, per pixel, by how much
//! the picture changed there: where the image is still, the mask keeps most of its history; where
//! it moved, the new mask wins at once, so moving edges do not lag or ghost.

use image::RgbaImage;

use crate::Mask;

/// Documented defaults: see each field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TemporalOptions {
    /// Turn the blending off to get the raw per-frame masks.
    pub enabled: bool,
    /// Before blending, replace each raw mask by the per-pixel median of itself and its two
    /// neighbours in time (a one-frame lookahead, see [`MedianWindow`]). A flip the model makes
    /// for a single frame disappears, while a real change (monotonic over the three frames)
    /// passes unchanged and without lag. Default on.
    pub median: bool,
    /// The new mask's weight where the image did not change (0-1). Lower is steadier but slower
    /// to follow changes the model makes without motion. Default 0.1.
    pub still_weight: f32,
    /// The luma change (0-1) at which a pixel counts as fully moving. Default 0.3: only a strong
    /// change counts, since a panning camera changes every textured pixel a little.
    pub motion_threshold: f32,
    /// The alpha change (0-1) at which the model's new opinion is taken at once, even where the
    /// picture is still: smaller changes are the model's jitter and are damped. Default 0.6.
    pub change_threshold: f32,
    /// Contrast of the final alpha around 0.5 (1 = unchanged), applied by [`steepen_alpha`]
    /// after refinement. A model's soft edge, several pixels wide after upscaling, "breathes"
    /// from frame to frame; steepening it keeps the edge where the model puts it while removing
    /// most of that shimmer. Default 3.
    pub edge_contrast: f32,
}

impl Default for TemporalOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            median: true,
            still_weight: 0.1,
            motion_threshold: 0.3,
            change_threshold: 0.6,
            edge_contrast: 3.0,
        }
    }
}

/// Carries the previous frame's luma and stabilised alpha, at the mask's resolution.
pub struct Stabilizer {
    opts: TemporalOptions,
    prev: Option<(u32, u32, Vec<f32>, Vec<f32>)>,
}

impl Stabilizer {
    pub fn new(opts: TemporalOptions) -> Self {
        Self { opts, prev: None }
    }

    /// The stabilised version of `mask`, the raw mask of `frame`.
    pub fn apply(&mut self, frame: &RgbaImage, mask: &Mask) -> Mask {
        if !self.opts.enabled {
            return mask.clone();
        }
        let (w, h) = (mask.width(), mask.height());
        let luma = sample_luma(frame, w, h);
        let raw: Vec<f32> = mask.data().iter().map(|&v| v as f32 / 255.0).collect();
        let alpha = match self.prev.take() {
            Some((pw, ph, prev_luma, prev_alpha)) if (pw, ph) == (w, h) => {
                blend(&raw, &luma, &prev_luma, &prev_alpha, &self.opts)
            }
            _ => raw,
        };
        let out = Mask::from_unit_f32(w, h, &alpha).unwrap_or_else(|| mask.clone());
        self.prev = Some((w, h, luma, alpha));
        out
    }
}

fn blend(
    raw: &[f32],
    luma: &[f32],
    prev_luma: &[f32],
    prev: &[f32],
    o: &TemporalOptions,
) -> Vec<f32> {
    let thr = o.motion_threshold.max(1e-3);
    let change = o.change_threshold.max(1e-3);
    let still = o.still_weight.clamp(0.0, 1.0);
    raw.iter()
        .zip(luma.iter().zip(prev_luma))
        .zip(prev)
        .map(|((&r, (&l, &pl)), &p)| {
            let motion = ((l - pl).abs() / thr).max((r - p).abs() / change).min(1.0);
            let w = still + (1.0 - still) * motion;
            w * r + (1.0 - w) * p
        })
        .collect()
}

/// Delays frames by one so each raw mask can be replaced by the per-pixel median of the previous,
/// current and next raw masks (see [`TemporalOptions::median`]). Push frames in order; each push
/// returns the frame before it, with its filtered mask; [`MedianWindow::finish`] returns the last.
pub struct MedianWindow<F> {
    prev: Option<Mask>,
    current: Option<(F, Mask)>,
}

impl<F> Default for MedianWindow<F> {
    fn default() -> Self {
        Self {
            prev: None,
            current: None,
        }
    }
}

impl<F> MedianWindow<F> {
    pub fn push(&mut self, frame: F, mask: Mask) -> Option<(F, Mask)> {
        let out = self.current.take().map(|(f, cur)| {
            let filtered = median3(self.prev.as_ref().unwrap_or(&cur), &cur, &mask);
            self.prev = Some(cur);
            (f, filtered)
        });
        self.current = Some((frame, mask));
        out
    }

    /// The last frame, whose next neighbour is itself.
    pub fn finish(&mut self) -> Option<(F, Mask)> {
        let (f, cur) = self.current.take()?;
        let filtered = median3(self.prev.as_ref().unwrap_or(&cur), &cur, &cur);
        Some((f, filtered))
    }
}

/// Per-pixel median of three masks; masks of another size than `cur` are ignored.
fn median3(a: &Mask, cur: &Mask, b: &Mask) -> Mask {
    let same = |m: &Mask| (m.width(), m.height()) == (cur.width(), cur.height());
    if !same(a) || !same(b) {
        return cur.clone();
    }
    let data = a
        .data()
        .iter()
        .zip(cur.data())
        .zip(b.data())
        .map(|((&x, &y), &z)| x.max(y).min(x.min(y).max(z)))
        .collect();
    Mask::new(cur.width(), cur.height(), data).unwrap_or_else(|| cur.clone())
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
mod tests {
    use super::*;

    fn flat(v: u8) -> RgbaImage {
        RgbaImage::from_pixel(8, 8, image::Rgba([v, v, v, 255]))
    }

    fn mask(v: u8) -> Mask {
        Mask::new(4, 4, vec![v; 16]).unwrap()
    }

    #[test]
    fn a_still_scene_damps_mask_flicker() {
        let mut s = Stabilizer::new(TemporalOptions::default());
        let frame = flat(100);
        let outs: Vec<u8> = [230u8, 150, 230, 150, 230]
            .iter()
            .map(|&v| s.apply(&frame, &mask(v)).data()[0])
            .collect();
        assert!(outs[0].abs_diff(230) <= 1, "the first frame passes through");
        // The model's jitter of 80 a frame becomes much smaller.
        let swing = outs
            .windows(2)
            .map(|w| (w[0] as i32 - w[1] as i32).abs())
            .max()
            .unwrap();
        assert!(swing < 50, "{outs:?}");
    }

    #[test]
    fn motion_lets_the_new_mask_through() {
        let mut s = Stabilizer::new(TemporalOptions::default());
        s.apply(&flat(20), &mask(0));
        let moved = s.apply(&flat(220), &mask(255));
        assert_eq!(moved.data()[0], 255);
    }

    #[test]
    fn steepening_keeps_the_edge_and_the_extremes() {
        let mut f = RgbaImage::from_fn(4, 1, |x, _| {
            image::Rgba([0, 0, 0, [0, 100, 128, 255][x as usize]])
        });
        steepen_alpha(&mut f, 3.0);
        let a: Vec<u8> = f.pixels().map(|p| p[3]).collect();
        assert_eq!(a, [0, 45, 129, 255]);
    }

    #[test]
    fn the_median_drops_single_frame_flips_and_keeps_real_changes() {
        let mut w = MedianWindow::default();
        let mut out = Vec::new();
        // A flip at frame 1, then a real change from frame 4 on.
        for (i, v) in [0u8, 255, 0, 0, 200, 200].into_iter().enumerate() {
            out.extend(w.push(i, mask(v)));
        }
        out.extend(w.finish());
        let got: Vec<(usize, u8)> = out.iter().map(|(i, m)| (*i, m.data()[0])).collect();
        assert_eq!(got, [(0, 0), (1, 0), (2, 0), (3, 0), (4, 200), (5, 200)]);
    }

    #[test]
    fn disabled_is_the_identity() {
        let mut s = Stabilizer::new(TemporalOptions {
            enabled: false,
            ..Default::default()
        });
        s.apply(&flat(1), &mask(0));
        assert_eq!(s.apply(&flat(1), &mask(200)).data()[0], 200);
    }
}
