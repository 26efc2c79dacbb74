//! Decompression and dimension bombs, one per input format: a small valid image whose header
//! is rewritten to claim a huge size (what a deflate or LZW bomb looks like to the decoder before
//! it expands anything), and an animation with thousands of frames. Each must be refused, or
//! decoded, without a large allocation: this test binary counts the largest single allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use cutout_core::{decode, CutoutError, DecodeLimits, ErrorKind};
use image::{DynamicImage, ImageFormat, RgbImage};

/// The system allocator, remembering the largest allocation asked for.
struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);
/// The tests run on several threads; the largest-allocation figure is per test.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// No single allocation while decoding a bomb may exceed this (the bombs claim gigapixels).
const SMALL: usize = 8 << 20;

fn small(format: ImageFormat) -> Vec<u8> {
    let img = RgbImage::from_fn(16, 16, |x, y| image::Rgb([x as u8 * 16, y as u8 * 16, 90]));
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

/// Decodes `bytes` and returns the error's kind and the largest allocation made meanwhile.
fn attempt(bytes: &[u8]) -> (Result<(u32, u32), ErrorKind>, usize) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    LARGEST.store(0, Ordering::Relaxed);
    let out = decode(bytes, &DecodeLimits::default())
        .map(|d| d.image.dimensions())
        .map_err(|e| CutoutError::Decode(e).kind());
    (out, LARGEST.load(Ordering::Relaxed))
}

fn assert_refused(name: &str, bytes: &[u8]) {
    let (out, largest) = attempt(bytes);
    assert_eq!(out, Err(ErrorKind::Limit), "{name}: {} bytes", bytes.len());
    assert!(largest < SMALL, "{name}: allocated {largest} bytes at once");
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn png_claiming_a_gigapixel_is_refused_from_its_header() {
    let mut png = small(ImageFormat::Png);
    // IHDR's data follows the signature (8), length (4) and type (4).
    png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    assert_refused("png", &png);
}

#[test]
fn jpeg_claiming_65000_square_is_refused_from_its_header() {
    let mut jpeg = small(ImageFormat::Jpeg);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    // FF C0, length (2), precision (1), height (2), width (2).
    jpeg[sof + 5..sof + 7].copy_from_slice(&65_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&65_000u16.to_be_bytes());
    assert_refused("jpeg", &jpeg);
}

#[test]
fn webp_claiming_16000_square_is_refused_from_its_header() {
    let mut webp = small(ImageFormat::WebP);
    assert_eq!(
        &webp[12..16],
        b"VP8L",
        "the image crate writes lossless WebP"
    );
    // After the 0x2F signature: width - 1 and height - 1 in 14 bits each, little-endian.
    let mut bits = u32::from_le_bytes(webp[21..25].try_into().unwrap());
    bits = (bits & !0x0FFF_FFFF) | 15_999 | (15_999 << 14);
    webp[21..25].copy_from_slice(&bits.to_le_bytes());
    assert_refused("webp", &webp);
}

#[test]
fn tiff_claiming_100000_square_is_refused_from_its_header() {
    let mut tiff = small(ImageFormat::Tiff);
    assert_eq!(&tiff[..4], b"II*\0");
    let ifd = u32::from_le_bytes(tiff[4..8].try_into().unwrap()) as usize;
    let count = u16::from_le_bytes([tiff[ifd], tiff[ifd + 1]]) as usize;
    let mut patched = 0;
    for e in (0..count).map(|i| ifd + 2 + 12 * i) {
        let tag = u16::from_le_bytes([tiff[e], tiff[e + 1]]);
        // Width, length, and rows per strip (so the single strip stays consistent).
        if tag == 256 || tag == 257 || tag == 278 {
            // Type LONG, one value: 100000.
            tiff[e + 2..e + 4].copy_from_slice(&4u16.to_le_bytes());
            tiff[e + 4..e + 8].copy_from_slice(&1u32.to_le_bytes());
            tiff[e + 8..e + 12].copy_from_slice(&100_000u32.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 3);
    assert_refused("tiff", &tiff);
}

#[test]
fn gif_claiming_65535_square_is_refused_from_its_header() {
    let mut gif = small(ImageFormat::Gif);
    // The logical screen, then the first image descriptor (after any extensions).
    gif[6..10].copy_from_slice(&[0xFF; 4]);
    let desc = gif.iter().position(|&b| b == 0x2C).unwrap();
    gif[desc + 5..desc + 9].copy_from_slice(&[0xFF; 4]);
    assert_refused("gif", &gif);
}

#[test]
fn bmp_claiming_60000_square_is_refused_from_its_header() {
    let mut bmp = small(ImageFormat::Bmp);
    // Under the BMP decoder's own limit of 65535, over ours.
    bmp[18..22].copy_from_slice(&60_000i32.to_le_bytes());
    bmp[22..26].copy_from_slice(&60_000i32.to_le_bytes());
    assert_refused("bmp", &bmp);
}

#[test]
fn a_gif_of_ten_thousand_frames_decodes_its_first_frame_only() {
    let frames = (0..10_000).map(|i| {
        let px = image::RgbaImage::from_pixel(64, 64, image::Rgba([i as u8, 0, 0, 255]));
        image::Frame::new(px)
    });
    let mut gif = Vec::new();
    image::codecs::gif::GifEncoder::new(&mut gif)
        .encode_frames(frames)
        .unwrap();
    let (out, largest) = attempt(&gif);
    assert_eq!(out, Ok((64, 64)));
    assert!(largest < SMALL, "allocated {largest} bytes at once");
}
