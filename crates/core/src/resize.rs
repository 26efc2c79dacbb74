//! Thin wrappers over `fast_image_resize` (SIMD, multi-threaded convolution).
//!
//! Only the two pixel types Cutout resizes are named, through the crate's typed API: its
//! dynamic `resize` instantiates every pixel type for every SIMD level in the caller, which was
//! 40 % of this crate's compiled code and most of its build time.

use fast_image_resize::images::{TypedImage, TypedImageRef};
use fast_image_resize::pixels::{U8x4, U8};
use fast_image_resize::PixelTrait;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use rayon::prelude::*;

/// The packed layouts that get resized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pixels {
    /// One byte per pixel: masks.
    Gray,
    /// RGBA, 8 bits per channel.
    Rgba,
}

impl Pixels {
    fn bytes(self) -> usize {
        match self {
            Self::Gray => 1,
            Self::Rgba => 4,
        }
    }
}

/// The resampling filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Bilinear,
    Lanczos3,
}

/// Resizes a packed buffer of `pixel` type. RGBA is resized with premultiplied alpha so that
/// transparent pixels' colours do not bleed into visible ones.
pub(crate) fn resize(
    src: &[u8],
    (sw, sh): (u32, u32),
    (dw, dh): (u32, u32),
    pixel: Pixels,
    filter: Filter,
) -> Vec<u8> {
    // Premultiplying is two extra passes over the source; an opaque image (every photo) gains
    // nothing from it.
    let has_alpha = pixel == Pixels::Rgba
        && src
            .par_chunks(4 << 16)
            .any(|c| c.chunks_exact(4).any(|p| p[3] != 255));
    resize_with(src, (sw, sh), (dw, dh), pixel, filter, has_alpha)
}

fn resize_with(
    src: &[u8],
    (sw, sh): (u32, u32),
    (dw, dh): (u32, u32),
    pixel: Pixels,
    filter: Filter,
    use_alpha: bool,
) -> Vec<u8> {
    if (sw, sh) == (dw, dh) {
        return src.to_vec();
    }
    let alg = ResizeAlg::Convolution(match filter {
        Filter::Bilinear => FilterType::Bilinear,
        Filter::Lanczos3 => FilterType::Lanczos3,
    });
    let options = ResizeOptions::new().resize_alg(alg).use_alpha(use_alpha);
    let mut out = vec![0u8; dw as usize * dh as usize * pixel.bytes()];
    match pixel {
        Pixels::Gray => typed::<U8>(src, (sw, sh), &mut out, (dw, dh), &options),
        Pixels::Rgba => typed::<U8x4>(src, (sw, sh), &mut out, (dw, dh), &options),
    }
    out
}

fn typed<P: PixelTrait>(
    src: &[u8],
    (sw, sh): (u32, u32),
    dst: &mut [u8],
    (dw, dh): (u32, u32),
    options: &ResizeOptions,
) {
    // Both pixel types are byte arrays (alignment 1), so any buffer of the right size fits.
    let src = TypedImageRef::<P>::from_buffer(sw, sh, src).expect("buffer matches its size");
    let mut dst = TypedImage::<P>::from_buffer(dw, dh, dst).expect("buffer matches its size");
    Resizer::new()
        .resize_typed(&src, &mut dst, options)
        .expect("same pixel type on both sides");
}

/// Resizes an RGBA image's colour channels, ignoring alpha entirely (as PIL's
/// `convert("RGB").resize(...)` does), and returns packed RGB. Models see the colours a
/// transparent pixel stores, exactly as the reference preprocessing does.
pub fn rgb_resized(image: &image::RgbaImage, (w, h): (u32, u32), filter: Filter) -> Vec<u8> {
    let rgba = resize_with(
        image.as_raw(),
        image.dimensions(),
        (w, h),
        Pixels::Rgba,
        filter,
        false,
    );
    rgba.chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}
