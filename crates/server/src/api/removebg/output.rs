//! From the cut-out to remove.bg's answer: region of interest, crop, placement, size class,
//! background, channels and format (run on the blocking pool by `cut_out_then`), then the image
//! with remove.bg's `X-*` headers, or its JSON form.

use std::io::Write;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use cutout_core::compose::place::{
    clear_outside, crop_with_margins, harden_alpha, place, subject_box,
};
use cutout_core::compose::{compose, Background, ComposeOptions};
use cutout_core::{CutoutError, DecodeLimits, EncodeError, EncodeOptions, OutputFormat, RgbaImage};

use super::params::{Backdrop, Channels, Format, RemoveBgRequest};
use super::types::{RemoveBgAnswer, RemoveBgAnswerData};

/// The finished result.
pub struct Finished {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    /// The subject's box in the result: (left, top, width, height).
    pub foreground: (u32, u32, u32, u32),
}

/// Everything after segmentation. `background` is the bytes of `bg_image_url`/`bg_image_file`.
pub fn finish(
    mut img: RgbaImage,
    req: &RemoveBgRequest,
    background: Option<&[u8]>,
    limits: &DecodeLimits,
) -> Result<Finished, CutoutError> {
    let (w, h) = img.dimensions();
    if let Some([x1, y1, x2, y2]) = req.roi {
        clear_outside(
            &mut img,
            (x1.resolve(w), y1.resolve(h), x2.resolve(w), y2.resolve(h)),
        );
    }
    if !req.semitransparency {
        harden_alpha(&mut img);
    }
    if req.crop {
        img = crop_with_margins(img, &req.crop_margin);
    }
    img = place(img, req.scale, req.position);
    let pixels = f64::from(img.width()) * f64::from(img.height());
    let scale = req
        .size
        .max_pixels()
        .filter(|max| pixels > *max)
        .map(|max| (max / pixels).sqrt() as f32);
    let fit = ComposeOptions {
        scale,
        ..ComposeOptions::default()
    };
    let img = compose(img, &fit);
    let foreground = subject_box(&img).unwrap_or((0, 0, 0, 0));
    let (width, height) = img.dimensions();
    let backdrop = match (&req.backdrop, background) {
        (Backdrop::Color(c), _) => Background::Color(*c),
        (Backdrop::Url(_) | Backdrop::File, Some(bytes)) => Background::Image(
            cutout_core::decode(bytes, limits)
                .map_err(CutoutError::Background)?
                .image,
        ),
        _ => Background::Transparent,
    };
    let transparent = match &backdrop {
        Background::Transparent => true,
        Background::Color(c) => c[3] < 255,
        Background::Image(_) => false,
    };
    let (bytes, mime) = match (req.channels, req.format) {
        (_, Format::Zip) => (zip_pair(&img)?, "application/zip"),
        (Channels::Alpha, format) => alpha_only(&img, format)?,
        (Channels::Rgba, format) => {
            let composed = compose(
                img,
                &ComposeOptions {
                    background: backdrop,
                    ..ComposeOptions::default()
                },
            );
            let format = match format {
                Format::Auto if transparent => OutputFormat::Png,
                Format::Auto | Format::Jpg => OutputFormat::Jpeg,
                Format::Png => OutputFormat::Png,
                Format::Webp | Format::Zip => OutputFormat::Webp,
            };
            (encode(&composed, format)?, format.mime())
        }
    };
    Ok(Finished {
        bytes,
        mime,
        width,
        height,
        foreground,
    })
}

fn encode(img: &RgbaImage, format: OutputFormat) -> Result<Vec<u8>, CutoutError> {
    let opts = EncodeOptions {
        format,
        ..EncodeOptions::default()
    };
    Ok(cutout_core::encode(img, None, &opts)?)
}

/// The alpha matte alone, as a grey image (PNG unless JPG or WebP is asked for).
fn alpha_only(img: &RgbaImage, format: Format) -> Result<(Vec<u8>, &'static str), CutoutError> {
    let grey = RgbaImage::from_fn(img.width(), img.height(), |x, y| {
        let a = img.get_pixel(x, y)[3];
        cutout_core::Rgba([a, a, a, 255])
    });
    let format = match format {
        Format::Jpg => OutputFormat::Jpeg,
        Format::Webp => OutputFormat::Webp,
        _ => OutputFormat::Mask,
    };
    let bytes = if format == OutputFormat::Mask {
        encode(img, format)?
    } else {
        encode(&grey, format)?
    };
    Ok((bytes, format.mime()))
}

/// remove.bg's zip: `color.jpg` (the subject's colours, opaque) and `alpha.png` (the matte), to
/// be combined by the client; smaller than an RGBA PNG for large photos.
fn zip_pair(img: &RgbaImage) -> Result<Vec<u8>, CutoutError> {
    let mut colour = img.clone();
    colour.pixels_mut().for_each(|p| p[3] = 255);
    let color_jpg = encode(&colour, OutputFormat::Jpeg)?;
    let alpha_png = encode(img, OutputFormat::Mask)?;
    let failed = |e: &dyn std::fmt::Display| {
        CutoutError::Encode(EncodeError::Failed {
            format: "zip",
            detail: e.to_string(),
        })
    };
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in [("color.jpg", &color_jpg), ("alpha.png", &alpha_png)] {
        out.start_file(name, stored).map_err(|e| failed(&e))?;
        out.write_all(data).map_err(|e| failed(&e))?;
    }
    Ok(out.finish().map_err(|e| failed(&e))?.into_inner())
}

/// The answer: the image with remove.bg's headers, or `{"data":{"result_b64",..}}` when the
/// client asked for JSON.
pub fn answer(f: Finished, kind: &'static str, credits: i64, json: bool) -> Response {
    let (left, top, fw, fh) = f.foreground;
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    put("x-type", kind.into());
    put("x-width", f.width.to_string());
    put("x-height", f.height.to_string());
    put("x-credits-charged", credits.to_string());
    put("x-foreground-top", top.to_string());
    put("x-foreground-left", left.to_string());
    put("x-foreground-width", fw.to_string());
    put("x-foreground-height", fh.to_string());
    if json {
        let body = RemoveBgAnswer {
            data: RemoveBgAnswerData {
                result_b64: base64::engine::general_purpose::STANDARD.encode(&f.bytes),
                foreground_top: top,
                foreground_left: left,
                foreground_width: fw,
                foreground_height: fh,
            },
        };
        return (headers, axum::Json(body)).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(f.mime));
    (headers, f.bytes).into_response()
}
