//! Colour JPEGs straight to RGBA.

use image::metadata::Orientation;
use image::RgbaImage;
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

/// Decodes a YCbCr JPEG (nearly every photo) straight to RGBA with zune-jpeg's SIMD colour
/// conversion, and reads its EXIF orientation. Going through `image` instead yields RGB, which
/// costs a second full-size buffer and a conversion pass: about a sixth of a 12 MP photo's decode.
///
/// `None` for anything else (greyscale, CMYK) and for any decoder error: `image`'s general path
/// then decodes the file, or reports its error, exactly as it always has.
pub(super) fn decode_ycbcr(bytes: &[u8]) -> Option<(RgbaImage, Orientation)> {
    // As lenient as `image` (strict mode off): cameras write slightly off-spec files. Size limits
    // were enforced from the header before this is called.
    let options = DecoderOptions::default()
        .set_strict_mode(false)
        .set_max_width(usize::MAX)
        .set_max_height(usize::MAX)
        .jpeg_set_out_colorspace(ColorSpace::RGBA);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().ok()?;
    if decoder.input_colorspace()? != ColorSpace::YCbCr {
        return None;
    }
    let (w, h) = decoder.dimensions()?;
    let orientation = decoder
        .exif()
        .and_then(|exif| Orientation::from_exif_chunk(exif))
        .unwrap_or(Orientation::NoTransforms);
    let mut rgba = vec![0u8; decoder.output_buffer_size()?];
    decoder.decode_into(&mut rgba).ok()?;
    let image = RgbaImage::from_raw(u32::try_from(w).ok()?, u32::try_from(h).ok()?, rgba)?;
    Some((image, orientation))
}
