//! Decode stage: every supported format, orientation, colour conversions, kept transparency,
//! and bad inputs refused with the right error before any large allocation.

use std::io::Cursor;

use cutout_core::{decode, CutoutError, DecodeError, DecodeLimits};
use image::{ImageFormat, Rgba, RgbaImage};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// 40x20: left half red, right half blue, green 4x4 square in the top-left corner.
fn card() -> RgbaImage {
    RgbaImage::from_fn(40, 20, |x, y| match (x, y) {
        (0..4, 0..4) => Rgba([30, 200, 30, 255]),
        (0..20, _) => Rgba([220, 30, 30, 255]),
        _ => Rgba([30, 30, 220, 255]),
    })
}

fn encoded(img: &RgbaImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match format {
        ImageFormat::Jpeg | ImageFormat::Bmp => image::DynamicImage::ImageRgba8(img.clone())
            .to_rgb8()
            .write_to(&mut out, format),
        _ => img.write_to(&mut out, format),
    }
    .unwrap();
    out.into_inner()
}

fn close(a: Rgba<u8>, b: Rgba<u8>, tol: i16) -> bool {
    (0..4).all(|i| (i16::from(a[i]) - i16::from(b[i])).abs() <= tol)
}

fn code(e: DecodeError) -> &'static str {
    CutoutError::Decode(e).code()
}

#[test]
fn decodes_every_supported_format() {
    let img = card();
    for (format, tol) in [
        (ImageFormat::Png, 0),
        (ImageFormat::Jpeg, 24),
        (ImageFormat::WebP, 0),
        (ImageFormat::Tiff, 0),
        (ImageFormat::Bmp, 0),
    ] {
        let d = decode(&encoded(&img, format), &DecodeLimits::default()).unwrap();
        assert_eq!(d.format.mime(), format.to_mime_type());
        assert_eq!(d.image.dimensions(), (40, 20), "{format:?}");
        for (x, y) in [(1, 1), (10, 10), (30, 10)] {
            assert!(
                close(*d.image.get_pixel(x, y), *img.get_pixel(x, y), tol),
                "{format:?} at {x},{y}"
            );
        }
    }
}

