//! The whole pipeline with a deterministic segmenter: options reach their stages, timings are
//! recorded, and input transparency survives.

use std::io::Cursor;
use std::time::Duration;

use cutout_core::{
    process, Background, ComposeOptions, EncodeOptions, Mask, Options, OutputFormat, RefineOptions,
    SegmentError, SegmentOutput, Segmenter,
};
use image::{Rgba, RgbaImage};

/// Marks red pixels as the subject, at a quarter of the resolution (like a real model's mask).
struct RedIsSubject;

impl Segmenter for RedIsSubject {
    fn name(&self) -> &str {
        "red"
    }

    fn segment(&self, image: &RgbaImage) -> Result<SegmentOutput, SegmentError> {
        let (w, h) = (image.width() / 4, image.height() / 4);
        let small = image::imageops::resize(image, w, h, image::imageops::FilterType::Triangle);
        let data = small
            .pixels()
            .map(|p| if p[0] > 128 && p[1] < 100 { 255 } else { 0 })
            .collect();
        let mask = Mask::new(w, h, data).ok_or_else(|| SegmentError::internal("empty"))?;
        Ok(SegmentOutput {
            mask,
            preprocess: Duration::ZERO,
            inference: Duration::from_millis(1),
        })
    }
}

struct Broken;

impl Segmenter for Broken {
    fn name(&self) -> &str {
        "broken"
    }

    fn segment(&self, _: &RgbaImage) -> Result<SegmentOutput, SegmentError> {
        Err(SegmentError::internal("boom"))
    }
}

fn photo() -> Vec<u8> {
    let img = RgbaImage::from_fn(128, 96, |x, y| {
        if (32..96).contains(&x) && (24..72).contains(&y) {
            Rgba([230, 30, 30, 255])
        } else {
            Rgba([30, 160, 200, 255])
        }
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn default_pipeline_cuts_out_the_subject() {
    let out = process(&photo(), &RedIsSubject, &Options::default()).unwrap();
    assert_eq!(
        (out.width, out.height, out.format),
        (128, 96, OutputFormat::Png)
    );
    let img = image::load_from_memory(&out.bytes).unwrap().to_rgba8();
    assert_eq!(img.get_pixel(64, 48)[3], 255);
    assert_eq!(*img.get_pixel(5, 5), Rgba([0, 0, 0, 0]));
    assert!(out.timings.inference >= Duration::from_millis(1));
    assert!(out.timings.total() >= out.timings.inference);
}

#[test]
fn options_reach_compose_and_encode() {
    let opts = Options {
        compose: ComposeOptions {
            background: Background::Color(Rgba([0, 255, 0, 255])),
            crop: true,
            ..Default::default()
        },
        encode: EncodeOptions {
            format: OutputFormat::Jpeg,
            ..Default::default()
        },
        refine: RefineOptions::none(),
        ..Default::default()
    };
    let out = process(&photo(), &RedIsSubject, &opts).unwrap();
    let img = image::load_from_memory(&out.bytes).unwrap().to_rgb8();
    // Cropped to the 64x48 subject (give or take the mask's soft edge).
    assert!(
        (60..=70).contains(&img.width()) && (44..=54).contains(&img.height()),
        "{:?}",
        img.dimensions()
    );
    let c = img.get_pixel(img.width() / 2, img.height() / 2);
    assert!(c[0] > 200 && c[1] < 60, "{c:?}");
}

#[test]
fn segmenter_failure_is_an_internal_error() {
    let err = process(&photo(), &Broken, &Options::default()).unwrap_err();
    assert_eq!(err.code(), "segmentation_failed");
    assert_eq!(err.kind(), cutout_core::ErrorKind::Internal);
}

#[test]
fn psd_output_carries_the_original() {
    let opts = Options {
        encode: EncodeOptions {
            format: OutputFormat::Psd,
            ..Default::default()
        },
        ..Default::default()
    };
    let out = process(&photo(), &RedIsSubject, &opts).unwrap();
    assert_eq!(&out.bytes[..4], b"8BPS");
}
