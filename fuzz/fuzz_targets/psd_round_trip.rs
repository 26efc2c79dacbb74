//! The PSD writer, read back by the decoder: any small image (size and pixels from the input)
//! written as a layered PSD decodes to the same size, with the cut-out's alpha.
#![no_main]

use cutout_core::{decode, encode, DecodeLimits, EncodeOptions, OutputFormat};
use image::RgbaImage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [w, h, rest @ ..] = data else {
        return;
    };
    let (w, h) = (u32::from(*w % 64) + 1, u32::from(*h % 64) + 1);
    let px = |i: usize| rest.get(i % rest.len().max(1)).copied().unwrap_or(0);
    let cutout = RgbaImage::from_fn(w, h, |x, y| {
        let i = ((y * w + x) * 4) as usize;
        image::Rgba([px(i), px(i + 1), px(i + 2), px(i + 3)])
    });
    let opts = EncodeOptions {
        format: OutputFormat::Psd,
        ..Default::default()
    };
    let psd = encode(&cutout, None, &opts).expect("the PSD writer takes any image");
    let back = decode(&psd, &DecodeLimits::default()).expect("our own PSD reads back");
    assert_eq!(back.image.dimensions(), (w, h));
    for (a, b) in cutout.pixels().zip(back.image.pixels()) {
        assert_eq!(a[3], b[3], "alpha survives the round trip");
        if a[3] == 255 {
            assert_eq!(a, b, "opaque pixels survive the round trip");
        }
    }
});
