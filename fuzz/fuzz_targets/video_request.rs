//! The video family's request parsing: processing options and the video's source.
#![no_main]

use cutout_server::service::video_spec;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let installed = ["u2net".to_owned(), "u2netp".to_owned()];
    let _ = video_spec::parse(&body, &installed);
    let _ = video_spec::source(&body, "http://127.0.0.1:8080");
});
