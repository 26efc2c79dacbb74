//! Foreground colour estimation by blur fusion (Forte & Pitié, "Approximate Fast Foreground
//! Colour Estimation", ICIP 2021). Semi-transparent edge pixels are a mix of subject and old
//! background; keeping the raw colour leaves a halo of the old background on hair and soft edges.
//! This solves `I = αF + (1-α)B` for a locally smooth `F` and `B`.

use rayon::prelude::*;

use crate::plane::Plane;

/// Locally smoothed foreground and background colour estimates (three planes each).
pub(crate) struct ColourFields {
    pub fg: [Plane; 3],
    pub bg: [Plane; 3],
}

/// Two rounds of blur fusion: a wide one for a global estimate, a narrow one for local detail.
///
/// The wide round's result is a very smooth field (a ~90 px blur), so from [`HALVE_FROM_R`] on it
/// is solved at half the resolution with half the radius, then upsampled: a quarter of the work.
pub(crate) fn colour_fields(
    image: &[Plane; 3],
    alpha: &Plane,
    r_wide: usize,
    r_narrow: usize,
) -> ColourFields {
    let image = image.each_ref();
    let first = if r_wide >= HALVE_FROM_R {
        let small: Vec<Plane> = image
            .into_par_iter()
            .chain([alpha])
            .map(Plane::half)
            .collect();
        let small_image = [&small[0], &small[1], &small[2]];
        fuse(small_image, small_image, &small[3], r_wide / 2).resized(alpha.w, alpha.h)
    } else {
        fuse(image, image, alpha, r_wide)
    };
    let fg = [0, 1, 2].map(|c| estimate(image[c], &first.fg[c], &first.bg[c], alpha));
    fuse(fg.each_ref(), first.bg.each_ref(), alpha, r_narrow)
}

/// Wide rounds from this radius on run at half resolution.
const HALVE_FROM_R: usize = 16;

impl ColourFields {
    fn resized(&self, w: usize, h: usize) -> ColourFields {
        let mut planes: Vec<Plane> = self
            .fg
            .par_iter()
            .chain(&self.bg)
            .map(|p| p.resized(w, h))
            .collect();
        let bg = planes.split_off(3).try_into().expect("three planes");
        let fg = planes.try_into().expect("three planes");
        ColourFields { fg, bg }
    }
}

/// Applies the estimate `F = F̄ + α(I - αF̄ - (1-α)B̄)` to one pixel value.
#[inline]
pub(crate) fn foreground(i: f32, alpha: f32, f_blur: f32, b_blur: f32) -> f32 {
    (f_blur + alpha * (i - alpha * f_blur - (1.0 - alpha) * b_blur)).clamp(0.0, 1.0)
}

fn estimate(i: &Plane, f_blur: &Plane, b_blur: &Plane, alpha: &Plane) -> Plane {
    let v = (0..i.px.len())
        .map(|k| foreground(i.px[k], alpha.px[k], f_blur.px[k], b_blur.px[k]))
        .collect();
    Plane::new(i.w, i.h, v)
}

fn fuse(fg: [&Plane; 3], bg: [&Plane; 3], alpha: &Plane, r: usize) -> ColourFields {
    // Seven independent box means (α, F·α ×3, B·(1-α) ×3), run in parallel.
    let blurred: Vec<Plane> = (0..7)
        .into_par_iter()
        .map(|q| match q {
            0 => alpha.box_mean(r),
            1..=3 => fg[q - 1].box_mean_zip(alpha, r, |f, a| f * a),
            _ => bg[q - 4].box_mean_zip(alpha, r, |b, a| b * (1.0 - a)),
        })
        .collect();
    let blur_a = &blurred[0];
    let fg = [1, 2, 3].map(|c| blurred[c].zip(blur_a, |fa, a| fa / (a + 1e-5)));
    let bg = [4, 5, 6].map(|c| blurred[c].zip(blur_a, |ba, a| ba / ((1.0 - a) + 1e-5)));
    ColourFields { fg, bg }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_foreground_colour_on_a_soft_edge() {
        // A red subject on a green background, with a soft edge: I = αF + (1-α)B.
        let (w, h) = (60, 6);
        let alpha: Vec<f32> = (0..w * h)
            .map(|k| ((k % w) as f32 - 25.0).clamp(0.0, 10.0) / 10.0)
            .collect();
        let alpha = Plane::new(w, h, alpha);
        let f = [1.0, 0.0, 0.0];
        let b = [0.0, 1.0, 0.0];
        let image = [0, 1, 2].map(|c| alpha.map(|a| a * f[c] + (1.0 - a) * b[c]));
        let fields = colour_fields(&image, &alpha, 20, 3);
        let k = 3 * w + 30; // alpha = 0.5: the raw colour is half green
        assert!((image[1].px[k] - 0.5).abs() < 1e-6);
        let g = foreground(
            image[1].px[k],
            alpha.px[k],
            fields.fg[1].px[k],
            fields.bg[1].px[k],
        );
        let r = foreground(
            image[0].px[k],
            alpha.px[k],
            fields.fg[0].px[k],
            fields.bg[0].px[k],
        );
        assert!(g < 0.1, "green left in the foreground: {g}");
        assert!(r > 0.9, "red lost: {r}");
    }
}
