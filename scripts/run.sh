#!/usr/bin/env bash
# Installs what Cutout needs (apt packages, ONNX Runtime, models), builds it, and runs it.
# With no arguments it runs the service (`cutout serve`: API + workers on SQLite and local disk, on
# http://127.0.0.1:8080 unless configured otherwise); with arguments they go to `cutout`
# (e.g. `./scripts/run.sh remove photos/ -o cutouts/`).
source "$(dirname "$0")/lib.sh"
ensure_apt ffmpeg libheif1
ensure_rust
ensure_venv
build_release
ensure_models
# Where the CPU computes bf16 natively, OpenVINO runs the models several times faster and
# `engine = "auto"` picks it; elsewhere it would not be used, so it is not installed.
if native_bf16; then ensure_openvino; fi
# GPU inference, when `scripts/install-cuda.sh` was run: the GPU build of ONNX Runtime.
if [ -f "$CUTOUT_DATA_DIR/cuda.env" ]; then source "$CUTOUT_DATA_DIR/cuda.env"; fi
if (($#)); then
    exec "$BIN_DIR/cutout" "$@"
fi
log "starting cutout serve (create a key with: target/release/cutout keys create --name me --credits 100)"
exec "$BIN_DIR/cutout" serve
