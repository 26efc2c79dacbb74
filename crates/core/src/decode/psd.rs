//! Photoshop (PSD, and PSB for large documents): the flattened composite that Photoshop stores
//! after the layers, which is what every viewer shows. Layers are not composited here: blend
//! modes, effects and adjustment layers would make a home-made compositor subtly wrong.

use image::RgbaImage;

use crate::DecodeError;

/// Image resource 1057 ("version info") says whether the composite is real: with Photoshop's
/// "Maximize Compatibility" off, the stored composite is a blank placeholder.
const VERSION_INFO: u16 = 1057;

#[derive(Debug)]
pub(super) struct Header {
    psb: bool,
    channels: u16,
    pub width: u32,
    pub height: u32,
    depth: u16,
    mode: u16,
}

fn corrupt(what: &str) -> DecodeError {
    DecodeError::Corrupt(format!("PSD: {what}"))
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| corrupt("the file ends inside a section"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    /// A length-prefixed section: 4 bytes, or 8 for PSB's layer section.
    fn section(&mut self, long: bool) -> Result<&'a [u8], DecodeError> {
        let len = if long {
            self.u64()?
        } else {
            u64::from(self.u32()?)
        };
        self.take(usize::try_from(len).map_err(|_| corrupt("section length"))?)
    }
}

pub(super) fn header(bytes: &[u8]) -> Result<Header, DecodeError> {
    let mut r = Reader { bytes, pos: 0 };
    if r.take(4)? != b"8BPS" {
        return Err(corrupt("not a Photoshop file"));
    }
    let psb = match r.u16()? {
        1 => false,
        2 => true,
        v => return Err(corrupt(&format!("unknown version {v}"))),
    };
    r.take(6)?;
    Ok(Header {
        psb,
        channels: r.u16()?,
        height: r.u32()?,
        width: r.u32()?,
        depth: r.u16()?,
        mode: r.u16()?,
    })
}

/// Decodes the composite of a header already checked against the limits.
pub(super) fn decode(bytes: &[u8], h: &Header) -> Result<(RgbaImage, bool), DecodeError> {
    let colour_channels: u16 = match (h.mode, h.depth) {
        (1, 8 | 16) => 1,
        (3, 8 | 16) => 3,
        (4, 8 | 16) => 4,
        (mode, depth) => {
            return Err(DecodeError::UnsupportedFormat(format!(
                " (PSD colour mode {mode} at {depth} bits: only RGB, grayscale and CMYK at 8 or 16 bits)"
            )))
        }
    };
    if h.channels < colour_channels {
        return Err(corrupt("fewer channels than its colour mode needs"));
    }
    let mut r = Reader { bytes, pos: 26 };
    r.section(false)?; // colour mode data (palettes, duotone specs)
    if !has_real_composite(r.section(false)?) {
        return Err(no_composite());
    }
    let layers = r.section(h.psb)?;
    // A negative layer count: the composite's first extra channel is its transparency.
    let at = if h.psb { 8 } else { 4 };
    let transparent = layers.get(at).is_some_and(|b| b & 0x80 != 0);
    let alpha = (transparent && h.channels > colour_channels).then_some(colour_channels);
    if r.pos == bytes.len() {
        return Err(no_composite());
    }
    let wanted = colour_channels + u16::from(alpha.is_some());
    let planes = read_planes(&mut r, h, wanted)?;
    Ok((to_rgba(h, &planes, colour_channels, alpha), alpha.is_some()))
}

fn no_composite() -> DecodeError {
    DecodeError::Corrupt(
        "PSD: the file has no flattened composite (save it with \"Maximize Compatibility\")".into(),
    )
}

fn has_real_composite(resources: &[u8]) -> bool {
    let mut r = Reader {
        bytes: resources,
        pos: 0,
    };
    while let Ok((id, data)) = resource(&mut r) {
        if id == VERSION_INFO && data.len() > 4 {
            return data[4] != 0;
        }
    }
    true
}

fn resource<'a>(r: &mut Reader<'a>) -> Result<(u16, &'a [u8]), DecodeError> {
    r.take(4)?; // "8BIM"
    let id = r.u16()?;
    let name_len = usize::from(r.take(1)?[0]);
    r.take(name_len + (name_len + 1) % 2)?; // padded to an even length with the count byte
    let len = r.u32()? as usize;
    let data = r.take(len)?;
    r.take(len % 2).ok();
    Ok((id, data))
}

