//! Thin wrappers over `fast_image_resize` (SIMD, multi-threaded convolution).

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use rayon::prelude::*;

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
    pixel: PixelType,
    filter: Filter,
) -> Vec<u8> {
    // Premultiplying is two extra passes over the source; an opaque image (every photo) gains
    // nothing from it.
    let has_alpha = pixel == PixelType::U8x4
        && src
            .par_chunks(4 << 16)
            .any(|c| c.chunks_exact(4).any(|p| p[3] != 255));
    resize_with(src, (sw, sh), (dw, dh), pixel, filter, has_alpha)
}

fn resize_with(
    src: &[u8],
    (sw, sh): (u32, u32),
    (dw, dh): (u32, u32),
    pixel: PixelType,
    filter: Filter,
    use_alpha: bool,
) -> Vec<u8> {
    if (sw, sh) == (dw, dh) {
        return src.to_vec();
    }
    let src = ImageRef::new(sw, sh, src, pixel).expect("buffer matches its dimensions");
    let mut dst = Image::new(dw, dh, pixel);
    let alg = ResizeAlg::Convolution(match filter {
        Filter::Bilinear => FilterType::Bilinear,
        Filter::Lanczos3 => FilterType::Lanczos3,
    });
    Resizer::new()
        .resize(
            &src,
            &mut dst,
            &ResizeOptions::new().resize_alg(alg).use_alpha(use_alpha),
        )
        .expect("pixel types match");
    dst.into_vec()
}

/// Resizes an RGBA image's colour channels, ignoring alpha entirely (as PIL's
/// `convert("RGB").resize(...)` does), and returns packed RGB. Models see the colours a
/// transparent pixel stores, exactly as the reference preprocessing does.
pub fn rgb_resized(image: &image::RgbaImage, (w, h): (u32, u32), filter: Filter) -> Vec<u8> {
    let rgba = resize_with(
        image.as_raw(),
        image.dimensions(),
        (w, h),
        PixelType::U8x4,
        filter,
        false,
    );
    rgba.chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}
