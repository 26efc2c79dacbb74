use cutout_core::{refine::refine, Mask, RefineOptions};
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let img = image::open(path).unwrap().to_rgba8();
    let mask = Mask::new(
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
    .unwrap();
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
        let mut best = f64::MAX;
        for _ in 0..3 {
            let mut im = img.clone();
            let t = Instant::now();
            refine(&mut im, &mask, &o);
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!("{name}: {best:.1} ms");
    }
}
