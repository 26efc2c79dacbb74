use super::*;

/// A red disc on a green background with a hard edge, and a blurry low-resolution mask of it.
fn disc(w: u32, h: u32) -> (RgbaImage, Mask) {
    let (cx, cy, r) = (w as f32 / 2.0, h as f32 / 2.0, w.min(h) as f32 / 3.0);
    let inside = |x: f32, y: f32| ((x - cx).powi(2) + (y - cy).powi(2)).sqrt() < r;
    let img = RgbaImage::from_fn(w, h, |x, y| {
        if inside(x as f32 + 0.5, y as f32 + 0.5) {
            image::Rgba([220, 20, 20, 255])
        } else {
            image::Rgba([20, 200, 20, 255])
        }
    });
    // A 4x upscale, like a 320² model mask on a ~1 MP photo.
    let (mw, mh) = (w / 4, h / 4);
    let hard: Vec<u8> = (0..mw * mh)
        .map(|k| {
            let (x, y) = ((k % mw) as f32 + 0.5, (k / mw) as f32 + 0.5);
            if inside(x * w as f32 / mw as f32, y * h as f32 / mh as f32) {
                255
            } else {
                0
            }
        })
        .collect();
    (img, Mask::new(mw, mh, hard).unwrap())
}

fn truth_alpha(img: &RgbaImage) -> Vec<u8> {
    img.pixels()
        .map(|p| if p[0] > 100 { 255 } else { 0 })
        .collect()
}

fn mean_abs_err(img: &RgbaImage, truth: &[u8]) -> f64 {
    img.pixels()
        .zip(truth)
        .map(|(p, &t)| (f64::from(p[3]) - f64::from(t)).abs())
        .sum::<f64>()
        / truth.len() as f64
}

#[test]
fn guided_filter_beats_plain_resize_on_edges() {
    let (img, mask) = disc(256, 192);
    let truth = truth_alpha(&img);
    let mut plain = img.clone();
    refine(&mut plain, &mask, &RefineOptions::none());
    let mut guided = img.clone();
    // A window as wide as the upscale's blur, so the filter can pull the whole ramp to the edge.
    let opts = RefineOptions {
        decontaminate: false,
        radius: 6,
        ..RefineOptions::default()
    };
    refine(&mut guided, &mask, &opts);
    let (e_plain, e_guided) = (mean_abs_err(&plain, &truth), mean_abs_err(&guided, &truth));
    assert!(
        e_guided < e_plain * 0.8,
        "guided {e_guided} vs plain {e_plain}"
    );
}

#[test]
fn fast_path_at_reduced_work_size_still_tracks_edges() {
    let (img, mask) = disc(600, 400);
    let truth = truth_alpha(&img);
    let mut plain = img.clone();
    refine(&mut plain, &mask, &RefineOptions::none());
    let mut fast = img.clone();
    refine(
        &mut fast,
        &mask,
        &RefineOptions {
            work_size: 200,
            ..RefineOptions::default()
        },
    );
    assert!(mean_abs_err(&fast, &truth) < mean_abs_err(&plain, &truth));
}

#[test]
fn decontamination_removes_background_tint() {
    let (img, mask) = disc(256, 192);
    let mut raw = img.clone();
    refine(
        &mut raw,
        &mask,
        &RefineOptions {
            decontaminate: false,
            guided_filter: false,
            ..RefineOptions::default()
        },
    );
    let mut clean = img.clone();
    refine(
        &mut clean,
        &mask,
        &RefineOptions {
            guided_filter: false,
            ..RefineOptions::default()
        },
    );
    // Green leaking into semi-transparent edge pixels, weighted by their visibility.
    let green = |im: &RgbaImage| -> f64 {
        im.pixels()
            .filter(|p| p[3] > 20 && p[3] < 235)
            .map(|p| f64::from(p[1]) * f64::from(p[3]))
            .sum::<f64>()
    };
    assert!(
        green(&clean) < green(&raw) * 0.5,
        "{} vs {}",
        green(&clean),
        green(&raw)
    );
}

#[test]
fn input_transparency_is_kept() {
    let (mut img, _) = disc(64, 64);
    for p in img.pixels_mut().take(64 * 10) {
        p[3] = 0;
    }
    let full = Mask::new(4, 4, vec![255; 16]).unwrap();
    for opts in [RefineOptions::none(), RefineOptions::default()] {
        let mut out = img.clone();
        refine(&mut out, &full, &opts);
        assert!(out.pixels().take(64 * 10).all(|p| p.0 == [0, 0, 0, 0]));
        assert!(out.pixels().skip(64 * 12).all(|p| p[3] > 250), "{opts:?}");
    }
}

#[test]
fn decontamination_radii_follow_the_working_size() {
    // Forte & Pitié's 90 and 6 px at a ~2 MP photo, i.e. 45 and 3 px at a working size of 1024.
    assert_eq!(decontam_radii(1024), (45, 3));
    assert_eq!(decontam_radii(640), (28, 2));
    assert_eq!(decontam_radii(2048), (90, 6));
    // Never a zero radius, however small the working size.
    assert_eq!(decontam_radii(8), (1, 1));
}
