//! Sub-pixel refinement of a [`Flow`] by Lucas-Kanade steps. Block matching gives one vector per
//! 16-pixel tile, interpolated between tile centres; at the subject's edge that is off by a
//! fraction of a pixel, and after the final alpha is steepened (see
//! [`super::TemporalOptions::edge_contrast`]) a fraction of a pixel of mask shows as a whole step.
//! A few Gauss-Newton steps per pixel over a small window make the edge's own motion exact along
//! its normal, which is what the stabiliser needs to move the previous alpha without a lag.

use super::motion::{Flow, Plane};

/// Gauss-Newton steps. Measured on blackswan: a fourth step changes flicker by < 1 %.
const STEPS: usize = 3;
/// Half the side of the window each pixel's step is solved over.
const RADIUS: usize = 3;
/// Added to the normal equations' diagonal: in a flat window the step stays near zero instead of
/// following noise.
const DAMPING: f32 = 0.01;
/// How far, in pixels, a vector may leave the block matcher's: the refinement corrects the
/// interpolation, it does not search.
const REACH: f32 = 1.5;
/// Most a single step moves a vector, in pixels; the linearisation holds no further.
const MAX_STEP: f32 = 1.0;

impl Flow {
    /// Refines each pixel's vector so `other` moved by it matches `cur` over the pixel's window,
    /// each pixel counted by `weight` (the subject more than the background).
    pub fn refine(&mut self, cur: &Plane, other: &Plane, weight: &Plane) {
        let (w, h) = self.size();
        let n = w * h;
        let base = self.vectors().to_vec();
        for _ in 0..STEPS {
            let mut terms: [Vec<f32>; 5] = std::array::from_fn(|_| vec![0.0; n]);
            let moved = self.warp(other);
            let (gx, gy) = moved.gradients();
            for i in 0..n {
                let (x, y, k) = (gx[i], gy[i], weight.px[i]);
                let e = cur.px[i] - moved.px[i];
                let (kx, ky) = (k * x, k * y);
                terms[0][i] = kx * x;
                terms[1][i] = kx * y;
                terms[2][i] = ky * y;
                terms[3][i] = kx * e;
                terms[4][i] = ky * e;
            }
            // Window sums, not means: the damping is weighed against the whole window's evidence.
            let [sxx, sxy, syy, sxe, sye] = terms.map(|t| Plane::new(w, h, t).box_sum(RADIUS).px);
            for (i, (d, b)) in self.vectors_mut().iter_mut().zip(&base).enumerate() {
                let (a, c, bb) = (sxx[i] + DAMPING, syy[i] + DAMPING, sxy[i]);
                let det = a * c - bb * bb;
                if det <= f32::EPSILON {
                    continue;
                }
                let ux = ((c * sxe[i] - bb * sye[i]) / det).clamp(-MAX_STEP, MAX_STEP);
                let uy = ((a * sye[i] - bb * sxe[i]) / det).clamp(-MAX_STEP, MAX_STEP);
                d.0 = (d.0 + ux).clamp(b.0 - REACH, b.0 + REACH);
                d.1 = (d.1 + uy).clamp(b.1 - REACH, b.1 + REACH);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temporal::motion::tests::texture_of;
    use crate::temporal::motion::{warp, Field};

    /// Texture of full contrast, as at a subject's edge, where the refinement matters.
    fn texture(w: usize, h: usize, shift: (f32, f32)) -> Plane {
        texture_of(w, h, shift, 1.5)
    }

    #[test]
    fn a_sub_pixel_shift_left_by_the_tiles_is_recovered() {
        // The block matcher's field says "still"; the content moved by (0.6, -0.4).
        let (w, h) = (64, 48);
        let prev = texture(w, h, (0.0, 0.0));
        let cur = texture(w, h, (0.6, -0.4));
        let before = mean_error(&warp(&prev, &Field::still(w, h)), &cur);
        let mut flow = Flow::new(&Field::still(w, h), w, h);
        flow.refine(&cur, &prev, &Plane::new(w, h, vec![1.0; w * h]));
        let (dx, dy) = flow.vectors()[24 * w + 32];
        assert!(
            (dx + 0.6).abs() < 0.05 && (dy - 0.4).abs() < 0.05,
            "{dx},{dy}"
        );
        let after = mean_error(&flow.warp(&prev), &cur);
        assert!(after < before / 10.0, "error {before} -> {after}");
    }

    #[test]
    fn a_flat_plane_keeps_its_vectors() {
        let flat = Plane::new(20, 20, vec![0.4; 400]);
        let mut flow = Flow::new(&Field::still(20, 20), 20, 20);
        flow.refine(&flat, &flat, &Plane::new(20, 20, vec![1.0; 400]));
        assert!(flow.vectors().iter().all(|&d| d == (0.0, 0.0)));
    }

    fn mean_error(a: &Plane, b: &Plane) -> f32 {
        a.px.iter()
            .zip(&b.px)
            .map(|(x, y)| (x - y).abs())
            .sum::<f32>()
            / a.px.len() as f32
    }
}
