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
if (($#)); then
    exec "$BIN_DIR/cutout" "$@"
fi
log "starting cutout serve (create a key with: target/release/cutout keys create --name me --credits 100)"
exec "$BIN_DIR/cutout" serve
