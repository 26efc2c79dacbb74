//! The test photos, kept here (`crates/testkit/data`) so every crate's tests name them the same
//! way instead of reaching into another crate's test folder.

use std::path::PathBuf;

/// A 0.3 MP JPEG of a person: the photo most API tests upload.
pub const PERSON: &[u8] = include_bytes!("../data/person.jpg");

/// A JPEG of a cat, and one of a product on a plain background: small photos of other kinds.
pub const CAT: &[u8] = include_bytes!("../data/cat.jpg");
pub const PRODUCT: &[u8] = include_bytes!("../data/product.jpg");

/// A PNG whose header claims 30000 x 30000 pixels: refused from the header, never decoded.
pub const BOMB_PNG: &[u8] = include_bytes!("../data/bomb_30000.png");

/// The folder of the photos (`person.jpg`, `cat.jpg`, `product.jpg`, `bomb_30000.png`).
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// One photo's path.
pub fn path(name: &str) -> PathBuf {
    dir().join(name)
}

/// A file of `data/formats/` (made by `scripts/make-format-fixtures.sh` from `person.jpg`):
/// `reference.png` (160x120, transparent left edge) and `reference-rgb.png`, the same picture as
/// `alpha-8bit.avif` (lossless), `lossy-10bit.avif`, `lossy-12bit.avif`, `imagemagick.psd`, and
/// `rotated.heic` (coded 120x160, turned upright by its `irot` box, as phones store photos).
pub fn format_sample(name: &str) -> Vec<u8> {
    std::fs::read(dir().join("formats").join(name)).expect("a committed fixture")
}

/// An SVG "billion laughs": ten levels of entities, each ten of the one below (3·10⁹ bytes once
/// expanded), drawn as `width`×`height`.
pub fn svg_billion_laughs(width: u32, height: u32) -> String {
    let mut doc = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE svg [\n<!ENTITY l0 \"lol\">\n");
    for i in 1..10 {
        let refs = format!("&l{};", i - 1).repeat(10);
        doc.push_str(&format!("<!ENTITY l{i} \"{refs}\">\n"));
    }
    doc.push_str(&format!(
        "]>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\"><text>&l9;</text></svg>"
    ));
    doc
}

/// A tiny ONNX graph of `data/models/` (made by `scripts/make-onnx-fixtures.py`): `tiny-u2net`
/// (1x3x320x320 in, one channel out) or `tiny-birefnet` (1024x1024 logits), each one 1x1
/// convolution, to import and run a model of that family in milliseconds.
pub fn tiny_model(name: &str) -> PathBuf {
    dir().join("models").join(format!("{name}.onnx"))
}

/// An empty data directory under `root` that shares this machine's installed ONNX Runtime
/// library (linked, not copied), for tests that import models without touching the real one.
pub fn scratch_data_dir(root: &std::path::Path) -> cutout_models::DataDir {
    let real = cutout_models::DataDir::from_env().runtime_path();
    let data = cutout_models::DataDir::new(root);
    let dest = root
        .join("runtime")
        .join(real.file_name().expect("a file name"));
    std::fs::create_dir_all(dest.parent().expect("a parent")).expect("a writable temp dir");
    let _ = std::os::unix::fs::symlink(&real, &dest);
    data
}
