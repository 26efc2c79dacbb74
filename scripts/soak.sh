#!/usr/bin/env bash
# Soak: 10 000 mixed requests (image jobs on small photos with u2netp, status polls, the asset
# add-on's inline cut-out) against one `cutout serve`, after 1 000 of the same to warm up; prints
# errors, throughput, and the server's RSS and open fds over the first and last thousand. With
# --pressure, also 8 × 49 MP PNGs at once with and without the megapixel budget (peak RSS).
# Extra arguments go to cutout-soak (e.g. --requests 2000 --warmup 200). Minutes.
source "$(dirname "$0")/lib.sh"
ensure_apt
ensure_rust
build_release
ensure_models
cd "$ROOT"
SET="${CUTOUT_EVAL_SET:-$ROOT/../shared/eval}"
exec "$BIN_DIR/cutout-soak" --cutout "$BIN_DIR/cutout" --set "$SET" "$@"
