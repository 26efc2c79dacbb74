#!/usr/bin/env bash
# Quality on ../shared/eval: runs `cutout remove` over the photos and the clip's frames, per model,
# and scores each with the shared scorer. Two rows per model: `reference` (the model's own
# pre/post-processing, no refinement: must match the reference row of shared/eval/README.md within
# 0.005 IoU) and `default` (Cutout's default refinement on top).
#   scripts/eval.sh [MODEL...]     (default: every installed model)
source "$(dirname "$0")/lib.sh"
ensure_apt
ensure_rust
ensure_venv numpy pillow
build_release
ensure_models
EVAL="${CUTOUT_EVAL_DIR:-$ROOT/../shared/eval}"
OUT="${CUTOUT_EVAL_OUT:-$ROOT/out/eval}"
BIN="$BIN_DIR/cutout"
models=("$@")
if ((${#models[@]} == 0)); then
    mapfile -t models < <("$BIN" models list | awk '$2 == "installed" && $1 != "rvm" {print $1}')
fi
summary="$OUT/summary.txt"
mkdir -p "$OUT"
: > "$summary"
for model in "${models[@]}"; do
    for variant in reference default; do
        flags=()
        [ "$variant" = reference ] && flags=(--no-edge-refine --no-decontaminate)
        dir="$OUT/$model-$variant"
        rm -rf "$dir"
        log "$model ($variant)"
        "$BIN" remove -m "$model" -j 2 "${flags[@]}" --only-mask "$EVAL/images" -o "$dir" 2>/dev/null
        "$BIN" remove -m "$model" -j 2 "${flags[@]}" --only-mask "$EVAL/video/blackswan/frames" -o "$dir/video/blackswan" 2>/dev/null
        scores=$("$VENV/bin/python" "$EVAL/score.py" "$dir" --set "$EVAL" --json "$dir/scores.json")
        images=$(grep 'ALL (micro)' <<<"$scores" | awk '{print "IoU " $4 "  MAE " $5 "  BF " $6}')
        video=$(grep '^MEAN' <<<"$scores" | awk '{print "mIoU " $2 "  MAE " $3 "  BF " $4 "  flicker " $5}')
        printf '%-8s %-9s | %s | video %s\n' "$model" "$variant" "$images" "$video" | tee -a "$summary"
    done
done
log "summary in $summary"
