#!/usr/bin/env bash
# Temporal stability measured through the service, as the video issue asks: the eval clip
# (blackswan) made into an mp4, uploaded to a real `cutout serve`, processed by video jobs with
# `temporal_smoothing` false and true, the PNG sequences downloaded, their alpha scored with
# score.py. Extra arguments go to `cutout-video-bench service` (e.g. --models light). Minutes.
source "$(dirname "$0")/lib.sh"
ensure_apt ffmpeg
ensure_rust
build_release
ensure_models
ensure_venv numpy pillow
cd "$ROOT"
SET="${CUTOUT_EVAL_SET:-$ROOT/../shared/eval}"
WORK="$(mktemp -d)"
cat > "$WORK/cutout.toml" <<TOML
[server]
bind = "127.0.0.1:0"
[storage]
database_url = "sqlite://$WORK/cutout.db"
blob_url = "file://$WORK/blobs"
[security]
signing_secret_file = "$WORK/signing.key"
[limits]
rate_limit_per_minute = 0
[jobs]
workers = 1
TOML
KEY="$("$BIN_DIR/cutout" keys create --name video-eval --credits 100000 --config "$WORK/cutout.toml" \
    | sed -n 's/^key: *//p')"
"$BIN_DIR/cutout" serve --config "$WORK/cutout.toml" 2> "$WORK/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 300); do
    PORT="$(grep -o '"port":[0-9]*' "$WORK/serve.log" | head -1 | cut -d: -f2 || true)"
    [ -n "$PORT" ] && break
    kill -0 $SERVER 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
    sleep 0.1
done
log "cutout serve on port $PORT"
CUTOUT_KEY="$KEY" "$BIN_DIR/cutout-video-bench" service --url "http://127.0.0.1:$PORT" \
    --set "$SET" --python "$VENV/bin/python" "$@"
