//! The full-resolution pass: evaluates the guided filter's upsampled linear model per pixel and
//! re-estimates the colour of semi-transparent pixels.
//!
//! Most of a photo is plainly subject or plainly background. The model's coefficients are
//! upsampled bilinearly, so every pixel's coefficients are a convex combination of the four
//! work-resolution samples around it, and the alpha they can give, over every possible colour, is
//! bounded by those four samples' bounds. Cells whose bounds are past the levels clip are settled
//! without touching their pixels' colours; only edge cells are evaluated (from a few percent of a
//! photo with a crisp subject to about a quarter of one with a large soft mask).

use std::ops::Range;

use image::RgbaImage;
use rayon::prelude::*;

use super::{decontam, guided};
use crate::plane::{bilinear_taps, lerp_rows, Plane};
use crate::Mask;

/// The guided filter leaves a faint residue of the low-resolution mask's blur in flat regions
/// (a few percent of alpha spread over several pixels). A linear levels stretch that maps
/// [CLEAN, 1 - CLEAN] onto [0, 1] removes it and keeps the 50 % point where it is; genuinely soft
/// edges (hair) keep their gradient, slightly steeper.
const CLEAN: f32 = 0.06;

/// Slack on the cell bounds for the rounding of the per-pixel arithmetic.
const BOUND_SLACK: f32 = 1e-3;

#[inline]
fn clean_levels(a: f32) -> f32 {
    ((a - CLEAN) * (1.0 / (1.0 - 2.0 * CLEAN))).clamp(0.0, 1.0)
}

/// What a cell of the coefficient grid gives every pixel in it, whatever the pixel's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// Alpha 1: the pixel is kept as it is.
    Opaque,
    /// Alpha 0.
    Clear,
    /// Evaluated per pixel.
    Edge,
}

pub(super) struct Fused<'a> {
    pub coeffs: Option<&'a guided::Coeffs>,
    pub fields: Option<&'a decontam::ColourFields>,
    /// The plain resized mask, when there is no guided filter.
    pub base_alpha: Option<&'a Mask>,
}

impl Fused<'_> {
    fn planes(&self) -> Vec<&Plane> {
        let mut planes = Vec::new();
        if let Some(c) = self.coeffs {
            planes.extend(c.a.iter().chain([&c.b]));
        }
        if let Some(f) = self.fields {
            planes.extend(f.fg.iter().chain(f.bg.iter()));
        }
        planes
    }

    pub fn apply(&self, image: &mut RgbaImage) {
        self.apply_with(image, self.coeffs.map(cell_classes));
    }

    /// [`Fused::apply`] with the cell classes given; `None` evaluates every pixel.
    fn apply_with(&self, image: &mut RgbaImage, cells: Option<Vec<Cell>>) {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let planes = self.planes();
        let (pw, ph) = (planes[0].w, planes[0].h);
        let xt = bilinear_taps(pw, w);
        let yt = bilinear_taps(ph, h);
        let spans = tap_spans(&xt, pw);
        let ts: Vec<f32> = xt.iter().map(|t| t.2).collect();
        image.par_chunks_mut(w * 4).enumerate().for_each_init(
            || vec![0f32; pw * planes.len()],
            |rows, (y, px_row)| {
                let cell_row = cells.as_ref().map(|c| &c[yt[y].0 * pw..][..pw]);
                // Settled cells never read the planes: a row without an edge cell skips them.
                if cell_row.is_none_or(|r| r.contains(&Cell::Edge)) {
                    for (k, p) in planes.iter().enumerate() {
                        lerp_rows(p, yt[y], &mut rows[k * pw..(k + 1) * pw]);
                    }
                }
                let base_row = self.base_alpha.map(|m| &m.data()[y * w..(y + 1) * w]);
                for (x0, span) in spans.iter().enumerate() {
                    let px = &mut px_row[span.start * 4..span.end * 4];
                    let cell = cell_row.map_or(Cell::Edge, |r| r[x0]);
                    if cell != Cell::Edge {
                        settle(px, cell);
                        continue;
                    }
                    let x1 = (x0 + 1).min(pw - 1);
                    let taps: Taps = std::array::from_fn(|k| match k < planes.len() {
                        true => (rows[k * pw + x0], rows[k * pw + x1] - rows[k * pw + x0]),
                        false => (0.0, 0.0),
                    });
                    let base = base_row.map(|b| &b[span.clone()]);
                    self.pixels(px, &ts[span.clone()], &taps, base);
                }
            },
        );
    }

    /// Evaluates one row's pixels `px` within one cell: `ts` are their positions between the
    /// span's taps, `base` the plain resized mask's values when there is no guided filter.
    fn pixels(&self, px: &mut [u8], ts: &[f32], taps: &Taps, base: Option<&[u8]>) {
        let fg_base = if self.coeffs.is_some() { 4 } else { 0 };
        for (j, (px, &t)) in px.chunks_exact_mut(4).zip(ts).enumerate() {
            let sample = |k: usize| taps[k].0 + taps[k].1 * t;
            let i = [0, 1, 2].map(|c| f32::from(px[c]) * (1.0 / 255.0));
            let a = match base {
                Some(m) => f32::from(m[j]) / 255.0,
                None => (sample(3) + (0..3).map(|c| sample(c) * i[c]).sum::<f32>()).clamp(0.0, 1.0),
            };
            let a = clean_levels(a);
            let out_a = (a * f32::from(px[3]) + 0.5) as u8;
            px[3] = out_a;
            if out_a == 0 {
                px[..3].fill(0);
            } else if a < 1.0 && self.fields.is_some() {
                for c in 0..3 {
                    let f =
                        decontam::foreground(i[c], a, sample(fg_base + c), sample(fg_base + 3 + c));
                    px[c] = (f * 255.0 + 0.5) as u8;
                }
            }
        }
    }
}

