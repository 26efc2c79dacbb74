//! Box filters over a plane: the mean (the guided filter's and the colour estimation's windows)
//! and the sum (the Lucas-Kanade normal equations' windows), clipped at the borders. Small
//! windows are direct sums of shifted rows, which vectorise; wide ones running sums, whose cost
//! does not grow with the radius.

use super::Plane;

impl Plane {
    /// Mean over the (2r+1)² window around each pixel, clipped at the borders (the divisor is the
    /// number of pixels actually inside the image, so edges are not darkened).
    pub fn box_mean(&self, r: usize) -> Plane {
        if r <= DIRECT_MAX_R {
            return self.box_mean_direct(r);
        }
        let (w, h) = (self.w, self.h);
        let mut horiz = vec![0f32; w * h];
        let inv_w = window_reciprocals(w, r);
        for (src, dst) in self.px.chunks_exact(w).zip(horiz.chunks_exact_mut(w)) {
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
        window_sums(self.w, self.h, r, true, |y, acc| {
            let (a, b) = (self.row(y), other.row(y));
            for ((s, &a), &b) in acc.iter_mut().zip(a).zip(b) {
                *s += f(a, b);
            }
        })
    }

    /// Sum over the (2r+1)² window around each pixel, the part inside the plane. Direct sums:
    /// meant for small windows (the cost grows with `r`).
    pub fn box_sum(&self, r: usize) -> Plane {
        window_sums(self.w, self.h, r, false, |y, acc| add_row(acc, self.row(y)))
    }

    /// [`Plane::box_mean`] for small windows.
    fn box_mean_direct(&self, r: usize) -> Plane {
        window_sums(self.w, self.h, r, true, |y, acc| add_row(acc, self.row(y)))
    }
}

fn add_row(acc: &mut [f32], row: &[f32]) {
    for (s, &v) in acc.iter_mut().zip(row) {
        *s += v;
    }
}

/// Direct window sums of the plane whose row `y` `add_row(y, acc)` adds into `acc`, divided by
/// the window's pixel count when `mean`. Each output row sums its (2r+1) source rows, then
/// (2r+1) shifted copies of that sum: plain slice additions that vectorise, no full-size
/// intermediate plane, and f32 is exact enough (no long running sum to drift).
fn window_sums(
    w: usize,
    h: usize,
    r: usize,
    mean: bool,
    add_row: impl Fn(usize, &mut [f32]),
) -> Plane {
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
        if mean {
            let kh = inv_h[y] as f32;
            for (d, &kw) in dst.iter_mut().zip(&inv_w) {
                *d *= kw * kh;
            }
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
                        s += p.px[yy * p.w + xx];
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
            for (a, b) in p.box_mean(r).px.iter().zip(&brute_box(p, r).px) {
                assert!((a - b).abs() < 1e-4, "3x3, r={r}: {a} vs {b}");
            }
        }
        for r in [0, 1, 3, 4, 20] {
            let fast = p.box_mean(r);
            let slow = brute_box(&p, r);
            for (a, b) in fast.px.iter().zip(&slow.px) {
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
            for (x, y) in a.box_mean_zip(&b, r, f).px.iter().zip(&want.px) {
                assert!((x - y).abs() < 1e-5, "r={r}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn box_sum_counts_the_window_inside_the_plane() {
        let (w, h) = (7, 5);
        let v = Plane::new(w, h, vec![1.0; w * h]).box_sum(2).px;
        // A corner sees a 3x3 window, the centre a full 5x5, an edge's middle 5x3.
        assert_eq!(v[0], 9.0);
        assert_eq!(v[2 * w + 3], 25.0);
        assert_eq!(v[3], 15.0);
    }

    #[test]
    fn box_sum_is_the_box_mean_times_the_window() {
        let p = Plane::new(9, 6, (0..54).map(|i| ((i * 29) % 13) as f32).collect());
        let (sum, mean) = (p.box_sum(3), brute_box(&p, 3));
        let count = |i: usize, n: usize| ((i + 3).min(n - 1) - i.saturating_sub(3) + 1) as f32;
        for (k, (s, m)) in sum.px.iter().zip(&mean.px).enumerate() {
            let n = count(k % 9, 9) * count(k / 9, 6);
            assert!((s - m * n).abs() < 1e-3, "{k}: {s} vs {}", m * n);
        }
    }
}
