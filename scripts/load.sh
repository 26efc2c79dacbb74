#!/usr/bin/env bash
# HTTP load benchmark: `cutout serve` against `rembg s` (same model file, same 1-2 MP photos, client
# on loopback). Extra arguments go to cutout-load (e.g. --requests 96 --model u2netp --soak 2000).
source "$(dirname "$0")/lib.sh"
ensure_apt
ensure_rust
build_release
ensure_models
ensure_openvino
ensure_rembg_venv
cd "$ROOT"
cargo build --release --locked -q -p cutout-bench
# Where `auto` is OpenVINO bf16, ONNX Runtime f32 runs too, as the peer engine.
if [ -z "${CUTOUT_LOAD_ENGINES:-}" ] && native_bf16; then export CUTOUT_LOAD_ENGINES=onnxruntime,auto; fi
exec "$BIN_DIR/cutout-load" --cutout "$BIN_DIR/cutout" \
    --rembg-python "$REMBG_VENV/bin/python" "$@"