/// Colour JPEGs take a direct RGBA path; it must give exactly what `image`'s RGB decode gives,
/// and greyscale JPEGs (the general path) must come out grey and opaque.
#[test]
fn jpeg_direct_rgba_matches_the_general_decoder() {
    // Busy content with odd dimensions, so chroma upsampling and partial MCUs are exercised.
    let photo = RgbaImage::from_fn(97, 61, |x, y| {
        Rgba([
            (x * 7 + y * 3) as u8,
            (x * y) as u8,
            (255 - x * 2) as u8,
            255,
        ])
    });
    let jpeg = encoded(&photo, ImageFormat::Jpeg);
    let ours = decode(&jpeg, &DecodeLimits::default()).unwrap();
    let theirs = image::load_from_memory(&jpeg).unwrap().to_rgba8();
    assert_eq!(ours.image.dimensions(), (97, 61));
    assert!(!ours.has_alpha);
    let diff = ours
        .image
        .pixels()
        .zip(theirs.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(diff, 0, "pixels differing from image's RGB decode");

    let grey = image::DynamicImage::ImageRgba8(photo).to_luma8();
    let mut out = Cursor::new(Vec::new());
    grey.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    let d = decode(out.get_ref(), &DecodeLimits::default()).unwrap();
    let theirs = image::load_from_memory(out.get_ref()).unwrap().to_rgba8();
    assert_eq!(d.image, theirs);
    assert!(d
        .image
        .pixels()
        .all(|p| p[0] == p[1] && p[1] == p[2] && p[3] == 255));
}

#[test]
fn gif_gives_first_frame() {
    let d = decode(&fixture("two_frames.gif"), &DecodeLimits::default()).unwrap();
    assert!(close(
        *d.image.get_pixel(10, 10),
        Rgba([220, 30, 30, 255]),
        10
    ));
    assert!(close(
        *d.image.get_pixel(30, 10),
        Rgba([30, 30, 220, 255]),
        10
    ));
}

#[test]
fn exif_orientation_is_applied() {
    // Stored 20x40 with orientation 6; upright it is the 40x20 card.
    let d = decode(&fixture("exif_orientation6.jpg"), &DecodeLimits::default()).unwrap();
    assert_eq!(d.image.dimensions(), (40, 20));
    assert!(
        close(*d.image.get_pixel(1, 1), Rgba([30, 200, 30, 255]), 30),
        "{:?}",
        d.image.get_pixel(1, 1)
    );
    assert!(close(
        *d.image.get_pixel(30, 10),
        Rgba([30, 30, 220, 255]),
        30
    ));
}

#[test]
fn cmyk_jpeg_is_converted_to_rgb() {
    let d = decode(&fixture("cmyk.jpg"), &DecodeLimits::default()).unwrap();
    assert_eq!(d.image.dimensions(), (40, 20));
    assert!(
        close(*d.image.get_pixel(10, 10), Rgba([220, 30, 30, 255]), 40),
        "{:?}",
        d.image.get_pixel(10, 10)
    );
    assert!(
        close(*d.image.get_pixel(30, 10), Rgba([30, 30, 220, 255]), 40),
        "{:?}",
        d.image.get_pixel(30, 10)
    );
}

#[test]
fn sixteen_bit_inputs_are_converted_and_alpha_kept() {
    let d = decode(&fixture("rgba16.png"), &DecodeLimits::default()).unwrap();
    assert!(d.has_alpha);
    assert_eq!(*d.image.get_pixel(0, 0), Rgba([255, 128, 0, 0]));
    assert_eq!(*d.image.get_pixel(5, 2), Rgba([255, 128, 0, 255]));
    let g = decode(&fixture("gray16.png"), &DecodeLimits::default()).unwrap();
    assert_eq!(g.image.get_pixel(0, 0)[0], 0);
    assert_eq!(g.image.get_pixel(39, 19)[0], 255);
}

#[test]
fn existing_transparency_is_reported() {
    let d = decode(&fixture("half_transparent.png"), &DecodeLimits::default()).unwrap();
    assert!(d.has_alpha);
    assert_eq!(d.image.get_pixel(2, 2)[3], 0);
    assert_eq!(d.image.get_pixel(30, 2)[3], 255);
}

#[test]
fn bad_inputs_give_clear_errors() {
    let limits = DecodeLimits::default();
    let jpeg = encoded(&card(), ImageFormat::Jpeg);
    assert_eq!(code(decode(b"", &limits).unwrap_err()), "empty_input");
    assert_eq!(
        code(decode(b"hello, this is text, not a photo", &limits).unwrap_err()),
        "unsupported_format"
    );
    assert_eq!(
        code(decode(&jpeg[..jpeg.len() / 2], &limits).unwrap_err()),
        "corrupt_image"
    );
    // QOI is a real image format, just not one we accept.
    let mut qoi = b"qoif".to_vec();
    qoi.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 4, 4, 0]);
    let e = decode(&qoi, &limits).unwrap_err();
    assert_eq!(code(e), "unsupported_format");
}

#[test]
fn pixel_bomb_is_refused_from_the_header() {
    let err = decode(cutout_testkit::fixtures::BOMB_PNG, &DecodeLimits::default()).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::TooLarge {
                width: 30000,
                height: 30000,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        CutoutError::Decode(err).kind(),
        cutout_core::ErrorKind::Limit
    );
    // Within the side limit but over the pixel limit.
    let tight = DecodeLimits {
        max_side: 40_000,
        max_pixels: 500,
        ..Default::default()
    };
    assert!(matches!(
        decode(&encoded(&card(), ImageFormat::Png), &tight),
        Err(DecodeError::TooManyPixels { .. })
    ));
}

#[test]
fn byte_limit_is_enforced() {
    let png = encoded(&card(), ImageFormat::Png);
    let limits = DecodeLimits {
        max_bytes: 10,
        ..Default::default()
    };
    assert_eq!(code(decode(&png, &limits).unwrap_err()), "file_too_large");
}
