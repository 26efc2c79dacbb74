//! Input formats, recognised from the content (never from a file name or a client's MIME type).

use image::ImageFormat;

pub use crate::input_format::InputFormat;
use crate::DecodeError;

/// Recognises the format from the first bytes.
pub fn sniff(bytes: &[u8]) -> Result<InputFormat, DecodeError> {
    if let Some(f) = sniff_isobmff(bytes) {
        return f;
    }
    if bytes.starts_with(b"8BPS") {
        return Ok(InputFormat::Psd);
    }
    if looks_like_svg(bytes) {
        return Ok(InputFormat::Svg);
    }
    let supported = |f: ImageFormat| {
        InputFormat::ALL
            .into_iter()
            .find(|i| i.image_format() == Some(f))
    };
    match image::guess_format(bytes) {
        Ok(f) => supported(f)
            .ok_or_else(|| DecodeError::UnsupportedFormat(format!(" ({})", f.extensions_str()[0]))),
        Err(_) => Err(DecodeError::UnsupportedFormat(String::new())),
    }
}

/// HEIF-family files (AVIF, HEIC) start with an `ftyp` box: a major brand, then compatible ones.
/// AVIF is told apart by its brands; any other still-image HEIF brand is HEIC/HEIF.
fn sniff_isobmff(bytes: &[u8]) -> Option<Result<InputFormat, DecodeError>> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes(bytes[..4].try_into().ok()?) as usize;
    let end = size.clamp(16, bytes.len().min(4096));
    let brands: Vec<&[u8]> = std::iter::once(&bytes[8..12])
        .chain(bytes[16..end].chunks_exact(4))
        .collect();
    let has = |b: &[u8]| brands.contains(&b);
    Some(if has(b"avif") || has(b"avis") {
        Ok(InputFormat::Avif)
    } else if [
        b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"hevc", b"hevx",
    ]
    .iter()
    .any(|b| has(*b))
    {
        Ok(InputFormat::Heic)
    } else {
        // An MP4 or a QuickTime file: a video, not a picture.
        Err(DecodeError::UnsupportedFormat(format!(
            " ({})",
            String::from_utf8_lossy(&bytes[8..12]).trim()
        )))
    })
}

/// An SVG document: optional BOM, XML declaration, comments and doctype, then `<svg`.
fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let Ok(text) =
        std::str::from_utf8(head).or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
    else {
        return false;
    };
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        // A doctype naming svg is enough: its internal subset (entities) may run past the head.
        if rest.starts_with("<svg") || rest.starts_with("<!DOCTYPE svg") {
            return true;
        }
        let skip_to = if rest.starts_with("<?") {
            "?>"
        } else if rest.starts_with("<!--") {
            "-->"
        } else if rest.starts_with("<!") {
            ">"
        } else {
            return false;
        };
        let Some(i) = rest.find(skip_to) else {
            return false;
        };
        rest = rest[i + skip_to.len()..].trim_start();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_is_recognised_after_prolog() {
        let doc = "\u{feff}<?xml version=\"1.0\"?>\n<!-- made by hand -->\n<!DOCTYPE svg>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        assert_eq!(sniff(doc.as_bytes()).unwrap(), InputFormat::Svg);
        assert!(sniff(b"<html><svg/></html>").is_err());
    }

    #[test]
    fn heif_brands() {
        let ftyp = |major: &[u8; 4], compat: &[&[u8; 4]]| {
            let mut b = vec![0, 0, 0, (16 + 4 * compat.len()) as u8];
            b.extend_from_slice(b"ftyp");
            b.extend_from_slice(major);
            b.extend_from_slice(&[0; 4]);
            compat.iter().for_each(|c| b.extend_from_slice(*c));
            b.extend_from_slice(&[0; 16]);
            b
        };
        assert_eq!(
            sniff(&ftyp(b"avif", &[b"mif1"])).unwrap(),
            InputFormat::Avif
        );
        assert_eq!(
            sniff(&ftyp(b"mif1", &[b"avif"])).unwrap(),
            InputFormat::Avif
        );
        assert_eq!(
            sniff(&ftyp(b"heic", &[b"mif1"])).unwrap(),
            InputFormat::Heic
        );
        assert_eq!(
            sniff(&ftyp(b"mif1", &[b"heic"])).unwrap(),
            InputFormat::Heic
        );
        let mp4 = sniff(&ftyp(b"isom", &[b"mp41"])).unwrap_err();
        assert!(mp4.to_string().contains("(isom)"), "{mp4}");
    }

    #[test]
    fn message_lists_every_format() {
        let msg = DecodeError::UnsupportedFormat(String::new()).to_string();
        for f in InputFormat::ALL {
            assert!(msg.contains(f.name()), "{msg}");
        }
    }
}
