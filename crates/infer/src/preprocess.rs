//! Each model family's preprocessing and output decoding, as its reference pipeline does it
//! (rembg for U²-Net, MODNet's ONNX demo, IMG.LY for ISNet). Matching them exactly is what makes
//! the scores match the reference rows (checked by `make eval` and the golden-mask tests).

use cutout_core::resize::{rgb_resized, Filter};
use cutout_core::{Mask, RgbaImage};
use ndarray::Array4;

/// The preprocessing family, from the manifest's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// U²-Net and U²-Net-p: 320², Lanczos, divide by max, ImageNet mean/std; min-max output.
    U2net,
    /// MODNet: short side 512, sides multiples of 32, (x - 127.5) / 127.5; alpha output.
    Modnet,
    /// ISNet (IMG.LY): 1024², bilinear, (x - 128) / 256; alpha output.
    Isnet,
    /// Robust Video Matting: recurrent, video only.
    Rvm,
}

impl Family {
    pub fn from_kind(kind: &str) -> Option<Self> {
        Some(match kind {
            "u2net" => Self::U2net,
            "modnet" => Self::Modnet,
            "isnet" => Self::Isnet,
            "rvm" => Self::Rvm,
            _ => return None,
        })
    }

    /// The model input size for an image of `w`×`h`.
    pub fn input_size(self, w: u32, h: u32) -> (u32, u32) {
        match self {
            Self::U2net => (320, 320),
            Self::Isnet => (1024, 1024),
            Self::Modnet | Self::Rvm => modnet_size(w, h),
        }
    }

    /// Builds the NCHW input tensor.
    pub fn tensor(self, image: &RgbaImage) -> Array4<f32> {
        let (w, h) = self.input_size(image.width(), image.height());
        let filter = match self {
            Self::U2net => Filter::Lanczos3,
            _ => Filter::Bilinear,
        };
        let rgb = rgb_resized(image, (w, h), filter);
        let (w, h) = (w as usize, h as usize);
        let mut t = Array4::<f32>::zeros((1, 3, h, w));
        match self {
            Self::U2net => {
                const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
                const STD: [f32; 3] = [0.229, 0.224, 0.225];
                // rembg divides by the resized image's maximum over all channels.
                let max = f32::from(rgb.iter().copied().max().unwrap_or(0).max(1));
                fill(&mut t, &rgb, |v, c| (f32::from(v) / max - MEAN[c]) / STD[c]);
            }
            Self::Modnet => fill(&mut t, &rgb, |v, _| (f32::from(v) - 127.5) / 127.5),
            Self::Isnet => fill(&mut t, &rgb, |v, _| (f32::from(v) - 128.0) / 256.0),
            Self::Rvm => fill(&mut t, &rgb, |v, _| f32::from(v) / 255.0),
        }
        t
    }

    /// Turns the first output (1×1×H×W) into a mask.
    pub fn mask(self, w: u32, h: u32, out: &[f32]) -> Option<Mask> {
        match self {
            Self::U2net => {
                let (mi, ma) = out
                    .iter()
                    .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
                let range = (ma - mi).max(f32::EPSILON);
                let norm: Vec<f32> = out.iter().map(|v| (v - mi) / range).collect();
                Mask::from_unit_f32(w, h, &norm)
            }
            _ => Mask::from_unit_f32(w, h, out),
        }
    }
}

fn fill(t: &mut Array4<f32>, rgb: &[u8], f: impl Fn(u8, usize) -> f32) {
    let w = t.shape()[3];
    for (i, px) in rgb.chunks_exact(3).enumerate() {
        let (y, x) = (i / w, i % w);
        for c in 0..3 {
            t[[0, c, y, x]] = f(px[c], c);
        }
    }
}

/// MODNet's reference sizing: short side 512, then both sides floored to a multiple of 32.
fn modnet_size(w: u32, h: u32) -> (u32, u32) {
    const REF: f64 = 512.0;
    let (w, h) = (f64::from(w), f64::from(h));
    let (rw, rh) = if w >= h {
        (w / h * REF, REF)
    } else {
        (REF, h / w * REF)
    };
    let snap = |v: f64| ((v as u32) - (v as u32) % 32).max(32);
    (snap(rw), snap(rh))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modnet_sizes_are_multiples_of_32_with_short_side_512() {
        assert_eq!(modnet_size(1920, 1080), (896, 512));
        assert_eq!(modnet_size(600, 800), (512, 672));
        assert_eq!(modnet_size(512, 512), (512, 512));
    }

    #[test]
    fn u2net_tensor_follows_rembg_normalisation() {
        let img = RgbaImage::from_pixel(640, 480, image::Rgba([200, 100, 50, 255]));
        let t = Family::U2net.tensor(&img);
        assert_eq!(t.shape(), &[1, 3, 320, 320]);
        // max over the image is 200: R = (1.0 - 0.485) / 0.229
        assert!((t[[0, 0, 10, 10]] - (1.0 - 0.485) / 0.229).abs() < 1e-4);
        assert!((t[[0, 2, 10, 10]] - (0.25 - 0.406) / 0.225).abs() < 1e-4);
    }

    #[test]
    fn u2net_output_is_min_max_normalised() {
        let m = Family::U2net.mask(2, 1, &[0.2, 0.6]).unwrap();
        assert_eq!(m.data(), &[0, 255]);
        let m = Family::Modnet.mask(2, 1, &[0.2, 0.6]).unwrap();
        assert_eq!(m.data(), &[51, 153]);
    }
}
