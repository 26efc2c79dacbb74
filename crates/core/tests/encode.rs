//! Every output format decoded back, with assertions on pixels. PSD is read back by psd-tools
//! (the reference PSD reader of the Python world) through the test command's virtualenv.

use cutout_testkit::require;
use std::process::Command;

use cutout_core::{encode, EncodeOptions, OutputFormat};
use image::{Rgba, RgbaImage};

/// A cut-out: opaque red square, a half-transparent blue band, fully transparent elsewhere.
fn cutout() -> RgbaImage {
    RgbaImage::from_fn(64, 48, |x, y| match (x, y) {
        (8..32, 8..40) => Rgba([220, 20, 20, 255]),
        (40..56, _) => Rgba([20, 20, 220, 128]),
        _ => Rgba([0, 0, 0, 0]),
    })
}

fn enc(format: OutputFormat) -> Vec<u8> {
    encode(
        &cutout(),
        None,
        &EncodeOptions {
            format,
            ..Default::default()
        },
    )
    .unwrap()
}

fn assert_near(a: Rgba<u8>, b: Rgba<u8>, tol: u8, what: &str) {
    assert!(
        (0..4).all(|i| a[i].abs_diff(b[i]) <= tol),
        "{what}: {a:?} vs {b:?}"
    );
}

#[test]
fn png_tiff_and_lossless_webp_round_trip_exactly() {
    for (format, f) in [
        (OutputFormat::Png, image::ImageFormat::Png),
        (OutputFormat::Tiff, image::ImageFormat::Tiff),
        (OutputFormat::Webp, image::ImageFormat::WebP),
    ] {
        let bytes = enc(format);
        assert_eq!(image::guess_format(&bytes).unwrap(), f);
        let back = image::load_from_memory(&bytes).unwrap().to_rgba8();
        assert_eq!(back, cutout(), "{format:?}");
    }
}

#[test]
fn lossy_webp_keeps_alpha() {
    let opts = EncodeOptions {
        format: OutputFormat::Webp,
        webp_lossy: true,
        quality: 90,
        ..Default::default()
    };
    let back = image::load_from_memory(&encode(&cutout(), None, &opts).unwrap())
        .unwrap()
        .to_rgba8();
    assert_near(
        *back.get_pixel(20, 20),
        Rgba([220, 20, 20, 255]),
        20,
        "opaque",
    );
    assert_eq!(back.get_pixel(2, 2)[3], 0);
    assert!(back.get_pixel(48, 20)[3].abs_diff(128) <= 8);
}

#[test]
fn jpeg_is_flattened_on_white_by_default_and_on_the_given_colour() {
    let back = image::load_from_memory(&enc(OutputFormat::Jpeg))
        .unwrap()
        .to_rgba8();
    assert_near(
        *back.get_pixel(2, 2),
        Rgba([255, 255, 255, 255]),
        6,
        "white background",
    );
    assert_near(
        *back.get_pixel(20, 20),
        Rgba([220, 20, 20, 255]),
        12,
        "subject",
    );
    // 50 % blue over white.
    assert_near(
        *back.get_pixel(48, 20),
        Rgba([137, 137, 237, 255]),
        12,
        "blend",
    );
    let opts = EncodeOptions {
        format: OutputFormat::Jpeg,
        jpeg_background: Rgba([0, 0, 0, 255]),
        ..Default::default()
    };
    let back = image::load_from_memory(&encode(&cutout(), None, &opts).unwrap())
        .unwrap()
        .to_rgba8();
    assert_near(
        *back.get_pixel(2, 2),
        Rgba([0, 0, 0, 255]),
        6,
        "black background",
    );
}

#[test]
fn mask_output_is_grayscale_alpha() {
    let img = image::load_from_memory(&enc(OutputFormat::Mask)).unwrap();
    assert_eq!(img.color(), image::ColorType::L8);
    let g = img.to_luma8();
    assert_eq!(g.get_pixel(20, 20)[0], 255);
    assert_eq!(g.get_pixel(2, 2)[0], 0);
    assert_eq!(g.get_pixel(48, 2)[0], 128);
}

#[test]
fn format_names_parse() {
    assert_eq!("JPEG".parse::<OutputFormat>().unwrap(), OutputFormat::Jpeg);
    assert_eq!("tif".parse::<OutputFormat>().unwrap(), OutputFormat::Tiff);
    assert!("gif".parse::<OutputFormat>().is_err());
}

#[test]
fn psd_is_layered_and_readable_by_psd_tools() {
    require!(PsdTools);
    let original = RgbaImage::from_pixel(64, 48, Rgba([10, 200, 10, 255]));
    let opts = EncodeOptions {
        format: OutputFormat::Psd,
        ..Default::default()
    };
    let bytes = encode(&cutout(), Some(&original), &opts).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.psd");
    std::fs::write(&path, bytes).unwrap();
    let python = cutout_testkit::tier::python();
    let script = r#"
import sys
from psd_tools import PSDImage
psd = PSDImage.open(sys.argv[1])
assert psd.size == (64, 48), psd.size
layers = list(psd)
assert [l.name for l in layers] == ["Original", "Cutout"], [l.name for l in layers]
assert not layers[0].visible and layers[1].visible
orig = layers[0].topil().convert("RGBA")
assert orig.getpixel((5, 5)) == (10, 200, 10, 255), orig.getpixel((5, 5))
cut = layers[1].topil().convert("RGBA")
assert cut.getpixel((20, 20)) == (220, 20, 20, 255), cut.getpixel((20, 20))
assert cut.getpixel((2, 2))[3] == 0
assert cut.getpixel((48, 20)) == (20, 20, 220, 128), cut.getpixel((48, 20))
merged = psd.topil().convert("RGBA")
assert merged.getpixel((20, 20)) == (220, 20, 20, 255), merged.getpixel((20, 20))
assert merged.getpixel((2, 2))[3] == 0, merged.getpixel((2, 2))
print("psd ok")
"#;
    let out = Command::new(&python).arg("-c").arg(script).arg(&path).output().unwrap_or_else(|e| {
        panic!("cannot run {python} ({e}); run the suite with scripts/test.sh, which provides psd-tools")
    });
    assert!(
        out.status.success(),
        "psd-tools check failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn psd_is_readable_by_imagemagick() {
    require!(ImageMagick);
    let original = RgbaImage::from_pixel(64, 48, Rgba([10, 200, 10, 255]));
    let opts = EncodeOptions {
        format: OutputFormat::Psd,
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.psd");
    std::fs::write(&path, encode(&cutout(), Some(&original), &opts).unwrap()).unwrap();
    let identify =
        |args: &[&str], target: String| {
            let out = Command::new("identify").args(args).arg(target).output().unwrap_or_else(|e| {
            panic!("cannot run ImageMagick's identify ({e}); scripts/test.sh installs imagemagick")
        });
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
    // The merged image plus the two layers.
    let sizes = identify(&["-format", "%wx%h\n"], path.display().to_string());
    assert_eq!(sizes.lines().collect::<Vec<_>>(), ["64x48"; 3]);
    let px = identify(
        &["-format", "%[pixel:p{20,20}] %[pixel:p{2,2}]"],
        format!("{}[2]", path.display()),
    );
    assert_eq!(px, "srgba(220,20,20,1) srgba(0,0,0,0)");
    let px = identify(
        &["-format", "%[pixel:p{2,2}]"],
        format!("{}[1]", path.display()),
    );
    assert_eq!(px, "srgba(10,200,10,1)");
}
