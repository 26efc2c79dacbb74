#!/usr/bin/env bash
# Speed benchmark: Cutout's per-stage times and the peer rembg (same model file, same images,
# same run). Extra arguments go to cutout-bench (e.g. --runs 5 --model u2netp IMAGE...).
source "$(dirname "$0")/lib.sh"
ensure_apt
ensure_rust
build_release
ensure_models
ensure_openvino
ensure_rembg_venv
cd "$ROOT"
cargo run --release --locked -q -p cutout-bench --bin cutout-bench -- --rembg-python "$REMBG_VENV/bin/python" "$@"
