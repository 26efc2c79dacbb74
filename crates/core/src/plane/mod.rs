//! Single-channel f32 planes (luma, alpha, colour channels, filter terms), row-major, shared by
//! the refiners and the temporal stabiliser: element-wise maps, halving and bilinear resampling,
//! clamped sampling and gradients here; the box filters in [`box_filter`].

mod box_filter;

/// `v.floor()` for |v| < 2^31, inlined: without SSE4.1 in the baseline target, `f32::floor` is a
/// call into libm, which made up a fifth of the stabiliser's time in warps.
#[inline]
fn floor(v: f32) -> f32 {
    let t = v as i32 as f32;
    if t > v {
        t - 1.0
    } else {
        t
    }
}

/// A row-major single-channel f32 image.
#[derive(Clone, Debug, PartialEq)]
pub struct Plane {
    pub w: usize,
    pub h: usize,
    pub px: Vec<f32>,
}

impl Plane {
    pub fn new(w: usize, h: usize, px: Vec<f32>) -> Plane {
        assert_eq!(px.len(), w * h, "plane size");
        Plane { w, h, px }
    }

    pub fn zip(&self, other: &Plane, f: impl Fn(f32, f32) -> f32) -> Plane {
        let v = self
            .px
            .iter()
            .zip(&other.px)
            .map(|(&a, &b)| f(a, b))
            .collect();
        Plane::new(self.w, self.h, v)
    }

    pub fn map(&self, f: impl Fn(f32) -> f32) -> Plane {
        Plane::new(self.w, self.h, self.px.iter().map(|&a| f(a)).collect())
    }

    /// Half the resolution each way (rounded up): each pixel the mean of a 2x2 block, the last
    /// row and column repeated when a side is odd.
    pub fn half(&self) -> Plane {
        let (w, h) = (self.w.div_ceil(2), self.h.div_ceil(2));
        let row = |y: usize| &self.px[y.min(self.h - 1) * self.w..][..self.w];
        let mut v = vec![0f32; w * h];
        for (y, dst) in v.chunks_exact_mut(w).enumerate() {
            let (r0, r1) = (row(2 * y), row(2 * y + 1));
            for (x, d) in dst.iter_mut().enumerate() {
                let (x0, x1) = (2 * x, (2 * x + 1).min(self.w - 1));
                *d = (r0[x0] + r0[x1] + r1[x0] + r1[x1]) * 0.25;
            }
        }
        Plane::new(w, h, v)
    }

    /// Bilinear resampling to `w` x `h` (half-pixel centres, as the full-resolution pass).
    pub fn resized(&self, w: usize, h: usize) -> Plane {
        let xt = bilinear_taps(self.w, w);
        let yt = bilinear_taps(self.h, h);
        let mut v = vec![0f32; w * h];
        let mut row = vec![0f32; self.w];
        for (dst, &taps) in v.chunks_exact_mut(w).zip(&yt) {
            lerp_rows(self, taps, &mut row);
            for (d, &(x0, x1, t)) in dst.iter_mut().zip(&xt) {
                *d = row[x0] + (row[x1] - row[x0]) * t;
            }
        }
        Plane::new(w, h, v)
    }

    pub(crate) fn row(&self, y: usize) -> &[f32] {
        &self.px[y * self.w..(y + 1) * self.w]
    }

    pub(crate) fn at(&self, x: isize, y: isize) -> f32 {
        let x = x.clamp(0, self.w as isize - 1) as usize;
        let y = y.clamp(0, self.h as isize - 1) as usize;
        self.px[y * self.w + x]
    }

    /// Bilinear sample, clamped at the borders.
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        let (x0, y0) = (floor(x), floor(y));
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as isize, y0 as isize);
        let [a, b, c, d] = if self.holds(x0, y0, 2) {
            let i = y0 as usize * self.w + x0 as usize;
            [
                self.px[i],
                self.px[i + 1],
                self.px[i + self.w],
                self.px[i + self.w + 1],
            ]
        } else {
            [(0, 0), (1, 0), (0, 1), (1, 1)].map(|(i, j)| self.at(x0 + i, y0 + j))
        };
        let top = a + (b - a) * fx;
        let bottom = c + (d - c) * fx;
        top + (bottom - top) * fy
    }

    /// The central differences across and down at each pixel, halved (clamped at the borders).
    pub fn gradients(&self) -> (Vec<f32>, Vec<f32>) {
        let (w, h) = (self.w, self.h);
        let mut gx = vec![0.0; w * h];
        let mut gy = vec![0.0; w * h];
        for y in 0..h {
            let (row, up, down) = (
                self.row(y),
                self.row(y.saturating_sub(1)),
                self.row((y + 1).min(h - 1)),
            );
            let (gx, gy) = (&mut gx[y * w..][..w], &mut gy[y * w..][..w]);
            for x in 0..w {
                gx[x] = (row[(x + 1).min(w - 1)] - row[x.saturating_sub(1)]) / 2.0;
                gy[x] = (down[x] - up[x]) / 2.0;
            }
        }
        (gx, gy)
    }

    /// Whether the `size`-square at (x, y) lies inside the plane.
    pub(crate) fn holds(&self, x: isize, y: isize, size: isize) -> bool {
        x >= 0 && y >= 0 && x + size <= self.w as isize && y + size <= self.h as isize
    }
}

/// Source index pair and weight for each destination coordinate (half-pixel centres).
pub(crate) fn bilinear_taps(src: usize, dst: usize) -> Vec<(usize, usize, f32)> {
    let scale = src as f32 / dst as f32;
    (0..dst)
        .map(|d| {
            let s = ((d as f32 + 0.5) * scale - 0.5).clamp(0.0, (src - 1) as f32);
            let i0 = s.floor() as usize;
            let i1 = (i0 + 1).min(src - 1);
            (i0, i1, s - i0 as f32)
        })
        .collect()
}

/// Blends two rows of `plane` vertically into `out` (length `plane.w`).
pub(crate) fn lerp_rows(plane: &Plane, (y0, y1, t): (usize, usize, f32), out: &mut [f32]) {
    for ((o, &a), &b) in out.iter_mut().zip(plane.row(y0)).zip(plane.row(y1)) {
        *o = a + (b - a) * t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_taps_cover_the_source() {
        let taps = bilinear_taps(4, 8);
        assert_eq!(taps.len(), 8);
        assert_eq!(taps[0], (0, 1, 0.0));
        assert_eq!(taps[7].1, 3);
        let identity = bilinear_taps(5, 5);
        assert!(identity
            .iter()
            .enumerate()
            .all(|(i, t)| t.0 == i && t.2 == 0.0));
    }
}
