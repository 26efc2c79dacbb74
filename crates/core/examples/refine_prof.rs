//! Refine's cost per switch on one photo: `refine_prof PHOTO [MASK]`. MASK is a grayscale mask
//! of the photo (e.g. `cutout remove --only-mask`), shrunk to the model's 320x320 here; without
//! it a synthetic ramp is used.
use cutout_core::{refine::refine, Mask, RefineOptions};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: refine_prof PHOTO [MASK]");
    let img = image::open(path).expect("photo").to_rgba8();
    let mask = match args.next() {
        Some(m) => {
            let m = image::open(m).expect("mask").to_luma8();
            let m = image::imageops::resize(&m, 320, 320, image::imageops::FilterType::Triangle);
            Mask::new(320, 320, m.into_raw()).expect("320x320")
        }
        None => Mask::new(
            320,
            320,
            (0..320 * 320)
                .map(|i| {
                    if (i % 320) > 100 {
                        255
                    } else {
                        (i % 256) as u8
                    }
                })
                .collect(),
        )
        .expect("320x320"),
    };
    for (name, o) in [
        ("none", RefineOptions::none()),
        (
            "guided",
            RefineOptions {
                decontaminate: false,
                ..Default::default()
            },
        ),
        (
            "decontam",
            RefineOptions {
                guided_filter: false,
                ..Default::default()
            },
        ),
        ("both", RefineOptions::default()),
    ] {
        let mut times: Vec<f64> = (0..7)
            .map(|_| {
                let mut im = img.clone();
                let t = Instant::now();
                refine(&mut im, &mask, &o);
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{name:>9}: min {:.1} ms, median {:.1} ms",
            times[0], times[3]
        );
    }
}