/// Each plane's value at a span's left tap and its step to the right tap: a₀, a₁, a₂, b of the
/// guided filter (when on), then the foreground and background colour fields (when on).
type Taps = [(f32, f32); 10];

/// The result of [`Fused::pixels`] for a settled cell: alpha 1 keeps the pixel (a transparent
/// input pixel still gets RGB 0), alpha 0 clears it.
fn settle(px: &mut [u8], cell: Cell) {
    match cell {
        Cell::Clear => px.fill(0),
        _ => px
            .chunks_exact_mut(4)
            .filter(|p| p[3] == 0)
            .for_each(|p| p[..3].fill(0)),
    }
}

fn classify(lo: f32, hi: f32) -> Cell {
    if lo >= 1.0 - CLEAN + BOUND_SLACK {
        Cell::Opaque
    } else if hi <= CLEAN - BOUND_SLACK {
        Cell::Clear
    } else {
        Cell::Edge
    }
}

/// Classifies each cell: the square from sample `(x, y)` to `(x + 1, y + 1)` (clamped at the
/// last row and column, as the taps are).
fn cell_classes(c: &guided::Coeffs) -> Vec<Cell> {
    let (w, h) = (c.b.w, c.b.h);
    // Lowest and highest `a·I + b` over all colours I in [0, 1]³, per sample.
    let bounds: Vec<(f32, f32)> = (0..w * h)
        .into_par_iter()
        .map(|k| {
            c.a.iter().fold((c.b.px[k], c.b.px[k]), |(lo, hi), a| {
                (lo + a.px[k].min(0.0), hi + a.px[k].max(0.0))
            })
        })
        .collect();
    (0..w * h)
        .into_par_iter()
        .map(|k| {
            let (x, y) = (k % w, k / w);
            let (x1, y1) = ((x + 1).min(w - 1), (y + 1).min(h - 1));
            let corners = [k, y * w + x1, y1 * w + x, y1 * w + x1].map(|i| bounds[i]);
            let lo = corners.iter().map(|b| b.0).fold(f32::INFINITY, f32::min);
            let hi = corners
                .iter()
                .map(|b| b.1)
                .fold(f32::NEG_INFINITY, f32::max);
            classify(lo, hi)
        })
        .collect()
}

/// For each source column, the output columns whose left tap it is (taps are non-decreasing).
fn tap_spans(taps: &[(usize, usize, f32)], src: usize) -> Vec<Range<usize>> {
    let mut spans = vec![0..0; src];
    for (x, &(x0, _, _)) in taps.iter().enumerate() {
        if spans[x0].is_empty() {
            spans[x0] = x..x + 1;
        } else {
            spans[x0].end = x + 1;
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settling whole cells must give exactly what evaluating each pixel gives.
    #[test]
    fn settled_cells_match_per_pixel_evaluation() {
        let (pw, ph) = (40, 30);
        // b ramps from clearly transparent through an edge to clearly opaque; small colour terms.
        let plane = |f: &dyn Fn(usize, usize) -> f32| {
            Plane::new(pw, ph, (0..pw * ph).map(|k| f(k % pw, k / pw)).collect())
        };
        let coeffs = guided::Coeffs {
            a: [0.1, -0.15, 0.05].map(|s| plane(&|x, y| s * (((x * 7 + y * 3) % 5) as f32 - 2.0))),
            b: plane(&|x, y| (x as f32 + y as f32 * 0.3) / 25.0 - 0.5),
        };
        let fields = decontam::ColourFields {
            fg: [0.9, 0.2, 0.1].map(|v| plane(&|_, _| v)),
            bg: [0.1, 0.8, 0.3].map(|v| plane(&|_, _| v)),
        };
        let image = RgbaImage::from_fn(157, 119, |x, y| {
            let alpha = if (x + y) % 17 == 0 { 0 } else { 255 };
            image::Rgba([
                (x * 13 % 256) as u8,
                (y * 7 % 256) as u8,
                ((x * y) % 256) as u8,
                alpha,
            ])
        });
        let fused = Fused {
            coeffs: Some(&coeffs),
            fields: Some(&fields),
            base_alpha: None,
        };
        let cells = cell_classes(&coeffs);
        for kind in [Cell::Opaque, Cell::Clear, Cell::Edge] {
            assert!(
                cells.contains(&kind),
                "no {kind:?} cell: the test covers nothing"
            );
        }
        let (mut fast, mut slow) = (image.clone(), image);
        fused.apply(&mut fast);
        fused.apply_with(&mut slow, None);
        assert_eq!(fast, slow);
    }
}
