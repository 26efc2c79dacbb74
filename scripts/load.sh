#!/usr/bin/env bash
# HTTP load benchmark: `cutout serve` against `rembg s` (same model file, same 1-2 MP photos, client
# on loopback). Extra arguments go to cutout-load (e.g. --requests 96 --model u2netp --soak 2000).
source "$(dirname "$0")/lib.sh"
ensure_apt
ensure_rust
build_release
ensure_models
REMBG_VENV="$CACHE/rembg-venv"
if ! "$REMBG_VENV/bin/python" -c "import rembg.commands.s_command, uvicorn" 2>/dev/null; then
    log "installing the rembg peer (with its server) into $REMBG_VENV"
    python3 -m venv "$REMBG_VENV"
    "$REMBG_VENV/bin/pip" install -q --disable-pip-version-check "rembg[cpu,cli]==2.0.86"
fi
cd "$ROOT"
cargo build --release --locked -q -p cutout-bench
exec "$ROOT/target/release/cutout-load" --cutout "$ROOT/target/release/cutout" \
    --rembg-python "$REMBG_VENV/bin/python" "$@"
