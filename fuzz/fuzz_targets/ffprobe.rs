//! The video probe's parsing of ffprobe's JSON: any bytes give a VideoInfo or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = cutout_video::probe::parse(data) {
        let _ = info.expected_frames();
    }
});
