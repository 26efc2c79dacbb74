//! The image families' request parsing (JSON bodies, and form or query fields, which arrive as
//! the same map of strings), in each mode.
#![no_main]

use cutout_server::service::spec::{parse_options, Context, Mode};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let models = ["u2net".to_owned(), "u2netp".to_owned()];
    let hosts = ["example.com".to_owned()];
    let ctx = Context {
        models: &models,
        default_model: "u2net",
        allow_hosts: &hosts,
    };
    // Form and query values are strings: the same fields, stringified.
    let strings: Map<String, Value> = fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
        .collect();
    for mode in [Mode::Clipping, Mode::Background, Mode::Params] {
        let _ = parse_options(&fields, mode, None, None, &ctx);
        let _ = parse_options(&strings, mode, Some("https://example.com/a.jpg".into()), None, &ctx);
    }
});
