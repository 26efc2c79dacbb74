//! Each model family's preprocessing and output decoding, as its reference pipeline does it
//! (rembg for U²-Net, MODNet's ONNX demo, IMG.LY for ISNet). Matching them exactly is what makes
//! the scores match the reference rows (checked by `make eval` and the golden-mask tests).

use cutout_core::resize::{rgb_resized, Filter};
use cutout_core::{Mask, RgbaImage};
use cutout_models::ModelRejected;
use ndarray::Array4;

use crate::engine::Signature;

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
    /// BiRefNet (its own inference code): 1024², bilinear, x/255 then ImageNet mean/std;
    /// logits out, through a sigmoid.
    Birefnet,
}

impl Family {
    pub fn from_kind(kind: &str) -> Option<Self> {
        Some(match kind {
            "u2net" => Self::U2net,
            "modnet" => Self::Modnet,
            "isnet" => Self::Isnet,
            "rvm" => Self::Rvm,
            "birefnet" => Self::Birefnet,
            _ => return None,
        })
    }

    /// The families a user may import a model as.
    pub const IMPORTABLE: &'static str = "u2net, isnet, birefnet, modnet";

    /// Whether a graph with `sig`'s inputs and outputs can be fed and read as this family: one
    /// image input of 3 channels (N×3×H×W) at the family's size where the graph fixes it, and a
    /// first output of one channel.
    pub fn accepts(self, sig: &Signature) -> Result<(), ModelRejected> {
        let input = sig
            .inputs
            .first()
            .ok_or_else(|| rejected("the graph has no input"))?;
        let fits = |d: i64, want: i64| d == want || d < 0;
        if input.len() != 4 || !fits(input[1], 3) {
            return Err(ModelRejected(format!(
                "its input is {input:?}; an image input is N x 3 x H x W"
            )));
        }
        let want = match self {
            Self::U2net => Some(320),
            Self::Isnet | Self::Birefnet => Some(1024),
            Self::Modnet | Self::Rvm => None,
        };
        if let Some(side) = want {
            if !fits(input[2], side) || !fits(input[3], side) {
                return Err(ModelRejected(format!(
                    "its input is {input:?}; the {self:?} family feeds {side}x{side}"
                )));
            }
        }
        if self != Self::Rvm && sig.inputs.len() != 1 {
            return Err(ModelRejected(format!(
                "it has {} inputs; this family feeds one",
                sig.inputs.len()
            )));
        }
        let output = sig
            .outputs
            .first()
            .ok_or_else(|| rejected("the graph has no output"))?;
        if output.len() != 4 || !fits(output[1], 1) {
            return Err(ModelRejected(format!(
                "its first output is {output:?}; a mask is N x 1 x H x W"
            )));
        }
        Ok(())
    }

    /// The model input size for an image of `w`×`h`.
    pub fn input_size(self, w: u32, h: u32) -> (u32, u32) {
        match self {
            Self::U2net => (320, 320),
            Self::Isnet | Self::Birefnet => (1024, 1024),
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
            Self::Birefnet => {
                const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
                const STD: [f32; 3] = [0.229, 0.224, 0.225];
                fill(&mut t, &rgb, |v, c| {
                    (f32::from(v) / 255.0 - MEAN[c]) / STD[c]
                });
            }
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
            Self::Birefnet => {
                let alpha: Vec<f32> = out.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect();
                Mask::from_unit_f32(w, h, &alpha)
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

fn rejected(why: &str) -> ModelRejected {
    ModelRejected(why.to_owned())
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
    fn birefnet_feeds_imagenet_normalised_1024_and_reads_logits() {
        let img = RgbaImage::from_pixel(300, 200, image::Rgba([255, 0, 51, 255]));
        let t = Family::Birefnet.tensor(&img);
        assert_eq!(t.shape(), &[1, 3, 1024, 1024]);
        assert!((t[[0, 0, 5, 5]] - (1.0 - 0.485) / 0.229).abs() < 1e-4);
        assert!((t[[0, 1, 5, 5]] - (0.0 - 0.456) / 0.224).abs() < 1e-4);
        assert!((t[[0, 2, 5, 5]] - (0.2 - 0.406) / 0.225).abs() < 1e-4);
        let m = Family::Birefnet.mask(3, 1, &[0.0, 20.0, -20.0]).unwrap();
        assert_eq!(m.data(), &[127, 255, 0]);
    }

    #[test]
    fn families_accept_only_graphs_they_can_feed() {
        let sig = |i: Vec<i64>, o: Vec<i64>| Signature {
            inputs: vec![i],
            outputs: vec![o],
        };
        let u2 = sig(vec![1, 3, 320, 320], vec![1, 1, 320, 320]);
        assert!(Family::U2net.accepts(&u2).is_ok());
        assert!(Family::Birefnet
            .accepts(&u2)
            .unwrap_err()
            .0
            .contains("1024"));
        let dynamic = sig(vec![-1, 3, -1, -1], vec![-1, 1, -1, -1]);
        for f in [
            Family::U2net,
            Family::Isnet,
            Family::Birefnet,
            Family::Modnet,
        ] {
            assert!(f.accepts(&dynamic).is_ok(), "{f:?}");
        }
        assert!(Family::Modnet
            .accepts(&sig(vec![1, 1, 512, 512], vec![1, 1, 512, 512]))
            .is_err());
        assert!(Family::Isnet
            .accepts(&sig(vec![1, 3, 1024, 1024], vec![1, 3, 1024, 1024]))
            .is_err());
        let two = Signature {
            inputs: vec![vec![1, 3, 320, 320], vec![1]],
            outputs: vec![vec![1, 1, 320, 320]],
        };
        assert!(Family::U2net.accepts(&two).is_err());
    }

    #[test]
    fn u2net_output_is_min_max_normalised() {
        let m = Family::U2net.mask(2, 1, &[0.2, 0.6]).unwrap();
        assert_eq!(m.data(), &[0, 255]);
        let m = Family::Modnet.mask(2, 1, &[0.2, 0.6]).unwrap();
        assert_eq!(m.data(), &[51, 153]);
    }
}