/// Reads the first `wanted` channel planes, each 8-bit (16-bit samples keep their high byte).
fn read_planes(r: &mut Reader, h: &Header, wanted: u16) -> Result<Vec<Vec<u8>>, DecodeError> {
    let (w, rows) = (h.width as usize, h.height as usize);
    let sample = usize::from(h.depth / 8);
    let row_len = w * sample;
    let mut planes = Vec::with_capacity(usize::from(wanted));
    match r.u16()? {
        0 => {
            for _ in 0..wanted {
                planes.push(narrow(r.take(row_len * rows)?, sample));
            }
        }
        1 => {
            let count_size = if h.psb { 4 } else { 2 };
            let counts = r.take(usize::from(h.channels) * rows * count_size)?;
            let count = |i: usize| -> usize {
                let c = &counts[i * count_size..(i + 1) * count_size];
                c.iter().fold(0, |acc, &b| acc << 8 | usize::from(b))
            };
            let mut row = vec![0u8; row_len];
            for c in 0..usize::from(wanted) {
                let mut plane = Vec::with_capacity(w * rows);
                for y in 0..rows {
                    unpack_bits(r.take(count(c * rows + y))?, &mut row)?;
                    plane.extend_from_slice(&narrow(&row, sample));
                }
                planes.push(plane);
            }
        }
        c => {
            return Err(DecodeError::UnsupportedFormat(format!(
                " (PSD composite compression {c}: only raw and PackBits)"
            )))
        }
    }
    Ok(planes)
}

fn narrow(samples: &[u8], size: usize) -> Vec<u8> {
    if size == 1 {
        samples.to_vec()
    } else {
        samples.chunks_exact(size).map(|s| s[0]).collect()
    }
}

/// PackBits into exactly `out.len()` bytes: a row that decodes short or long is corrupt.
fn unpack_bits(mut src: &[u8], out: &mut [u8]) -> Result<(), DecodeError> {
    let mut at = 0;
    while let Some((&n, rest)) = src.split_first() {
        src = rest;
        let n = n as i8;
        let (len, literal) = match n {
            0..=127 => (n as usize + 1, true),
            -127..=-1 => ((1 - n as isize) as usize, false),
            _ => continue, // -128: a no-op by definition
        };
        let dst = out
            .get_mut(at..at + len)
            .ok_or_else(|| corrupt("a PackBits row is longer than the image"))?;
        if literal {
            let (lit, rest) = src
                .split_at_checked(len)
                .ok_or_else(|| corrupt("a PackBits row ends early"))?;
            dst.copy_from_slice(lit);
            src = rest;
        } else {
            let (&b, rest) = src
                .split_first()
                .ok_or_else(|| corrupt("a PackBits row ends early"))?;
            dst.fill(b);
            src = rest;
        }
        at += len;
    }
    if at != out.len() {
        return Err(corrupt("a PackBits row is shorter than the image"));
    }
    Ok(())
}

fn to_rgba(h: &Header, planes: &[Vec<u8>], colour: u16, alpha: Option<u16>) -> RgbaImage {
    let n = h.width as usize * h.height as usize;
    let mut out = vec![255u8; n * 4];
    for (i, px) in out.chunks_exact_mut(4).enumerate() {
        match colour {
            1 => px[..3].fill(planes[0][i]),
            3 => (0..3).for_each(|c| px[c] = planes[c][i]),
            _ => {
                // PSD stores CMYK inverted (255 = no ink); a naive conversion, no ICC profile.
                let k = u16::from(planes[3][i]);
                (0..3).for_each(|c| px[c] = (u16::from(planes[c][i]) * k / 255) as u8);
            }
        }
        if let Some(a) = alpha {
            px[3] = planes[usize::from(a)][i];
        }
    }
    RgbaImage::from_raw(h.width, h.height, out).expect("4 bytes a pixel")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packbits_rows_must_fit_exactly() {
        let mut row = [0u8; 5];
        unpack_bits(&[0xFE, 7, 1, 1, 2], &mut row).unwrap();
        assert_eq!(row, [7, 7, 7, 1, 2]);
        assert!(unpack_bits(&[0xFC, 7, 0, 1], &mut row).is_err(), "too long");
        assert!(unpack_bits(&[0xFE, 7], &mut row).is_err(), "too short");
        assert!(
            unpack_bits(&[0x04, 1, 2], &mut row).is_err(),
            "literal cut off"
        );
    }
}
