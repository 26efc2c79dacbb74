//! Output encoders. Every format decodes back to the cut-out (tests check pixels).

use std::io::Cursor;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, Rgba, RgbaImage};

use crate::compose::over;
use crate::{EncodeError, OptionsError};

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// RGBA PNG. Default.
    #[default]
    Png,
    /// JPEG, flattened on [`EncodeOptions::jpeg_background`].
    Jpeg,
    /// WebP: lossless with alpha by default, lossy with [`EncodeOptions::webp_lossy`].
    Webp,
    /// RGBA TIFF.
    Tiff,
    /// Layered Photoshop file: the cut-out over the hidden original.
    Psd,
    /// The alpha alone, as a grayscale PNG.
    Mask,
}

impl OutputFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png | Self::Mask => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
            Self::Tiff => "tiff",
            Self::Psd => "psd",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Png | Self::Mask => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Tiff => "image/tiff",
            Self::Psd => "image/vnd.adobe.photoshop",
        }
    }
}

/// The name [`FromStr`](std::str::FromStr) reads back (`mask` for the mask, unlike
/// [`OutputFormat::extension`]).
impl std::fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Mask => "mask",
            other => other.extension(),
        })
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = OptionsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "png" => Self::Png,
            "jpg" | "jpeg" => Self::Jpeg,
            "webp" => Self::Webp,
            "tif" | "tiff" => Self::Tiff,
            "psd" => Self::Psd,
            "mask" => Self::Mask,
            _ => return Err(OptionsError::Format(s.to_owned())),
        })
    }
}

/// Encoder options with their defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncodeOptions {
    pub format: OutputFormat,
    /// JPEG and lossy WebP quality, 1-100. Default: 90.
    pub quality: u8,
    /// Lossy WebP (alpha stays lossless). Default: off (lossless).
    pub webp_lossy: bool,
    /// Smaller PNGs at several times the encode time. Default: off (fast compression).
    pub png_best: bool,
    /// What JPEG output is flattened on, as it has no alpha. Default: white.
    pub jpeg_background: Rgba<u8>,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            format: OutputFormat::Png,
            quality: 90,
            webp_lossy: false,
            png_best: false,
            jpeg_background: Rgba([255, 255, 255, 255]),
        }
    }
}

/// Encodes the composed cut-out. `original` is the decoded input, used by PSD as a hidden layer
/// (same size as `image`; when they differ, PSD is written with the cut-out alone as both).
pub fn encode(
    image: &RgbaImage,
    original: Option<&RgbaImage>,
    opts: &EncodeOptions,
) -> Result<Vec<u8>, EncodeError> {
    let (w, h) = image.dimensions();
    match opts.format {
        OutputFormat::Png => png(
            image.as_raw(),
            w,
            h,
            ExtendedColorType::Rgba8,
            opts.png_best,
        ),
        OutputFormat::Mask => {
            let alpha: Vec<u8> = image.pixels().map(|p| p[3]).collect();
            png(&alpha, w, h, ExtendedColorType::L8, opts.png_best)
        }
        OutputFormat::Jpeg => jpeg(image, opts),
        OutputFormat::Webp => webp(image, opts),
        OutputFormat::Tiff => {
            let mut out = Cursor::new(Vec::new());
            image::codecs::tiff::TiffEncoder::new(&mut out)
                .write_image(image.as_raw(), w, h, ExtendedColorType::Rgba8)
                .map_err(failed("tiff"))?;
            Ok(out.into_inner())
        }
        OutputFormat::Psd => {
            let original = original
                .filter(|o| o.dimensions() == (w, h))
                .unwrap_or(image);
            crate::psd::write_psd(image, original)
        }
    }
}

fn png(
    data: &[u8],
    w: u32,
    h: u32,
    color: ExtendedColorType,
    best: bool,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(data.len() / 3);
    let (compression, filter) = if best {
        (CompressionType::Best, FilterType::Adaptive)
    } else {
        (CompressionType::Fast, FilterType::Adaptive)
    };
    PngEncoder::new_with_quality(&mut out, compression, filter)
        .write_image(data, w, h, color)
        .map_err(failed("png"))?;
    Ok(out)
}

fn jpeg(image: &RgbaImage, opts: &EncodeOptions) -> Result<Vec<u8>, EncodeError> {
    let (w, h) = image.dimensions();
    if w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
        return Err(EncodeError::TooLarge {
            format: "jpeg",
            width: w,
            height: h,
        });
    }
    let bg = Rgba([
        opts.jpeg_background[0],
        opts.jpeg_background[1],
        opts.jpeg_background[2],
        255,
    ]);
    let rgb: Vec<u8> = image
        .pixels()
        .flat_map(|&p| {
            let c = over(p, bg);
            [c[0], c[1], c[2]]
        })
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, opts.quality.clamp(1, 100))
        .encode(&rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| EncodeError::Failed {
            format: "jpeg",
            detail: e.to_string(),
        })?;
    Ok(out)
}

fn webp(image: &RgbaImage, opts: &EncodeOptions) -> Result<Vec<u8>, EncodeError> {
    let (w, h) = image.dimensions();
    if w > 16383 || h > 16383 {
        return Err(EncodeError::TooLarge {
            format: "webp",
            width: w,
            height: h,
        });
    }
    if opts.webp_lossy {
        let enc = webp::Encoder::from_rgba(image.as_raw(), w, h);
        return Ok(enc.encode(f32::from(opts.quality.clamp(1, 100))).to_vec());
    }
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(image.as_raw(), w, h, ExtendedColorType::Rgba8)
        .map_err(failed("webp"))?;
    Ok(out)
}

fn failed(format: &'static str) -> impl Fn(image::ImageError) -> EncodeError {
    move |e| EncodeError::Failed {
        format,
        detail: e.to_string(),
    }
}
