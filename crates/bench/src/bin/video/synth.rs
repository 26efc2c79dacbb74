//! A fast-motion clip whose ground truth is exact by construction: cut-outs of two eval photos
//! (by their ground-truth masks) painted over a real background photo. A person crosses the
//! frame at 8-30 px a frame and turns back; a vase spins 14° a frame behind them. Sprites are
//! sampled nearest-neighbour with binary alpha, so a pixel belongs to a sprite or not and the
//! union of the sprites' alpha is the frame's exact mask.

use std::path::Path;

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma, Rgb, RgbImage, Rgba, RgbaImage};

pub const WIDTH: u32 = 854;
pub const HEIGHT: u32 = 480;
pub const FRAMES: u32 = 48;
pub const NAME: &str = "fastmotion";

/// Where a sprite's centre is and how far it is turned, in one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    pub cx: f32,
    pub cy: f32,
    /// Radians, counter-clockwise.
    pub angle: f32,
}

/// A cut-out: colour where the subject is, alpha 255 there and 0 elsewhere.
pub struct Sprite(pub RgbaImage);

impl Sprite {
    /// The photo `id` of the eval set cut out by its mask, cropped to the subject and scaled to
    /// `height` (nearest for the alpha, so it stays binary).
    pub fn from_eval(set: &Path, id: &str, height: u32) -> Sprite {
        let rgb = image::open(set.join(format!("images/{id}.jpg")))
            .unwrap()
            .to_rgb8();
        let mask = image::open(set.join(format!("masks/{id}.png")))
            .unwrap()
            .to_luma8();
        let (x0, y0, x1, y1) = bbox(&mask);
        let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
        let width = (w as f32 * height as f32 / h as f32).round() as u32;
        let rgb = imageops::crop_imm(&rgb, x0, y0, w, h).to_image();
        let rgb = imageops::resize(&rgb, width, height, FilterType::Triangle);
        let mask = imageops::crop_imm(&mask, x0, y0, w, h).to_image();
        let mask = imageops::resize(&mask, width, height, FilterType::Nearest);
        Sprite(RgbaImage::from_fn(width, height, |x, y| {
            let c = rgb.get_pixel(x, y).0;
            let a = if mask.get_pixel(x, y)[0] >= 128 {
                255
            } else {
                0
            };
            Rgba([c[0], c[1], c[2], a])
        }))
    }

    /// The sprite's pixel that lands on frame pixel (x, y) at `pose`, if it is the subject.
    /// Inverse mapping with nearest sampling: every frame pixel takes one sprite pixel or none.
    fn at(&self, pose: Pose, x: u32, y: u32) -> Option<[u8; 3]> {
        let (w, h) = self.0.dimensions();
        let (dx, dy) = (x as f32 + 0.5 - pose.cx, y as f32 + 0.5 - pose.cy);
        let (s, c) = pose.angle.sin_cos();
        // Rotating the frame offset back by the sprite's angle (y grows downwards).
        let sx = (c * dx - s * dy + w as f32 / 2.0).floor();
        let sy = (s * dx + c * dy + h as f32 / 2.0).floor();
        if sx < 0.0 || sy < 0.0 || sx >= w as f32 || sy >= h as f32 {
            return None;
        }
        let p = self.0.get_pixel(sx as u32, sy as u32).0;
        (p[3] == 255).then_some([p[0], p[1], p[2]])
    }
}

fn bbox(mask: &GrayImage) -> (u32, u32, u32, u32) {
    let mut b = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in mask.enumerate_pixels() {
        if p[0] >= 128 {
            b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
        }
    }
    assert!(b.0 <= b.2, "empty mask");
    b
}

/// Paints `layers` (back to front) over `background`: the frame and its exact mask.
pub fn render(background: &RgbImage, layers: &[(&Sprite, Pose)]) -> (RgbImage, GrayImage) {
    let mut frame = background.clone();
    let mut mask = GrayImage::new(background.width(), background.height());
    for (sprite, pose) in layers {
        for (x, y, p) in frame.enumerate_pixels_mut() {
            if let Some(c) = sprite.at(*pose, x, y) {
                *p = Rgb(c);
                mask.put_pixel(x, y, Luma([255]));
            }
        }
    }
    (frame, mask)
}

/// The person's pose in frame `k`: speed ramps 8 → 30 → 8 px a frame to the right over the
/// first half, then the same to the left; a small bob up and down.
pub fn person_pose(k: u32) -> Pose {
    let half = FRAMES / 2;
    let speed = |i: u32| {
        let t = (i % half) as f32 / (half - 1) as f32;
        8.0 + 22.0 * (1.0 - (2.0 * t - 1.0).abs())
    };
    let x: f32 = (1..=k)
        .map(|i| if i <= half { speed(i) } else { -speed(i) })
        .map(f32::round)
        .sum();
    Pose {
        cx: 140.0 + x,
        cy: 280.0 + (8.0 * (0.6 * k as f32).sin()).round(),
        angle: 0.0,
    }
}

