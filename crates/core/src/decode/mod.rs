//! Decoding with limits checked from the header, before any pixel buffer is allocated.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbaImage};
use rayon::prelude::*;

use crate::DecodeError;

mod format;
mod heif;
mod jpeg;
mod psd;
mod svg;

pub use crate::input_format::{supported_list, InputFormat};
pub use heif::available as heif_available;
pub use svg::DEFAULT_SIDE as SVG_DEFAULT_SIDE;

/// Input limits. Every one is enforced before the full decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted input, in bytes. Default 64 MiB.
    pub max_bytes: u64,
    /// Largest accepted image, in pixels (width × height). Default 100 MP.
    pub max_pixels: u64,
    /// Longest accepted side, in pixels. Default 20 000.
    pub max_side: u32,
    /// Most XML nodes (elements, text, attributes' nodes) an SVG may have. Default 200 000.
    pub svg_max_nodes: u32,
    /// Deepest element nesting an SVG may have. Default 256.
    pub svg_max_depth: u32,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_bytes: 64 << 20,
            max_pixels: 100_000_000,
            max_side: 20_000,
            svg_max_nodes: 200_000,
            svg_max_depth: 256,
        }
    }
}

/// A decoded, upright image in straight (non-premultiplied) RGBA8.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub image: RgbaImage,
    /// Whether the source had an alpha channel; its transparency is kept in the cut-out.
    pub has_alpha: bool,
    pub format: InputFormat,
}

/// Decodes `bytes` (format sniffed from the content, never from a name), applies EXIF
/// orientation (the container's rotation for HEIC and AVIF), converts CMYK, 16-bit and palette
/// inputs to RGBA8, and keeps an existing alpha. SVG is rasterised at its intrinsic size.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(DecodeError::TooManyBytes {
            size: bytes.len() as u64,
            limit: limits.max_bytes,
        });
    }
    // Header first: a 30000x30000 PNG is refused here, before the decoder sizes any buffer.
    let format = format::sniff(bytes)?;
    let Some(image_format) = format.image_format() else {
        return decode_other(bytes, format, limits);
    };
    let (width, height) = dimensions(bytes, image_format)?;
    check_dimensions(width, height, limits)?;
    if format == InputFormat::Jpeg {
        if !jpeg_is_complete(bytes) {
            return Err(DecodeError::Corrupt(
                "the JPEG ends before its end-of-image marker".into(),
            ));
        }
        if let Some((image, orientation)) = jpeg::decode_ycbcr(bytes) {
            let mut image = DynamicImage::ImageRgba8(image);
            image.apply_orientation(orientation);
            return Ok(Decoded {
                image: image.into_rgba8(),
                has_alpha: false,
                format,
            });
        }
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.limits(alloc_limits(limits));
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let has_alpha = decoder.color_type().has_alpha();
    // A broken EXIF block should not cost the user their image: fall back to "as stored".
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    image.apply_orientation(orientation);
    Ok(Decoded {
        image: into_rgba8(image),
        has_alpha,
        format,
    })
}

/// `DynamicImage::into_rgba8`, with the common case (an 8-bit RGB photo) converted on all cores:
/// done pixel by pixel on one thread it is a sixth of a 12 MP JPEG's decode time.
fn into_rgba8(image: DynamicImage) -> RgbaImage {
    let DynamicImage::ImageRgb8(rgb) = image else {
        return image.into_rgba8();
    };
    let (w, h) = rgb.dimensions();
    let band = w as usize * 64;
    let mut out = vec![0u8; rgb.as_raw().len() / 3 * 4];
    out.par_chunks_mut(band * 4)
        .zip(rgb.as_raw().par_chunks(band * 3))
        .for_each(|(dst, src)| {
            for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(3)) {
                d[..3].copy_from_slice(s);
                d[3] = 255;
            }
        });
    RgbaImage::from_raw(w, h, out).expect("4 bytes for each of the 3-byte pixels")
}

