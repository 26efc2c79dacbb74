//! A single-channel soft mask (0 = background, 255 = subject).

use crate::resize::Pixels;
use image::GrayImage;

use crate::resize::{resize, Filter};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl Mask {
    /// Wraps a row-major buffer; `None` if its length does not match the dimensions.
    pub fn new(width: u32, height: u32, data: Vec<u8>) -> Option<Self> {
        (width > 0 && height > 0 && data.len() == width as usize * height as usize).then_some(
            Self {
                width,
                height,
                data,
            },
        )
    }

    /// Quantises values in [0, 1] to 0..=255, as rembg does before resizing its mask.
    pub fn from_unit_f32(width: u32, height: u32, values: &[f32]) -> Option<Self> {
        let data = values
            .iter()
            .map(|v| (v.clamp(0.0, 1.0) * 255.0) as u8)
            .collect();
        Self::new(width, height, data)
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// Lanczos-resized copy; the reference pipelines upsample their masks this way.
    pub fn resized(&self, width: u32, height: u32) -> Mask {
        let data = resize(
            &self.data,
            (self.width, self.height),
            (width, height),
            Pixels::Gray,
            Filter::Lanczos3,
        );
        Mask {
            width,
            height,
            data,
        }
    }

    pub fn to_gray_image(&self) -> GrayImage {
        GrayImage::from_raw(self.width, self.height, self.data.clone())
            .expect("length checked in new")
    }

    /// The smallest box holding every pixel above `threshold`: (x, y, width, height).
    pub fn bounding_box(&self, threshold: u8) -> Option<(u32, u32, u32, u32)> {
        let w = self.width as usize;
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for (y, row) in self.data.chunks_exact(w).enumerate() {
            let first = row.iter().position(|&v| v > threshold);
            let Some(first) = first else { continue };
            let last = row.iter().rposition(|&v| v > threshold).unwrap_or(first);
            (x0, x1) = (x0.min(first), x1.max(last));
            (y0, y1) = (y0.min(y), y);
        }
        (x0 != usize::MAX).then(|| {
            (
                x0 as u32,
                y0 as u32,
                (x1 - x0 + 1) as u32,
                (y1 - y0 + 1) as u32,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_rejects_wrong_length() {
        assert!(Mask::new(2, 2, vec![0; 3]).is_none());
        assert!(Mask::new(0, 2, vec![]).is_none());
    }

    #[test]
    fn quantises_and_clamps() {
        let m = Mask::from_unit_f32(3, 1, &[-1.0, 0.5, 2.0]).unwrap();
        assert_eq!(m.data(), &[0, 127, 255]);
    }

    #[test]
    fn bounding_box_finds_subject() {
        let mut data = vec![0u8; 10 * 8];
        for y in 2..5 {
            for x in 3..7 {
                data[y * 10 + x] = 200;
            }
        }
        let m = Mask::new(10, 8, data).unwrap();
        assert_eq!(m.bounding_box(10), Some((3, 2, 4, 3)));
        assert_eq!(Mask::new(2, 2, vec![0; 4]).unwrap().bounding_box(10), None);
    }

    #[test]
    fn resize_keeps_flat_regions_flat() {
        let m = Mask::new(4, 4, vec![255; 16]).unwrap().resized(37, 23);
        assert_eq!((m.width(), m.height()), (37, 23));
        assert!(m.data().iter().all(|&v| v == 255));
    }
}
