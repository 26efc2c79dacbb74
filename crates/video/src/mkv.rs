//! A minimal Matroska stream of raw RGBA frames, each with its own timestamp, for ffmpeg's stdin.
//! Raw video on a pipe has no timestamps (ffmpeg would space frames evenly), so a variable frame
//! rate source would drift out of sync with its audio; Matroska's `V_UNCOMPRESSED` with colour
//! space `RGBA` is what ffmpeg itself writes for raw RGBA and reads back unchanged.

use std::io::{self, Write};

/// Timestamps are in units of 10 µs: exact enough for any real frame rate (30000/1001 included)
/// within the output containers' own precision.
const TIMESCALE_NS: u64 = 10_000;

/// Writes the header on creation, then one cluster per frame.
pub struct MkvWriter<W: Write> {
    out: W,
}

/// An element with its payload: the ID as written (marker bits included), then an 8-byte size.
fn element(id: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(id.len() + 8 + payload.len());
    v.extend_from_slice(id);
    v.extend_from_slice(&size8(payload.len() as u64));
    v.extend_from_slice(payload);
    v
}

fn size8(n: u64) -> [u8; 8] {
    let mut b = n.to_be_bytes();
    b[0] = 0x01;
    b
}

fn uint(id: &[u8], n: u64) -> Vec<u8> {
    element(id, &n.to_be_bytes())
}

impl<W: Write> MkvWriter<W> {
    pub fn start(mut out: W, width: u32, height: u32) -> io::Result<Self> {
        let header = [
            uint(&[0x42, 0x86], 1),
            uint(&[0x42, 0xF7], 1),
            uint(&[0x42, 0xF2], 4),
            uint(&[0x42, 0xF3], 8),
            element(&[0x42, 0x82], b"matroska"),
            uint(&[0x42, 0x87], 4),
            uint(&[0x42, 0x85], 2),
        ]
        .concat();
        out.write_all(&element(&[0x1A, 0x45, 0xDF, 0xA3], &header))?;
        // The segment's size is unknown while streaming.
        out.write_all(&[
            0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ])?;
        let info = [
            uint(&[0x2A, 0xD7, 0xB1], TIMESCALE_NS),
            element(&[0x4D, 0x80], b"cutout"),
            element(&[0x57, 0x41], b"cutout"),
        ]
        .concat();
        out.write_all(&element(&[0x15, 0x49, 0xA9, 0x66], &info))?;
        let video = [
            uint(&[0xB0], width as u64),
            uint(&[0xBA], height as u64),
            element(&[0x2E, 0xB5, 0x24], b"RGBA"),
        ]
        .concat();
        let track = [
            uint(&[0xD7], 1),
            uint(&[0x73, 0xC5], 1),
            uint(&[0x83], 1),
            element(&[0x86], b"V_UNCOMPRESSED"),
            element(&[0xE0], &video),
        ]
        .concat();
        let tracks = element(&[0x16, 0x54, 0xAE, 0x6B], &element(&[0xAE], &track));
        out.write_all(&tracks)?;
        Ok(Self { out })
    }

    /// One frame at `secs` (non-negative, increasing) in its own cluster.
    pub fn frame(&mut self, secs: f64, rgba: &[u8]) -> io::Result<()> {
        let ticks = (secs.max(0.0) * 1e9 / TIMESCALE_NS as f64).round() as u64;
        let timecode = uint(&[0xE7], ticks);
        // Track 1, relative time 0, keyframe.
        let block_head = [0x81, 0x00, 0x00, 0x80];
        let block_len = (block_head.len() + rgba.len()) as u64;
        let cluster_len = timecode.len() as u64 + 1 + 8 + block_len;
        self.out.write_all(&[0x1F, 0x43, 0xB6, 0x75])?;
        self.out.write_all(&size8(cluster_len))?;
        self.out.write_all(&timecode)?;
        self.out.write_all(&[0xA3])?;
        self.out.write_all(&size8(block_len))?;
        self.out.write_all(&block_head)?;
        self.out.write_all(rgba)
    }
}
