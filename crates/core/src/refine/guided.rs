//! Colour guided filter (He, Sun & Tang, "Guided Image Filtering", TPAMI 2013), computed at a
//! working resolution. Its output is a per-pixel linear model `q = a·I + b` of the guide's colour;
//! the coefficients are smooth, so they can be upsampled and applied at full resolution (the "fast
//! guided filter" of He & Sun, 2015) to snap the mask's edges to the photo's edges.

use rayon::prelude::*;

use crate::plane::Plane;

/// Smoothed coefficients of the local linear model.
pub(crate) struct Coeffs {
    pub a: [Plane; 3],
    pub b: Plane,
}

impl Coeffs {
    /// Evaluates `a·I + b` on the guide the coefficients were computed on.
    pub fn apply(&self, guide: &[Plane; 3]) -> Plane {
        let (a, b) = (&self.a, &self.b.px);
        let v = (0..b.len())
            .map(|i| b[i] + (0..3).map(|c| a[c].px[i] * guide[c].px[i]).sum::<f32>())
            .collect();
        Plane::new(self.b.w, self.b.h, v)
    }
}

/// Fits the linear model of `p` on the RGB guide `g` (values in [0, 1]) in windows of radius `r`.
pub(crate) fn coefficients(g: &[Plane; 3], p: &Plane, r: usize, eps: f32) -> Coeffs {
    // The six distinct entries of the symmetric 3x3 covariance, row-major upper triangle.
    const PAIRS: [(usize, usize); 6] = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)];
    // Thirteen independent box means: I (3), p, I·p (3), I·Iᵀ (6). Run them in parallel; the
    // products are formed row by row inside the box sums, never as planes of their own.
    let means: Vec<Plane> = (0..13)
        .into_par_iter()
        .map(|q| match q {
            0..=2 => g[q].box_mean(r),
            3 => p.box_mean(r),
            4..=6 => g[q - 4].box_mean_zip(p, r, |a, b| a * b),
            _ => {
                let (i, j) = PAIRS[q - 7];
                g[i].box_mean_zip(&g[j], r, |a, b| a * b)
            }
        })
        .collect();
    let (mi, mp, mip, mii) = (&means[0..3], &means[3], &means[4..7], &means[7..13]);

    let n = p.px.len();
    let eps = f64::from(eps);
    // Plain slices of one length, so the per-pixel loop below has no bounds checks left in it.
    let m: [&[f32]; 3] = [&mi[0].px[..n], &mi[1].px[..n], &mi[2].px[..n]];
    let mip: [&[f32]; 3] = [&mip[0].px[..n], &mip[1].px[..n], &mip[2].px[..n]];
    let mii: [&[f32]; 6] = std::array::from_fn(|q| &mii[q].px[..n]);
    let mp = &mp.px[..n];
    let (w, h) = (p.w, p.h);
    let mut ab = [(); 4].map(|_| vec![0f32; n]);
    let [a0s, a1s, a2s, bs] = ab.each_mut();
    (a0s, a1s, a2s, bs)
        .into_par_iter()
        .enumerate()
        .for_each(|(k, (a0, a1, a2, b))| {
            let (m0, m1, m2, pm) = (m[0][k], m[1][k], m[2][k], mp[k]);
            let cov = |c: usize, mc: f32| f64::from(mip[c][k] - mc * pm);
            let var = |q: usize, a: f32, b: f32| f64::from(mii[q][k] - a * b);
            let sigma = [
                [var(0, m0, m0) + eps, var(1, m0, m1), var(2, m0, m2)],
                [var(1, m0, m1), var(3, m1, m1) + eps, var(4, m1, m2)],
                [var(2, m0, m2), var(4, m1, m2), var(5, m2, m2) + eps],
            ];
            let x = solve_sym3(&sigma, [cov(0, m0), cov(1, m1), cov(2, m2)]);
            (*a0, *a1, *a2) = (x[0] as f32, x[1] as f32, x[2] as f32);
            *b = pm - (*a0 * m0 + *a1 * m1 + *a2 * m2);
        });
    let planes: Vec<Plane> = ab
        .into_par_iter()
        .map(|v| Plane::new(w, h, v).box_mean(r))
        .collect();
    let [a0, a1, a2, b]: [Plane; 4] = planes.try_into().expect("four planes");
    Coeffs { a: [a0, a1, a2], b }
}

/// Solves `m x = y` for a symmetric positive-definite 3x3 `m` by the adjugate (eps keeps it
/// invertible).
fn solve_sym3(m: &[[f64; 3]; 3], y: [f64; 3]) -> [f64; 3] {
    let c00 = m[1][1] * m[2][2] - m[1][2] * m[2][1];
    let c01 = m[1][2] * m[2][0] - m[1][0] * m[2][2];
    let c02 = m[1][0] * m[2][1] - m[1][1] * m[2][0];
    let det = m[0][0] * c00 + m[0][1] * c01 + m[0][2] * c02;
    let c11 = m[0][0] * m[2][2] - m[0][2] * m[2][0];
    let c12 = m[0][2] * m[1][0] - m[0][0] * m[1][2];
    let c22 = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    let inv = [[c00, c01, c02], [c01, c11, c12], [c02, c12, c22]];
    let row = |r: usize| (inv[r][0] * y[0] + inv[r][1] * y[1] + inv[r][2] * y[2]) / det;
    [row(0), row(1), row(2)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_sym3_inverts() {
        let m = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
        let x = [1.0, -2.0, 0.5];
        let y = [0, 1, 2].map(|r| m[r][0] * x[0] + m[r][1] * x[1] + m[r][2] * x[2]);
        let got = solve_sym3(&m, y);
        for c in 0..3 {
            assert!((got[c] - x[c]).abs() < 1e-9);
        }
    }

    #[test]
    fn snaps_a_blurry_mask_to_the_guide_edge() {
        // Guide: left half black, right half white. Mask: a soft ramp across the middle.
        let (w, h) = (40, 8);
        let g: Vec<f32> = (0..w * h)
            .map(|i| if i % w >= 20 { 1.0 } else { 0.0 })
            .collect();
        let guide = [0, 1, 2].map(|_| Plane::new(w, h, g.clone()));
        // The mask ramps over 8 px (steps of 1/8) centred on the guide's edge.
        let p: Vec<f32> = (0..w * h)
            .map(|i| ((i % w) as f32 - 16.0).clamp(0.0, 8.0) / 8.0)
            .collect();
        let p = Plane::new(w, h, p);
        let q = coefficients(&guide, &p, 4, 1e-4).apply(&guide);
        let row = &q.px[3 * w..4 * w];
        // Most of the transition now happens in the one step across the guide's edge.
        assert!(row[20] - row[19] > 0.5, "{row:?}");
        assert!(row[19] < 0.25 && row[20] > 0.7, "{row:?}");
        assert!(
            row.windows(2).all(|p| p[1] >= p[0] - 1e-6),
            "monotone: {row:?}"
        );
    }
}
