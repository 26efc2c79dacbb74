//! The formats with their own decoders (AVIF, HEIC, PSD, SVG): real files decode to the same
//! picture as the PNG they were made from, and bad ones are refused with the right error.

use cutout_core::decode::{decode, probe, InputFormat, SVG_DEFAULT_SIDE};
use cutout_core::{CutoutError, DecodeError, DecodeLimits, EncodeOptions, OutputFormat, RgbaImage};
use cutout_testkit::{fixtures::format_sample, require};

fn png(name: &str) -> RgbaImage {
    image::load_from_memory(&format_sample(name))
        .unwrap()
        .to_rgba8()
}

/// Mean absolute difference of the colour channels where the reference is visible, and of alpha.
fn diff(a: &RgbaImage, b: &RgbaImage) -> (f64, f64) {
    assert_eq!(a.dimensions(), b.dimensions());
    let (mut colour, mut alpha, mut n) = (0u64, 0u64, 0u64);
    for (p, q) in a.pixels().zip(b.pixels()) {
        alpha += u64::from(p[3].abs_diff(q[3]));
        if q[3] == 255 {
            colour += (0..3).map(|c| u64::from(p[c].abs_diff(q[c]))).sum::<u64>();
            n += 3;
        }
    }
    let px = u64::from(a.width() * a.height());
    (colour as f64 / n as f64, alpha as f64 / px as f64)
}

fn code(bytes: &[u8]) -> &'static str {
    CutoutError::Decode(decode(bytes, &DecodeLimits::default()).unwrap_err()).code()
}

#[test]
fn avif_at_8_10_and_12_bits_with_alpha() {
    require!(Libheif);
    let reference = png("reference.png");
    // Tolerances: mean absolute difference in 0-255 levels. Measured with libheif 1.15:
    // lossless 0.00 (alpha 0.00); 10-bit 1.20, 12-bit 1.14 (alpha 0.00) at quantiser 8.
    for (name, colour_tol, alpha_tol) in [
        ("alpha-8bit.avif", 0.5, 0.5),
        ("lossy-10bit.avif", 2.5, 0.5),
        ("lossy-12bit.avif", 2.5, 0.5),
    ] {
        let d = decode(&format_sample(name), &DecodeLimits::default()).unwrap();
        assert_eq!(d.format, InputFormat::Avif);
        assert!(d.has_alpha, "{name}");
        let (c, a) = diff(&d.image, &reference);
        assert!(
            c <= colour_tol && a <= alpha_tol,
            "{name}: colour {c:.2}, alpha {a:.2}"
        );
        // The transparent edge stays transparent: a cut-out of it keeps the source's alpha.
        assert_eq!(d.image.get_pixel(5, 60)[3], 0, "{name}");
    }
}

#[test]
fn heic_is_turned_upright_by_its_irot_box() {
    require!(Libheif);
    let bytes = format_sample("rotated.heic");
    let (format, w, h) = probe(&bytes).unwrap();
    assert_eq!((format, w, h), (InputFormat::Heic, 160, 120));
    let d = decode(&bytes, &DecodeLimits::default()).unwrap();
    assert!(!d.has_alpha);
    let (c, _) = diff(&d.image, &png("reference-rgb.png"));
    // Lossy HEVC at quality 92: 2.45 measured. Upright matters: turned, it is over 50.
    assert!(c <= 4.0, "colour {c:.2}");
}

#[test]
fn heif_files_that_lie_or_stop_short() {
    require!(Libheif);
    let avif = format_sample("alpha-8bit.avif");
    assert_eq!(code(&avif[..avif.len() / 2]), "corrupt_image");
    assert_eq!(code(&avif[..200]), "corrupt_image");
    // The `ispe` box claims 100000x100000: refused from the header, nothing decoded.
    let mut huge = avif.clone();
    let at = huge.windows(4).position(|w| w == b"ispe").unwrap() + 8;
    huge[at..at + 8].copy_from_slice(&[0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0]);
    let e = decode(&huge, &DecodeLimits::default()).unwrap_err();
    assert!(
        matches!(e, DecodeError::TooLarge { width: 100_000, .. }),
        "{e}"
    );
}

#[test]
fn psd_composite_from_another_writer() {
    let d = decode(&format_sample("imagemagick.psd"), &DecodeLimits::default()).unwrap();
    assert_eq!(d.format, InputFormat::Psd);
    assert!(d.has_alpha);
    let (c, a) = diff(&d.image, &png("reference.png"));
    assert!(
        c == 0.0 && a == 0.0,
        "lossless: colour {c:.2}, alpha {a:.2}"
    );
}

/// A 48x32 picture with a soft alpha, through Cutout's own PSD writer and back.
fn own_psd() -> (RgbaImage, Vec<u8>) {
    let img = RgbaImage::from_fn(48, 32, |x, y| {
        image::Rgba([(x * 5) as u8, (y * 7) as u8, 128, (x * 255 / 47) as u8])
    });
    let opts = EncodeOptions {
        format: OutputFormat::Psd,
        ..EncodeOptions::default()
    };
    let psd = cutout_core::encode(&img, Some(&img), &opts).unwrap();
    (img, psd)
}

#[test]
fn psd_round_trip_through_our_writer() {
    let (img, psd) = own_psd();
    let d = decode(&psd, &DecodeLimits::default()).unwrap();
    assert!(d.has_alpha);
    assert_eq!(d.image, img);
}

