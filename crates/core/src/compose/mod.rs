//! Composition: crop to the subject, resize within limits, and place on a background.

use crate::resize::Pixels;
use image::{Rgba, RgbaImage};

use crate::resize::{resize, Filter};
use crate::OptionsError;

pub mod place;

/// What goes behind the subject.
#[derive(Debug, Clone, Default)]
pub enum Background {
    /// Keep the alpha channel. Default.
    #[default]
    Transparent,
    /// A solid colour; its alpha may be below 255 for a translucent backdrop.
    Color(Rgba<u8>),
    /// An image, scaled to cover the output and centred (CSS `object-fit: cover`).
    Image(RgbaImage),
}

/// Space kept around the subject when cropping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CropMargin {
    Px(u32),
    /// A percentage of the subject box's size, at most 50.
    Percent(f32),
}

impl Default for CropMargin {
    fn default() -> Self {
        Self::Px(0)
    }
}

/// `30px` or `10%`, as [`FromStr`](std::str::FromStr) reads them.
impl std::fmt::Display for CropMargin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Px(n) => write!(f, "{n}px"),
            Self::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl std::str::FromStr for CropMargin {
    type Err = OptionsError;

    /// `30`, `30px` or `10%`; at most 500 px or 50 %.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || OptionsError::CropMargin(s.to_owned());
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%') {
            let v: f32 = p.trim().parse().map_err(|_| bad())?;
            return (0.0..=50.0)
                .contains(&v)
                .then_some(Self::Percent(v))
                .ok_or_else(bad);
        }
        let v: u32 = t
            .strip_suffix("px")
            .unwrap_or(t)
            .trim()
            .parse()
            .map_err(|_| bad())?;
        (v <= 500).then_some(Self::Px(v)).ok_or_else(bad)
    }
}

/// Composition options; the default is a transparent, uncropped, full-size cut-out.
#[derive(Debug, Clone, Default)]
pub struct ComposeOptions {
    pub background: Background,
    /// Crop to the subject's bounding box (alpha above 10/255) plus `crop_margin`. Default: off.
    pub crop: bool,
    pub crop_margin: CropMargin,
    /// Scale factor in (0, 1] applied to the output. Default: none (1.0).
    pub scale: Option<f32>,
    /// The output is shrunk (never enlarged), keeping its aspect ratio, to fit these bounds.
    pub max_width: Option<u32>,
    pub max_height: Option<u32>,
}

/// Composes the cut-out (straight RGBA) according to `opts`.
pub fn compose(cutout: RgbaImage, opts: &ComposeOptions) -> RgbaImage {
    let img = if opts.crop {
        crop_to_subject(cutout, opts.crop_margin)
    } else {
        cutout
    };
    let img = fit(img, opts);
    match &opts.background {
        Background::Transparent => img,
        Background::Color(c) => flatten(img, |_, _| *c),
        Background::Image(bg) => {
            let bg = cover(bg, img.width(), img.height());
            flatten(img, |x, y| *bg.get_pixel(x, y))
        }
    }
}

fn crop_to_subject(img: RgbaImage, margin: CropMargin) -> RgbaImage {
    let (w, h) = img.dimensions();
    let alpha: Vec<u8> = img.pixels().map(|p| p[3]).collect();
    let mask = crate::Mask::new(w, h, alpha).expect("dimensions match");
    // Nothing visible: keep the full canvas rather than produce an empty image.
    let Some((x, y, bw, bh)) = mask.bounding_box(10) else {
        return img;
    };
    let (mx, my) = match margin {
        CropMargin::Px(p) => (p, p),
        CropMargin::Percent(p) => (
            (bw as f32 * p / 100.0).round() as u32,
            (bh as f32 * p / 100.0).round() as u32,
        ),
    };
    let (x0, y0) = (x.saturating_sub(mx), y.saturating_sub(my));
    let (x1, y1) = ((x + bw + mx).min(w), (y + bh + my).min(h));
    image::imageops::crop_imm(&img, x0, y0, x1 - x0, y1 - y0).to_image()
}

