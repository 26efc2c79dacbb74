//! Placing the subject on its canvas: a region of interest, crops with a margin per side, a
//! subject scaled to a share of the canvas and positioned on it (what remove.bg's `roi`,
//! `crop_margin`, `scale` and `position` do). Pure functions on straight-RGBA cut-outs.

use crate::resize::Pixels;
use image::{Rgba, RgbaImage};

use crate::resize::{resize, Filter};

/// Alpha above which a pixel counts as subject (as for `crop`).
const VISIBLE: u8 = 10;

/// A length: pixels, or a percentage of a reference size (the subject's, or the image's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Length {
    Px(u32),
    Percent(f32),
}

impl Length {
    pub fn resolve(self, reference: u32) -> u32 {
        match self {
            Self::Px(p) => p,
            Self::Percent(p) => (reference as f32 * p / 100.0).round().max(0.0) as u32,
        }
    }
}

/// Margins in CSS order. Percentages are of the subject's width (left, right) or height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Margins {
    pub top: Length,
    pub right: Length,
    pub bottom: Length,
    pub left: Length,
}

impl Margins {
    pub fn all(l: Length) -> Self {
        Self {
            top: l,
            right: l,
            bottom: l,
            left: l,
        }
    }
}

/// Where a subject goes: where it was, or with its box at fractions of the free space (CSS
/// `background-position`: 0.5, 0.5 centres it; 0, 0 puts it top-left).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Position {
    Original,
    At { x: f32, y: f32 },
}

/// The subject's bounding box `(x, y, width, height)`, `None` when nothing is visible.
pub fn subject_box(img: &RgbaImage) -> Option<(u32, u32, u32, u32)> {
    let (w, h) = img.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for (x, y, p) in img.enumerate_pixels() {
        if p[3] > VISIBLE {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x + 1);
            y1 = y1.max(y + 1);
        }
    }
    (x1 > x0).then(|| (x0, y0, x1 - x0, y1 - y0))
}

/// Makes everything outside the rectangle `[x0, x1) × [y0, y1)` transparent.
pub fn clear_outside(img: &mut RgbaImage, (x0, y0, x1, y1): (u32, u32, u32, u32)) {
    for (x, y, p) in img.enumerate_pixels_mut() {
        if x < x0 || x >= x1 || y < y0 || y >= y1 {
            p[3] = 0;
        }
    }
}

/// Crops to the subject plus `margins`; where a margin reaches past the image the canvas grows
/// with transparent pixels, so the margin is always what was asked. Nothing visible: unchanged.
pub fn crop_with_margins(img: RgbaImage, m: &Margins) -> RgbaImage {
    let Some((x, y, bw, bh)) = subject_box(&img) else {
        return img;
    };
    let (t, r, b, l) = (
        m.top.resolve(bh),
        m.right.resolve(bw),
        m.bottom.resolve(bh),
        m.left.resolve(bw),
    );
    let mut out = RgbaImage::from_pixel(bw + l + r, bh + t + b, Rgba([0, 0, 0, 0]));
    let subject = image::imageops::crop_imm(&img, x, y, bw, bh).to_image();
    image::imageops::replace(&mut out, &subject, i64::from(l), i64::from(t));
    out
}

/// Scales the subject so that it fills `scale` (0-1] of the canvas along its tighter axis, and
/// puts it at `position`; the canvas keeps its size. `None` keeps the subject's size.
pub fn place(img: RgbaImage, scale: Option<f32>, position: Position) -> RgbaImage {
    let Some((x, y, bw, bh)) = subject_box(&img) else {
        return img;
    };
    if scale.is_none() && position == Position::Original {
        return img;
    }
    let (w, h) = img.dimensions();
    let subject = image::imageops::crop_imm(&img, x, y, bw, bh).to_image();
    let subject = match scale {
        Some(s) => {
            let f = s.clamp(0.01, 1.0) * (w as f32 / bw as f32).min(h as f32 / bh as f32);
            let (sw, sh) = (
                ((bw as f32 * f).round() as u32).clamp(1, w),
                ((bh as f32 * f).round() as u32).clamp(1, h),
            );
            let raw = resize(
                subject.as_raw(),
                (bw, bh),
                (sw, sh),
                Pixels::Rgba,
                Filter::Lanczos3,
            );
            RgbaImage::from_raw(sw, sh, raw).expect("resize returns the requested size")
        }
        None => subject,
    };
    let (sw, sh) = subject.dimensions();
    let (px, py) = match position {
        // Scaled in place: keep the subject's centre where it was.
        Position::Original => (
            (x + bw / 2).saturating_sub(sw / 2).min(w - sw),
            (y + bh / 2).saturating_sub(sh / 2).min(h - sh),
        ),
        Position::At { x: fx, y: fy } => (
            ((w - sw) as f32 * fx.clamp(0.0, 1.0)).round() as u32,
            ((h - sh) as f32 * fy.clamp(0.0, 1.0)).round() as u32,
        ),
    };
    let mut out = RgbaImage::from_pixel(w, h, Rgba([0, 0, 0, 0]));
    image::imageops::replace(&mut out, &subject, i64::from(px), i64::from(py));
    out
}

/// Removes semi-transparency: each pixel becomes fully opaque or fully transparent.
pub fn harden_alpha(img: &mut RgbaImage) {
    for p in img.pixels_mut() {
        p[3] = if p[3] >= 128 { 255 } else { 0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 100x80 canvas with an opaque 20x10 subject at (30, 40).
    fn canvas() -> RgbaImage {
        RgbaImage::from_fn(100, 80, |x, y| {
            let inside = (30..50).contains(&x) && (40..50).contains(&y);
            Rgba([200, 10, 10, if inside { 255 } else { 0 }])
        })
    }

    #[test]
    fn margins_may_grow_the_canvas() {
        let m = Margins {
            top: Length::Px(5),
            right: Length::Percent(50.0),
            bottom: Length::Px(0),
            left: Length::Px(40),
        };
        let out = crop_with_margins(canvas(), &m);
        assert_eq!(out.dimensions(), (40 + 20 + 10, 5 + 10));
        assert_eq!(subject_box(&out), Some((40, 5, 20, 10)));
    }

    #[test]
    fn scale_and_position() {
        let out = place(canvas(), Some(0.5), Position::At { x: 0.5, y: 0.5 });
        // Tighter axis: width 100/20 = 5 vs height 80/10 = 8; half of 5 → 2.5x: 50x25.
        assert_eq!(subject_box(&out), Some((25, 28, 50, 25)));
        let out = place(canvas(), None, Position::At { x: 0.0, y: 1.0 });
        assert_eq!(subject_box(&out), Some((0, 70, 20, 10)));
        let same = place(canvas(), None, Position::Original);
        assert_eq!(same, canvas());
    }

    #[test]
    fn roi_and_hardening() {
        let mut img = canvas();
        clear_outside(&mut img, (0, 0, 40, 80));
        assert_eq!(subject_box(&img), Some((30, 40, 10, 10)));
        img.put_pixel(0, 0, Rgba([1, 2, 3, 127]));
        harden_alpha(&mut img);
        assert_eq!(img.get_pixel(0, 0)[3], 0);
    }
}
