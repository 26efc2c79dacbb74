//! Single-channel f32 planes and the two primitives the refiners are built from: a box mean with
//! O(1) cost per pixel whatever the radius, and bilinear row sampling for upsampling.

/// A row-major single-channel f32 image.
#[derive(Debug, Clone)]
pub(crate) struct Plane {
    pub w: usize,
    pub h: usize,
    pub v: Vec<f32>,
}

impl Plane {
    pub fn new(w: usize, h: usize, v: Vec<f32>) -> Self {
        debug_assert_eq!(v.len(), w * h);
        Self { w, h, v }
    }

    pub fn zip(&self, other: &Plane, f: impl Fn(f32, f32) -> f32) -> Plane {
        let v = self
            .v
            .iter()
            .zip(&other.v)
            .map(|(&a, &b)| f(a, b))
            .collect();
        Plane::new(self.w, self.h, v)
    }

    pub fn map(&self, f: impl Fn(f32) -> f32) -> Plane {
        Plane::new(self.w, self.h, self.v.iter().map(|&a| f(a)).collect())
    }

    /// Half the resolution each way (rounded up): each pixel the mean of a 2x2 block, the last
    /// row and column repeated when a side is odd.
    pub fn half(&self) -> Plane {
        let (w, h) = (self.w.div_ceil(2), self.h.div_ceil(2));
        let row = |y: usize| &self.v[y.min(self.h - 1) * self.w..][..self.w];
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

    /// Mean over the (2r+1)² window around each pixel, clipped at the borders (the divisor is the
    /// number of pixels actually inside the image, so edges are not darkened).
    pub fn box_mean(&self, r: usize) -> Plane {
        if r <= DIRECT_MAX_R {
            return self.box_mean_direct(r);
        }
        let (w, h) = (self.w, self.h);
        let mut horiz = vec![0f32; w * h];
        let inv_w = window_reciprocals(w, r);
        for (src, dst) in self.v.chunks_exact(w).zip(horiz.chunks_exact_mut(w)) {
            box_row(src, dst, r, &inv_w);
        }
        // Vertical pass: running sums over whole rows, one fused add/subtract/scale loop per row
        // so it vectorises. f64 accumulators: the guided filter subtracts nearly equal means.
        let inv_h = window_reciprocals(h, r);
        let mut out = vec![0f32; w * h];
        let mut acc = vec![0f64; w];
        let zeros = vec![0f32; w];
        let row = |y: usize| &horiz[y * w..(y + 1) * w];
        for y in 0..r.min(h) {
            acc.iter_mut()
                .zip(row(y))
                .for_each(|(a, &v)| *a += f64::from(v));
        }
        for y in 0..h {
            let add = if y + r < h { row(y + r) } else { &zeros };
            let sub = if y > r { row(y - r - 1) } else { &zeros };
            let k = inv_h[y];
            let dst = &mut out[y * w..(y + 1) * w];
            for x in 0..w {
                acc[x] += f64::from(add[x]) - f64::from(sub[x]);
                dst[x] = (acc[x] * k) as f32;
            }
        }
        Plane::new(w, h, out)
    }

    /// [`Plane::box_mean`] of `f(self, other)` per pixel. Small windows never materialise the
    /// combined plane: each source row is combined as it is summed.
    pub fn box_mean_zip(&self, other: &Plane, r: usize, f: impl Fn(f32, f32) -> f32) -> Plane {
        if r > DIRECT_MAX_R {
            return self.zip(other, f).box_mean(r);
        }
        box_mean_direct(self.w, self.h, r, |y, acc| {
            let (a, b) = (self.row(y), other.row(y));
            for ((s, &a), &b) in acc.iter_mut().zip(a).zip(b) {
                *s += f(a, b);
            }
        })
    }

    fn row(&self, y: usize) -> &[f32] {
        &self.v[y * self.w..(y + 1) * self.w]
    }

    fn box_mean_direct(&self, r: usize) -> Plane {
        box_mean_direct(self.w, self.h, r, |y, acc| {
            for (s, &v) in acc.iter_mut().zip(self.row(y)) {
                *s += v;
            }
        })
    }
}

/// [`Plane::box_mean`] for small windows, of the plane whose row `y` `add_row(y, acc)` adds into
/// `acc`. Each output row sums its (2r+1) source rows, then (2r+1) shifted copies of that sum:
/// plain slice additions that vectorise, no full-size intermediate plane, and f32 is exact enough
/// (no long running sum to drift).
fn box_mean_direct(w: usize, h: usize, r: usize, add_row: impl Fn(usize, &mut [f32])) -> Plane {
    let inv_w: Vec<f32> = window_reciprocals(w, r).iter().map(|&k| k as f32).collect();
    let inv_h = window_reciprocals(h, r);
    let mut out = vec![0f32; w * h];
    let mut col = vec![0f32; w];
    for (y, dst) in out.chunks_exact_mut(w).enumerate() {
        col.fill(0.0);
        for sy in y.saturating_sub(r)..=(y + r).min(h - 1) {
            add_row(sy, &mut col);
        }
        sum_window(&col, dst, r);
        let kh = inv_h[y] as f32;
        for (d, &kw) in dst.iter_mut().zip(&inv_w) {
            *d *= kw * kh;
        }
    }
    Plane::new(w, h, out)
}

/// Windows up to this radius use direct sums; wider ones running sums.
const DIRECT_MAX_R: usize = 4;

/// `dst[x]` = the sum of `src` over `[x - r, x + r]` clipped to the row. The interior is `2r + 1`
/// shifted slice additions.
fn sum_window(src: &[f32], dst: &mut [f32], r: usize) {
    let w = src.len();
    let clipped = |x: usize| -> f32 { src[x.saturating_sub(r)..=(x + r).min(w - 1)].iter().sum() };
    if w <= 2 * r {
        dst.iter_mut()
            .enumerate()
            .for_each(|(x, d)| *d = clipped(x));
        return;
    }
    let interior = &mut dst[r..w - r];
    for k in 0..=2 * r {
        interior
            .iter_mut()
            .zip(&src[k..])
            .for_each(|(d, &v)| *d += v);
    }
    for x in (0..r).chain(w - r..w) {
        dst[x] = clipped(x);
    }
}

/// 1 / (number of pixels in the clipped window) for each position along a line of `n`.
fn window_reciprocals(n: usize, r: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 1.0 / ((i + r).min(n - 1) - i.saturating_sub(r) + 1) as f64)
        .collect()
}

