//! Black-box tests of the `cutout` binary, as one test binary: each of these links the whole
//! server through the test kit, and one link instead of six saves CI minutes.

mod admin;
mod cluster;
mod models;
mod remove;
mod secrets;
mod serve_crash;

/// The value `cutout keys create` printed after `label` (e.g. `key:`), trimmed.
fn printed(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("{label} not in {text}"))
        .trim()
        .to_owned()
}