/// The output size after `scale`, `max_width` and `max_height`; never larger than the input.
pub fn fitted_size(w: u32, h: u32, opts: &ComposeOptions) -> (u32, u32) {
    let mut s = f64::from(opts.scale.unwrap_or(1.0).clamp(0.0, 1.0));
    if let Some(mw) = opts.max_width {
        s = s.min(f64::from(mw) / f64::from(w));
    }
    if let Some(mh) = opts.max_height {
        s = s.min(f64::from(mh) / f64::from(h));
    }
    if s >= 1.0 {
        return (w, h);
    }
    (
        ((f64::from(w) * s).round() as u32).max(1),
        ((f64::from(h) * s).round() as u32).max(1),
    )
}

fn fit(img: RgbaImage, opts: &ComposeOptions) -> RgbaImage {
    let (w, h) = img.dimensions();
    let (tw, th) = fitted_size(w, h, opts);
    if (tw, th) == (w, h) {
        return img;
    }
    let out = resize(
        img.as_raw(),
        (w, h),
        (tw, th),
        Pixels::Rgba,
        Filter::Lanczos3,
    );
    RgbaImage::from_raw(tw, th, out).expect("resize returns the requested size")
}

/// Scales `bg` to cover a `w`×`h` canvas and crops the centre.
fn cover(bg: &RgbaImage, w: u32, h: u32) -> RgbaImage {
    let (bw, bh) = bg.dimensions();
    let s = (f64::from(w) / f64::from(bw)).max(f64::from(h) / f64::from(bh));
    let (sw, sh) = (
        ((f64::from(bw) * s).ceil() as u32).max(w),
        ((f64::from(bh) * s).ceil() as u32).max(h),
    );
    let scaled = resize(
        bg.as_raw(),
        (bw, bh),
        (sw, sh),
        Pixels::Rgba,
        Filter::Bilinear,
    );
    let scaled = RgbaImage::from_raw(sw, sh, scaled).expect("resize returns the requested size");
    image::imageops::crop_imm(&scaled, (sw - w) / 2, (sh - h) / 2, w, h).to_image()
}

/// Porter-Duff "over": the cut-out over a background given per pixel.
fn flatten(mut img: RgbaImage, bg: impl Fn(u32, u32) -> Rgba<u8>) -> RgbaImage {
    for (x, y, p) in img.enumerate_pixels_mut() {
        *p = over(*p, bg(x, y));
    }
    img
}

pub(crate) fn over(fg: Rgba<u8>, bg: Rgba<u8>) -> Rgba<u8> {
    let fa = f32::from(fg[3]) / 255.0;
    let ba = f32::from(bg[3]) / 255.0;
    let oa = fa + ba * (1.0 - fa);
    if oa <= 0.0 {
        return Rgba([0, 0, 0, 0]);
    }
    let c =
        |i: usize| ((f32::from(fg[i]) * fa + f32::from(bg[i]) * ba * (1.0 - fa)) / oa + 0.5) as u8;
    Rgba([c(0), c(1), c(2), (oa * 255.0 + 0.5) as u8])
}

/// Parses `RGB`, `RGBA`, `RRGGBB` or `RRGGBBAA` hex (with or without `#`) or a basic CSS name.
pub fn parse_color(s: &str) -> Result<Rgba<u8>, OptionsError> {
    let bad = || OptionsError::Color(s.to_owned());
    let named = match s.trim().to_ascii_lowercase().as_str() {
        "white" => Some([255, 255, 255, 255]),
        "black" => Some([0, 0, 0, 255]),
        "red" => Some([255, 0, 0, 255]),
        "green" => Some([0, 128, 0, 255]),
        "blue" => Some([0, 0, 255, 255]),
        "gray" | "grey" => Some([128, 128, 128, 255]),
        "transparent" => Some([0, 0, 0, 0]),
        _ => None,
    };
    if let Some(c) = named {
        return Ok(Rgba(c));
    }
    let hex = s.trim().trim_start_matches('#');
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let digits: Vec<u8> = match hex.len() {
        3 | 4 => hex
            .chars()
            .map(|c| u8::from_str_radix(&format!("{c}{c}"), 16))
            .collect::<Result<_, _>>(),
        6 | 8 => (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
            .collect::<Result<_, _>>(),
        _ => return Err(bad()),
    }
    .map_err(|_| bad())?;
    Ok(Rgba([
        digits[0],
        digits[1],
        digits[2],
        digits.get(3).copied().unwrap_or(255),
    ]))
}

#[cfg(test)]
mod tests;
