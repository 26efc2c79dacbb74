use super::*;

fn subject() -> RgbaImage {
    // 100x80 canvas, an opaque blue 20x10 block at (30, 40), the rest transparent.
    RgbaImage::from_fn(100, 80, |x, y| {
        if (30..50).contains(&x) && (40..50).contains(&y) {
            Rgba([0, 0, 255, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    })
}

#[test]
fn parses_colours() {
    assert_eq!(parse_color("#ff8000").unwrap(), Rgba([255, 128, 0, 255]));
    assert_eq!(parse_color("ff800080").unwrap(), Rgba([255, 128, 0, 128]));
    assert_eq!(parse_color("fff").unwrap(), Rgba([255, 255, 255, 255]));
    assert_eq!(parse_color("Green").unwrap(), Rgba([0, 128, 0, 255]));
    for bad in ["", "#12", "zzzzzz", "ff80001", "#ggg"] {
        assert!(parse_color(bad).is_err(), "{bad}");
    }
}

#[test]
fn parses_crop_margins() {
    assert_eq!("30".parse::<CropMargin>().unwrap(), CropMargin::Px(30));
    assert_eq!("30px".parse::<CropMargin>().unwrap(), CropMargin::Px(30));
    assert_eq!(
        "10%".parse::<CropMargin>().unwrap(),
        CropMargin::Percent(10.0)
    );
    for bad in ["-1", "60%", "501px", "abc"] {
        assert!(bad.parse::<CropMargin>().is_err(), "{bad}");
    }
}

#[test]
fn crops_to_subject_with_margin() {
    let out = compose(
        subject(),
        &ComposeOptions {
            crop: true,
            ..Default::default()
        },
    );
    assert_eq!(out.dimensions(), (20, 10));
    assert!(out.pixels().all(|p| p[3] == 255));
    let out = compose(
        subject(),
        &ComposeOptions {
            crop: true,
            crop_margin: CropMargin::Px(5),
            ..Default::default()
        },
    );
    assert_eq!(out.dimensions(), (30, 20));
    assert_eq!(out.get_pixel(0, 0)[3], 0);
    assert_eq!(out.get_pixel(5, 5)[3], 255);
    let out = compose(
        subject(),
        &ComposeOptions {
            crop: true,
            crop_margin: CropMargin::Percent(50.0),
            ..Default::default()
        },
    );
    assert_eq!(out.dimensions(), (40, 20));
}

#[test]
fn empty_subject_keeps_canvas() {
    let empty = RgbaImage::new(10, 10);
    assert_eq!(
        compose(
            empty,
            &ComposeOptions {
                crop: true,
                ..Default::default()
            }
        )
        .dimensions(),
        (10, 10)
    );
}

#[test]
fn solid_background_fills_transparent_pixels() {
    let red = Rgba([255, 0, 0, 255]);
    let out = compose(
        subject(),
        &ComposeOptions {
            background: Background::Color(red),
            ..Default::default()
        },
    );
    assert_eq!(*out.get_pixel(0, 0), red);
    assert_eq!(*out.get_pixel(35, 45), Rgba([0, 0, 255, 255]));
}

#[test]
fn half_alpha_blends() {
    assert_eq!(
        over(Rgba([255, 255, 255, 128]), Rgba([0, 0, 0, 255])),
        Rgba([128, 128, 128, 255])
    );
    assert_eq!(
        over(Rgba([0, 0, 0, 0]), Rgba([0, 0, 0, 0])),
        Rgba([0, 0, 0, 0])
    );
}

#[test]
fn background_image_covers_canvas() {
    // A 10x40 background, left half yellow, right half cyan: covering 100x80 scales it 10x.
    let bg = RgbaImage::from_fn(10, 40, |x, _| {
        if x < 5 {
            Rgba([255, 255, 0, 255])
        } else {
            Rgba([0, 255, 255, 255])
        }
    });
    let out = compose(
        subject(),
        &ComposeOptions {
            background: Background::Image(bg),
            ..Default::default()
        },
    );
    assert_eq!(out.dimensions(), (100, 80));
    assert_eq!(*out.get_pixel(2, 2), Rgba([255, 255, 0, 255]));
    assert_eq!(*out.get_pixel(97, 77), Rgba([0, 255, 255, 255]));
    assert!(out.pixels().all(|p| p[3] == 255));
}

#[test]
fn fits_within_limits_and_never_upscales() {
    let opts = ComposeOptions {
        max_width: Some(50),
        ..Default::default()
    };
    assert_eq!(compose(subject(), &opts).dimensions(), (50, 40));
    assert_eq!(
        fitted_size(
            100,
            80,
            &ComposeOptions {
                scale: Some(0.25),
                ..Default::default()
            }
        ),
        (25, 20)
    );
    assert_eq!(
        fitted_size(
            100,
            80,
            &ComposeOptions {
                max_width: Some(500),
                ..Default::default()
            }
        ),
        (100, 80)
    );
    assert_eq!(
        fitted_size(
            100,
            80,
            &ComposeOptions {
                max_height: Some(20),
                scale: Some(0.5),
                ..Default::default()
            }
        ),
        (25, 20)
    );
}