#[test]
fn psd_without_a_composite_or_too_large() {
    let (_, psd) = own_psd();
    // Version info (resource 1057) saying "no real merged data", as Photoshop writes with
    // "Maximize Compatibility" off.
    let mut block = b"8BIM".to_vec();
    block.extend_from_slice(&1057u16.to_be_bytes());
    block.extend_from_slice(&[0, 0]); // empty name, padded
    block.extend_from_slice(&6u32.to_be_bytes());
    block.extend_from_slice(&[0, 0, 0, 1, 0, 0]); // version 1, hasRealMergedData = 0
    let mut blank = psd[..30].to_vec();
    blank.extend_from_slice(&(block.len() as u32).to_be_bytes());
    blank.extend_from_slice(&block);
    blank.extend_from_slice(&psd[34..]);
    let e = decode(&blank, &DecodeLimits::default()).unwrap_err();
    assert!(e.to_string().contains("Maximize Compatibility"), "{e}");

    // Cut after the layers: the composite is missing.
    let layers = u32::from_be_bytes(psd[34..38].try_into().unwrap()) as usize;
    let e = decode(&psd[..38 + layers], &DecodeLimits::default()).unwrap_err();
    assert!(e.to_string().contains("no flattened composite"), "{e}");
    assert_eq!(code(&psd[..psd.len() - 100]), "corrupt_image");

    let mut huge = psd.clone();
    huge[14..22].copy_from_slice(&[0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0]);
    assert_eq!(code(&huge), "image_too_large");
}

const SHAPES: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">
  <rect x="0" y="0" width="100" height="100" fill="#ff0000"/>
  <circle cx="150" cy="50" r="40" fill="#0000ff"/>
</svg>"##;

#[test]
fn svg_is_rasterised_at_its_intrinsic_size() {
    let d = decode(SHAPES.as_bytes(), &DecodeLimits::default()).unwrap();
    assert_eq!(d.format, InputFormat::Svg);
    assert_eq!(d.image.dimensions(), (200, 100));
    assert!(d.has_alpha, "the corners around the circle are transparent");
    assert_eq!(d.image.get_pixel(50, 50).0, [255, 0, 0, 255]);
    assert_eq!(d.image.get_pixel(150, 50).0, [0, 0, 255, 255]);
    assert_eq!(d.image.get_pixel(199, 0).0[3], 0);
}

#[test]
fn svg_with_only_a_viewbox_gets_the_default_size() {
    let icon = r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 12"><rect width="24" height="12"/></svg>"#;
    let d = decode(icon.as_bytes(), &DecodeLimits::default()).unwrap();
    let side = SVG_DEFAULT_SIDE as u32;
    assert_eq!(d.image.dimensions(), (side, side / 2));
    assert!(!d.has_alpha);
}

#[test]
fn svg_never_reads_files_or_urls() {
    for href in [
        "/etc/passwd",
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.png",
        "photo.png",
    ] {
        for attr in ["href", "xlink:href"] {
            let doc = format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><image {attr}="{href}" width="10" height="10"/></svg>"#
            );
            let e = decode(doc.as_bytes(), &DecodeLimits::default()).unwrap_err();
            assert!(e.to_string().contains("only embedded data"), "{href}: {e}");
        }
    }
    let filter = r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><filter id="f"><feImage href="/etc/hostname"/></filter><rect width="10" height="10" filter="url(#f)"/></svg>"#;
    assert_eq!(code(filter.as_bytes()), "corrupt_image");
}

#[test]
fn svg_embedded_images_are_drawn_and_bounded() {
    use base64::Engine;
    let data = |png: &[u8]| base64::engine::general_purpose::STANDARD.encode(png);
    let green = RgbaImage::from_pixel(4, 4, image::Rgba([0, 255, 0, 255]));
    let mut small = std::io::Cursor::new(Vec::new());
    green.write_to(&mut small, image::ImageFormat::Png).unwrap();
    let doc = |b64: String| {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><image href="data:image/png;base64,{b64}" width="20" height="20"/></svg>"#
        )
    };
    let d = decode(
        doc(data(small.get_ref())).as_bytes(),
        &DecodeLimits::default(),
    )
    .unwrap();
    assert_eq!(d.image.get_pixel(10, 10).0, [0, 255, 0, 255]);
    let bomb = doc(data(cutout_testkit::fixtures::BOMB_PNG));
    let e = decode(bomb.as_bytes(), &DecodeLimits::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("embedded image is over the pixel limits"),
        "{e}"
    );
}

#[test]
fn svg_bombs_are_refused_before_expansion() {
    let laughs = cutout_testkit::fixtures::svg_billion_laughs(10, 10);
    let e = decode(laughs.as_bytes(), &DecodeLimits::default()).unwrap_err();
    assert!(e.to_string().contains("entities expand"), "{e}");

    let limits = DecodeLimits {
        svg_max_nodes: 1000,
        svg_max_depth: 50,
        ..DecodeLimits::default()
    };
    let many = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{}</svg>"#,
        "<g/>".repeat(2000)
    );
    let e = decode(many.as_bytes(), &limits).unwrap_err();
    assert!(e.to_string().contains("XML nodes"), "{e}");
    let deep = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{}{}</svg>"#,
        "<g>".repeat(60),
        "</g>".repeat(60)
    );
    let e = decode(deep.as_bytes(), &limits).unwrap_err();
    assert!(e.to_string().contains("nested deeper than 50"), "{e}");

    let huge = r#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"/>"#;
    assert_eq!(code(huge.as_bytes()), "image_too_large");
    assert_eq!(
        code(b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\""),
        "corrupt_image"
    );
}

#[test]
fn unsupported_message_names_every_format() {
    let e = decode(b"%PDF-1.7 not a picture", &DecodeLimits::default()).unwrap_err();
    let msg = e.to_string();
    for f in [
        "JPEG", "PNG", "WebP", "AVIF", "HEIC", "TIFF", "GIF", "BMP", "PSD", "SVG",
    ] {
        assert!(msg.contains(f), "{msg}");
    }
}