/// The formats with their own decoder: each checks its header against the limits first.
fn decode_other(
    bytes: &[u8],
    format: InputFormat,
    limits: &DecodeLimits,
) -> Result<Decoded, DecodeError> {
    let (image, has_alpha) = match format {
        InputFormat::Avif | InputFormat::Heic => {
            let primary = heif::open(bytes)?;
            let (w, h) = primary.dimensions();
            check_dimensions(w, h, limits)?;
            (primary.decode()?, primary.has_alpha())
        }
        InputFormat::Psd => {
            let header = psd::header(bytes)?;
            check_dimensions(header.width, header.height, limits)?;
            psd::decode(bytes, &header)?
        }
        InputFormat::Svg => {
            let doc = svg::parse(bytes, limits)?;
            let image = doc.render()?;
            // Whether anything is see-through: a drawing on a full-size rectangle is opaque.
            let has_alpha = image.pixels().any(|p| p.0[3] < 255);
            (image, has_alpha)
        }
        _ => unreachable!("formats the image crate decodes are handled by decode()"),
    };
    Ok(Decoded {
        image,
        has_alpha,
        format,
    })
}

/// Reads only the header: the format and the dimensions. An SVG is parsed (under the default
/// limits) to learn its size; use [`probe_with`] to apply configured ones.
pub fn probe(bytes: &[u8]) -> Result<(InputFormat, u32, u32), DecodeError> {
    probe_with(bytes, &DecodeLimits::default())
}

/// [`probe`] under `limits` (which bound the parsing an SVG or HEIF header needs, not the
/// dimensions returned: check those with [`check_dimensions`]).
pub fn probe_with(
    bytes: &[u8],
    limits: &DecodeLimits,
) -> Result<(InputFormat, u32, u32), DecodeError> {
    let format = format::sniff(bytes)?;
    let (w, h) = match format {
        InputFormat::Avif | InputFormat::Heic => heif::open(bytes)?.dimensions(),
        InputFormat::Psd => {
            let h = psd::header(bytes)?;
            (h.width, h.height)
        }
        InputFormat::Svg => {
            let unbounded = DecodeLimits {
                max_pixels: u64::MAX,
                max_side: u32::MAX,
                ..*limits
            };
            let doc = svg::parse(bytes, &unbounded)?;
            (doc.width, doc.height)
        }
        other => dimensions(
            bytes,
            other.image_format().expect("decoded by the image crate"),
        )?,
    };
    Ok((format, w, h))
}

fn dimensions(bytes: &[u8], format: image::ImageFormat) -> Result<(u32, u32), DecodeError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.no_limits();
    reader.into_dimensions().map_err(corrupt)
}

/// The JPEG decoder pads a truncated scan with grey and reports success; a cut-out of half a
/// photo is worse than a clear error. Entropy-coded data cannot contain FF D9 (FF bytes are
/// stuffed), so an end-of-image marker after the first start-of-scan means the scan data ended
/// properly. Data appended after it (motion photos) does not matter.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let Some(sos) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    // From the end: the marker is normally the last two bytes.
    bytes[sos..].windows(2).rev().any(|w| w == [0xFF, 0xD9])
}

/// Refuses dimensions over `limits`; callers that only have the header (probe) use it too.
pub fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), DecodeError> {
    if width == 0 || height == 0 {
        return Err(DecodeError::Corrupt(format!(
            "zero-sized image {width}x{height}"
        )));
    }
    if width.max(height) > limits.max_side {
        return Err(DecodeError::TooLarge {
            width,
            height,
            limit: limits.max_side,
        });
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(DecodeError::TooManyPixels {
            width,
            height,
            pixels,
            limit: limits.max_pixels,
        });
    }
    Ok(())
}

/// The decoder's own allocation cap, a second line of defence behind the header check: the
/// decoded buffer may be 16-bit RGBA (8 bytes a pixel), plus the RGBA8 copy.
fn alloc_limits(limits: &DecodeLimits) -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    l.max_alloc = Some(limits.max_pixels.saturating_mul(12).max(64 << 20));
    l
}

fn corrupt(e: image::ImageError) -> DecodeError {
    match e {
        image::ImageError::Unsupported(u) => DecodeError::UnsupportedFormat(format!(": {u}")),
        image::ImageError::Limits(l) => {
            DecodeError::Corrupt(format!("declared size exceeds limits: {l}"))
        }
        other => DecodeError::Corrupt(other.to_string()),
    }
}
