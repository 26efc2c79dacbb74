//! Every input format through the decoder, with limits small enough that a claimed size over
//! them must be refused from the header: never a panic, never a large allocation.
#![no_main]

use cutout_core::{decode, DecodeLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits {
        max_pixels: 4_000_000,
        max_side: 4_000,
        ..Default::default()
    };
    if let Ok(d) = decode(data, &limits) {
        let (w, h) = d.image.dimensions();
        assert!(u64::from(w) * u64::from(h) <= limits.max_pixels);
    }
});
