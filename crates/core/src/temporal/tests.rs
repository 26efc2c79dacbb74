use super::*;

/// Frames are twice the mask's size, as a video frame is larger than the model's input.
const MW: u32 = 96;
const MH: u32 = 48;

fn flat(v: u8) -> RgbaImage {
    RgbaImage::from_pixel(2 * MW, 2 * MH, image::Rgba([v, v, v, 255]))
}

fn mask(v: u8) -> Mask {
    Mask::new(MW, MH, vec![v; (MW * MH) as usize]).unwrap()
}

/// Smooth texture, different per `seed`, so block matching has something to lock on to.
fn tex(x: f32, y: f32, seed: f32) -> u8 {
    let v = 0.5
        + 0.2 * (x * 0.29 + seed).sin() * (y * 0.21 - seed).cos()
        + 0.15 * ((x + 2.0 * y) * 0.13 + 2.0 * seed).sin();
    (v * 255.0) as u8
}

/// A textured subject where `inside(mask x)` holds, its texture moved right by `shift` mask
/// pixels, over a still textured background, darker than the subject (as a subject the model can
/// see stands out); and its exact mask.
fn scene(inside: impl Fn(u32) -> bool, shift: u32) -> (RgbaImage, Mask) {
    let frame = RgbaImage::from_fn(2 * MW, 2 * MH, |x, y| {
        let v = match inside(x / 2) {
            true => tex(x as f32 - 2.0 * shift as f32, y as f32, 1.0) / 2 + 120,
            false => tex(x as f32, y as f32, 4.0) / 2,
        };
        image::Rgba([v, v / 2 + 60, 255 - v, 255])
    });
    let data = (0..MW * MH)
        .map(|i| if inside(i % MW) { 255 } else { 0 })
        .collect();
    (frame, Mask::new(MW, MH, data).unwrap())
}

/// Runs a whole stream through a stabiliser and returns the masks in order.
fn run(opts: TemporalOptions, frames: Vec<(RgbaImage, Mask)>) -> Vec<Mask> {
    let mut s = Stabilizer::new(opts);
    let mut out: Vec<Mask> = frames
        .into_iter()
        .filter_map(|(f, m)| s.push(f, m))
        .map(|(_, m)| m)
        .collect();
    out.extend(s.finish().map(|(_, m)| m));
    out
}

fn no_median() -> TemporalOptions {
    TemporalOptions {
        median: false,
        ..Default::default()
    }
}

#[test]
fn a_still_scene_damps_mask_flicker() {
    let frames = [230u8, 150, 230, 150, 230].map(|v| (flat(100), mask(v)));
    let outs: Vec<u8> = run(no_median(), frames.into())
        .iter()
        .map(|m| m.data()[0])
        .collect();
    assert!(outs[0].abs_diff(230) <= 1, "the first frame passes through");
    // The model's jitter of 80 a frame becomes much smaller.
    let swing = outs.windows(2).map(|w| w[0].abs_diff(w[1])).max().unwrap();
    assert!(swing < 50, "{outs:?}");
}

#[test]
fn a_changed_picture_lets_the_new_mask_through() {
    let outs = run(
        no_median(),
        vec![(flat(20), mask(0)), (flat(220), mask(255))],
    );
    assert_eq!(outs[1].data()[0], 255);
}

#[test]
fn a_one_frame_flip_is_removed_and_a_lasting_change_followed() {
    // A still picture: the model flips for one frame, then changes its mind for good.
    let (frame, _) = scene(|_| false, 0);
    let values = [[0u8, 255, 0, 0].as_slice(), &[200; 30]].concat();
    let outs = run(
        TemporalOptions::default(),
        values.iter().map(|&v| (frame.clone(), mask(v))).collect(),
    );
    let got: Vec<u8> = outs
        .iter()
        .map(|m| m.data()[(MW * 20 + 40) as usize])
        .collect();
    assert!(got[..4].iter().all(|&v| v <= 1), "the flip shows: {got:?}");
    // Where the picture did not change, the new opinion is damped, not refused: it settles
    // within a second of video.
    assert!(got[4..].windows(2).all(|w| w[0] <= w[1]), "{got:?}");
    assert!(got[4] < 100 && got[33] >= 180, "{got:?}");
}

/// Where row `y` of `m` first drops below one half, scanning from the left.
fn edge(m: &Mask, y: u32) -> u32 {
    (0..MW)
        .find(|&x| m.data()[(y * MW + x) as usize] < 128)
        .unwrap_or(MW)
}

#[test]
fn a_moving_edge_does_not_lag() {
    // The subject fills x < 20 + 5k: its edge moves 5 px a frame at the mask's resolution.
    let at = |k: u32| 20 + 5 * k;
    let frames = (0..12).map(|k| scene(move |x| x < at(k), 5 * k)).collect();
    let outs = run(TemporalOptions::default(), frames);
    assert_eq!(outs.len(), 12);
    for (k, m) in outs.iter().enumerate().skip(1) {
        for y in [4, MH / 2, MH - 5] {
            let got = edge(m, y);
            assert!(
                got.abs_diff(at(k as u32)) <= 1,
                "frame {k} row {y}: edge at {got}, subject at {}",
                at(k as u32)
            );
        }
    }
}

#[test]
fn a_thin_part_that_crosses_a_pixel_in_one_frame_is_kept() {
    // A bar 4 px wide moving 6 px a frame: every pixel it covers is covered for one frame only,
    // which a median without motion compensation would erase.
    let bar = |k: u32| move |x: u32| (10 + 6 * k..14 + 6 * k).contains(&x);
    let frames: Vec<_> = (0..8).map(|k| scene(bar(k), 6 * k)).collect();
    let outs = run(TemporalOptions::default(), frames);
    for (k, m) in outs.iter().enumerate() {
        let covered = (0..MW)
            .filter(|&x| m.data()[((MH / 2) * MW + x) as usize] >= 128)
            .collect::<Vec<_>>();
        let want: Vec<u32> = (0..MW).filter(|&x| bar(k as u32)(x)).collect();
        assert_eq!(covered, want, "frame {k}");
    }
}

#[test]
fn steepening_keeps_the_edge_and_the_extremes() {
    let mut f = RgbaImage::from_fn(4, 1, |x, _| {
        image::Rgba([0, 0, 0, [0, 100, 128, 255][x as usize]])
    });
    steepen_alpha(&mut f, 3.0);
    let a: Vec<u8> = f.pixels().map(|p| p[3]).collect();
    assert_eq!(a, [0, 45, 129, 255]);
}

#[test]
fn disabled_is_the_identity_without_delay() {
    let mut s = Stabilizer::new(TemporalOptions {
        enabled: false,
        ..Default::default()
    });
    assert!(s.push(flat(1), mask(0)).is_some());
    let (_, m) = s.push(flat(1), mask(200)).unwrap();
    assert_eq!(m.data()[0], 200);
    assert!(s.finish().is_none());
}