/// Running-sum box mean of one row, split so the middle (the bulk) has no edge branches.
fn box_row(src: &[f32], dst: &mut [f32], r: usize, inv: &[f64]) {
    let w = src.len();
    let mut acc: f64 = src[..r.min(w)].iter().map(|&v| f64::from(v)).sum();
    let lead = (r + 1).min(w);
    for x in 0..lead {
        if x + r < w {
            acc += f64::from(src[x + r]);
        }
        dst[x] = (acc * inv[x]) as f32;
    }
    let mid_end = w.saturating_sub(r).max(lead);
    for x in lead..mid_end {
        acc += f64::from(src[x + r]) - f64::from(src[x - r - 1]);
        dst[x] = (acc * inv[x]) as f32;
    }
    for x in mid_end..w {
        if x + r < w {
            acc += f64::from(src[x + r]);
        }
        if x > r {
            acc -= f64::from(src[x - r - 1]);
        }
        dst[x] = (acc * inv[x]) as f32;
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
    let a = &plane.v[y0 * plane.w..(y0 + 1) * plane.w];
    let b = &plane.v[y1 * plane.w..(y1 + 1) * plane.w];
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = a + (b - a) * t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_box(p: &Plane, r: usize) -> Plane {
        let mut v = vec![0f32; p.w * p.h];
        for y in 0..p.h {
            for x in 0..p.w {
                let (mut s, mut n) = (0f32, 0f32);
                for yy in y.saturating_sub(r)..=(y + r).min(p.h - 1) {
                    for xx in x.saturating_sub(r)..=(x + r).min(p.w - 1) {
                        s += p.v[yy * p.w + xx];
                        n += 1.0;
                    }
                }
                v[y * p.w + x] = s / n;
            }
        }
        Plane::new(p.w, p.h, v)
    }

    #[test]
    fn box_mean_matches_brute_force() {
        let v: Vec<f32> = (0..13 * 7).map(|i| ((i * 37) % 11) as f32).collect();
        let p = Plane::new(13, 7, v);
        // 3 and 4 are direct sums, wider than the 3x3 plane below too; 20 is a running sum.
        let narrow = Plane::new(3, 3, (0..9).map(|i| i as f32).collect());
        for (p, r) in [(&narrow, 1), (&narrow, 4)] {
            for (a, b) in p.box_mean(r).v.iter().zip(&brute_box(p, r).v) {
                assert!((a - b).abs() < 1e-4, "3x3, r={r}: {a} vs {b}");
            }
        }
        for r in [0, 1, 3, 4, 20] {
            let fast = p.box_mean(r);
            let slow = brute_box(&p, r);
            for (a, b) in fast.v.iter().zip(&slow.v) {
                assert!((a - b).abs() < 1e-4, "r={r}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn box_mean_zip_matches_the_box_mean_of_the_zipped_plane() {
        let a = Plane::new(
            11,
            9,
            (0..99).map(|i| ((i * 37) % 11) as f32 / 10.0).collect(),
        );
        let b = Plane::new(
            11,
            9,
            (0..99).map(|i| ((i * 13) % 7) as f32 / 6.0).collect(),
        );
        let f = |x: f32, y: f32| x * (1.0 - y);
        for r in [1, 2, 4, 6] {
            let want = brute_box(&a.zip(&b, f), r);
            for (x, y) in a.box_mean_zip(&b, r, f).v.iter().zip(&want.v) {
                assert!((x - y).abs() < 1e-5, "r={r}: {x} vs {y}");
            }
        }
    }

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
