#!/usr/bin/env bash
# Speed benchmark: Cutout's per-stage times and the peer rembg (same model file, same images,
# same run). Extra arguments go to cutout-bench (e.g. --runs 5 --model u2netp IMAGE...).
source "$(dirname "$0")/lib.sh"
ensure_apt
ensure_rust
build_release
ensure_models
REMBG_VENV="$CACHE/rembg-venv"
if ! "$REMBG_VENV/bin/python" -c "import rembg" 2>/dev/null; then
    log "installing the rembg peer into $REMBG_VENV"
    python3 -m venv "$REMBG_VENV"
    "$REMBG_VENV/bin/pip" install -q --disable-pip-version-check "rembg[cpu,cli]==2.0.86"
fi
cd "$ROOT"
cargo run --release --locked -q -p cutout-bench -- --rembg-python "$REMBG_VENV/bin/python" "$@"
