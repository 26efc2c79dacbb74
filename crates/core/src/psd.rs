//! A minimal layered PSD writer (Adobe Photoshop File Format, version 1, RGB, 8-bit, PackBits).
//!
//! Two layers: the original photo (hidden) and the cut-out on top, so a retoucher can fix the
//! mask against the source. The merged image is the cut-out, with its transparency.

use image::RgbaImage;

use crate::EncodeError;

/// Photoshop's own limit for PSD (larger needs PSB).
const MAX_SIDE: u32 = 30_000;

pub(crate) fn write_psd(cutout: &RgbaImage, original: &RgbaImage) -> Result<Vec<u8>, EncodeError> {
    let (w, h) = cutout.dimensions();
    if w > MAX_SIDE || h > MAX_SIDE || original.dimensions() != (w, h) {
        return Err(EncodeError::TooLarge {
            format: "psd",
            width: w,
            height: h,
        });
    }
    let mut out = Vec::with_capacity(w as usize * h as usize * 2);
    out.extend_from_slice(b"8BPS");
    put16(&mut out, 1); // version
    out.extend_from_slice(&[0; 6]);
    put16(&mut out, 4); // channels of the merged image: R, G, B, A
    put32(&mut out, h);
    put32(&mut out, w);
    put16(&mut out, 8); // depth
    put16(&mut out, 3); // colour mode: RGB
    put32(&mut out, 0); // colour mode data
    put32(&mut out, 0); // image resources

    let layers = [
        Layer {
            name: "Original",
            image: original,
            hidden: true,
        },
        Layer {
            name: "Cutout",
            image: cutout,
            hidden: false,
        },
    ];
    let layer_info = layer_info(&layers);
    put32(&mut out, layer_info.len() as u32 + 8);
    put32(&mut out, layer_info.len() as u32);
    out.extend_from_slice(&layer_info);
    put32(&mut out, 0); // global layer mask info

    // Merged image: all row byte counts of every channel first, then the rows.
    put16(&mut out, 1);
    let channels: Vec<Vec<Vec<u8>>> = (0..4).map(|c| packbits_rows(cutout, c)).collect();
    for rows in &channels {
        rows.iter().for_each(|r| put16(&mut out, r.len() as u16));
    }
    for rows in &channels {
        rows.iter().for_each(|r| out.extend_from_slice(r));
    }
    Ok(out)
}

struct Layer<'a> {
    name: &'a str,
    image: &'a RgbaImage,
    hidden: bool,
}

fn layer_info(layers: &[Layer]) -> Vec<u8> {
    let mut info = Vec::new();
    // A negative count says the merged image's first alpha channel is its transparency, which
    // readers (psd-tools, Photoshop) need to show the merged cut-out as transparent.
    info.extend_from_slice(&(-(layers.len() as i16)).to_be_bytes());
    // Channel data per layer, in record order: alpha (-1), then R, G, B (0, 1, 2).
    let data: Vec<Vec<(i16, Vec<u8>)>> = layers
        .iter()
        .map(|l| {
            [(-1i16, 3usize), (0, 0), (1, 1), (2, 2)]
                .map(|(id, c)| (id, channel_block(l.image, c)))
                .to_vec()
        })
        .collect();
    for (layer, channels) in layers.iter().zip(&data) {
        let (w, h) = layer.image.dimensions();
        for v in [0, 0, h, w] {
            put32(&mut info, v); // top, left, bottom, right
        }
        put16(&mut info, channels.len() as u16);
        for (id, block) in channels {
            info.extend_from_slice(&id.to_be_bytes());
            put32(&mut info, block.len() as u32);
        }
        info.extend_from_slice(b"8BIMnorm");
        info.extend_from_slice(&[255, 0, if layer.hidden { 0x02 } else { 0 }, 0]); // opacity, clipping, flags, filler
        let name = pascal_name(layer.name);
        put32(&mut info, 8 + name.len() as u32);
        put32(&mut info, 0); // layer mask data
        put32(&mut info, 0); // blending ranges
        info.extend_from_slice(&name);
    }
    for (_, block) in data.iter().flatten() {
        info.extend_from_slice(block);
    }
    if info.len() % 2 == 1 {
        info.push(0);
    }
    info
}

/// One layer channel: compression (1 = PackBits), the row byte counts, then the rows.
fn channel_block(img: &RgbaImage, c: usize) -> Vec<u8> {
    let rows = packbits_rows(img, c);
    let mut block =
        Vec::with_capacity(2 + rows.len() * 2 + rows.iter().map(Vec::len).sum::<usize>());
    put16(&mut block, 1);
    rows.iter().for_each(|r| put16(&mut block, r.len() as u16));
    rows.iter().for_each(|r| block.extend_from_slice(r));
    block
}

fn packbits_rows(img: &RgbaImage, c: usize) -> Vec<Vec<u8>> {
    let w = img.width() as usize;
    img.as_raw()
        .chunks_exact(w * 4)
        .map(|row| packbits(&row.iter().skip(c).step_by(4).copied().collect::<Vec<u8>>()))
        .collect()
}

/// PackBits: runs of 2..=128 equal bytes as (1 - n, byte); other bytes as literals (n - 1, bytes).
pub(crate) fn packbits(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() / 2 + 2);
    let mut i = 0;
    while i < src.len() {
        let run = src[i..]
            .iter()
            .take(128)
            .take_while(|&&b| b == src[i])
            .count();
        if run >= 2 {
            out.extend_from_slice(&[(1 - run as i16) as u8, src[i]]);
            i += run;
            continue;
        }
        let start = i;
        while i < src.len() && i - start < 128 && !(i + 1 < src.len() && src[i] == src[i + 1]) {
            i += 1;
        }
        out.push((i - start - 1) as u8);
        out.extend_from_slice(&src[start..i]);
    }
    out
}

/// Pascal string padded (length byte included) to a multiple of 4 bytes.
fn pascal_name(name: &str) -> Vec<u8> {
    let mut v = vec![name.len() as u8];
    v.extend_from_slice(name.as_bytes());
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unpackbits(mut src: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some((&h, rest)) = src.split_first() {
            let n = h as i8;
            if n >= 0 {
                out.extend_from_slice(&rest[..n as usize + 1]);
                src = &rest[n as usize + 1..];
            } else {
                out.extend(std::iter::repeat_n(rest[0], (1 - n as i16) as usize));
                src = &rest[1..];
            }
        }
        out
    }

    #[test]
    fn packbits_round_trips() {
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![7],
            vec![1, 2, 3, 3, 3, 3, 4, 5, 5],
            vec![9; 300],
            (0..=255).cycle().take(700).collect(),
        ];
        for c in cases {
            assert_eq!(unpackbits(&packbits(&c)), c);
        }
        assert_eq!(packbits(&[9; 300]).len(), 6, "three repeat runs");
    }

    #[test]
    fn header_is_psd_v1_rgb() {
        let img = RgbaImage::new(3, 2);
        let psd = write_psd(&img, &img).unwrap();
        assert_eq!(&psd[..6], b"8BPS\0\x01");
        assert_eq!(u32::from_be_bytes(psd[14..18].try_into().unwrap()), 2);
        assert_eq!(u32::from_be_bytes(psd[18..22].try_into().unwrap()), 3);
    }
}
