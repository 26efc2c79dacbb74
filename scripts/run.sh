#!/usr/bin/env bash
# Installs what Cutout needs (apt packages, ONNX Runtime, models), builds it, and runs it.
# With no arguments it cuts out the sample photo; otherwise the arguments go to `cutout`.
source "$(dirname "$0")/lib.sh"
ensure_apt
ensure_rust
ensure_venv
build_release
ensure_models
if (($#)); then
    exec "$ROOT/target/release/cutout" "$@"
fi
mkdir -p "$ROOT/out"
"$ROOT/target/release/cutout" remove "$ROOT/examples/cat.jpg" -o "$ROOT/out/cat.png"
log "wrote $ROOT/out/cat.png"