/// The vase's pose in frame `k`: 14° a frame around its centre, drifting slowly.
pub fn vase_pose(k: u32) -> Pose {
    Pose {
        cx: 700.0 - 2.0 * k as f32,
        cy: 300.0,
        angle: (14.0 * k as f32).to_radians(),
    }
}

/// The background: the right part of a bar photo (a board, bricks and taps, no person), at
/// 854x480.
pub fn background(photo: &Path) -> RgbImage {
    let img = image::open(photo).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let cw = w * 11 / 30;
    let ch = (cw * HEIGHT / WIDTH).min(h);
    let crop = imageops::crop_imm(&img, w - cw, 0, cw, ch).to_image();
    imageops::resize(&crop, WIDTH, HEIGHT, FilterType::Lanczos3)
}

/// Writes the clip as an eval set: `<out>/video/fastmotion/{frames,masks}/NNNNN.png` and an
/// empty `manifest.csv`, so `score.py --set <out>` scores it like blackswan.
pub fn build(eval: &Path, photo: &Path, out: &Path) {
    let person = Sprite::from_eval(eval, "ccp_0141", 400);
    let vase = Sprite::from_eval(eval, "coco_vase00_000000262631", 180);
    let bg = background(photo);
    let dir = out.join("video").join(NAME);
    for sub in ["frames", "masks"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::write(out.join("manifest.csv"), "id,category\n").unwrap();
    for k in 0..FRAMES {
        let (frame, mask) = render(&bg, &[(&vase, vase_pose(k)), (&person, person_pose(k))]);
        frame.save(dir.join(format!("frames/{k:05}.png"))).unwrap();
        mask.save(dir.join(format!("masks/{k:05}.png"))).unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sprite with an asymmetric shape: an L of subject pixels, each with its own colour.
    fn ell() -> Sprite {
        Sprite(RgbaImage::from_fn(6, 4, |x, y| {
            let inside = x == 0 || y == 3;
            Rgba([x as u8 * 40, y as u8 * 60, 7, if inside { 255 } else { 0 }])
        }))
    }

    /// The composite made the plain way: the sprite (turned by whole quarter turns, which need
    /// no resampling) pasted with alpha over the background.
    fn pasted(bg: &RgbImage, sprite: &RgbaImage, left: i64, top: i64) -> RgbaImage {
        let mut canvas = RgbaImage::from_fn(bg.width(), bg.height(), |x, y| {
            let c = bg.get_pixel(x, y).0;
            Rgba([c[0], c[1], c[2], 0])
        });
        imageops::overlay(&mut canvas, sprite, left, top);
        canvas
    }

    fn check(frame: &RgbImage, mask: &GrayImage, expected: &RgbaImage) {
        for (x, y, e) in expected.enumerate_pixels() {
            assert_eq!(mask.get_pixel(x, y)[0], e[3], "mask at {x},{y}");
            assert_eq!(
                frame.get_pixel(x, y).0,
                [e[0], e[1], e[2]],
                "colour at {x},{y}"
            );
        }
    }

    #[test]
    fn the_mask_is_the_composites_alpha() {
        let bg = RgbImage::from_pixel(20, 16, Rgb([200, 210, 220]));
        let s = ell();
        let pose = Pose {
            cx: 9.0,
            cy: 7.0,
            angle: 0.0,
        };
        let (frame, mask) = render(&bg, &[(&s, pose)]);
        check(&frame, &mask, &pasted(&bg, &s.0, 6, 5));
        assert_eq!(mask.pixels().filter(|p| p[0] == 255).count(), 9);
    }

    #[test]
    fn a_turned_sprite_is_exact_too() {
        let bg = RgbImage::from_fn(20, 16, |x, y| Rgb([x as u8, y as u8, 99]));
        let s = ell();
        // A quarter turn counter-clockwise on screen is rotate270 of the sprite's pixels.
        let pose = Pose {
            cx: 10.0,
            cy: 8.0,
            angle: std::f32::consts::FRAC_PI_2,
        };
        let (frame, mask) = render(&bg, &[(&s, pose)]);
        let turned = imageops::rotate270(&s.0);
        check(&frame, &mask, &pasted(&bg, &turned, 8, 5));
    }

    #[test]
    fn the_person_moves_8_to_30_px_a_frame_and_turns_back() {
        let steps: Vec<f32> = (1..FRAMES)
            .map(|k| person_pose(k).cx - person_pose(k - 1).cx)
            .collect();
        assert!(
            steps.iter().all(|s| (8.0..=30.0).contains(&s.abs())),
            "{steps:?}"
        );
        assert!(steps[..23].iter().all(|&s| s > 0.0) && steps[24..].iter().all(|&s| s < 0.0));
        let xs = (0..FRAMES).map(|k| person_pose(k).cx);
        assert!(xs.clone().fold(f32::MAX, f32::min) >= 100.0);
        assert!(xs.fold(0.0, f32::max) <= WIDTH as f32 - 100.0);
    }
}
