#!/usr/bin/env bash
# Quality on ../shared/eval: runs `cutout remove` over the photos and the clip's frames, per model,
# and scores each with the shared scorer. Rows per model: `reference` (the model's own
# pre/post-processing, no refinement, ONNX Runtime f32: must match the reference row of
# shared/eval/README.md within 0.005 IoU) and `default` (Cutout's default refinement on top) once
# per engine and precision, each checked against ONNX Runtime f32: within 0.002 IoU and 0.002 MAE,
# boundary F within 0.003, video flicker no higher (+0.0001 for rounding).
#   scripts/eval.sh [MODEL...]     (default: every installed model)
#   CUTOUT_EVAL_ENGINES="onnxruntime:f32 openvino:bf16" scripts/eval.sh u2net
source "$(dirname "$0")/lib.sh"
ensure_apt
ensure_rust
ensure_venv numpy pillow
build_release
ensure_models
ensure_openvino
EVAL="${CUTOUT_EVAL_DIR:-$ROOT/../shared/eval}"
OUT="${CUTOUT_EVAL_OUT:-$ROOT/out/eval}"
BIN="$BIN_DIR/cutout"
read -r -a engines <<<"${CUTOUT_EVAL_ENGINES:-onnxruntime:f32 openvino:f32 openvino:bf16}"
models=("$@")
if ((${#models[@]} == 0)); then
    mapfile -t models < <("$BIN" models list | awk '$2 == "installed" && $1 != "rvm" {print $1}')
fi
summary="$OUT/summary.txt"
mkdir -p "$OUT"
: > "$summary"
failed=0
for model in "${models[@]}"; do
    for run in reference:onnxruntime:f32 "${engines[@]/#/default:}"; do
        IFS=: read -r variant engine precision <<<"$run"
        flags=(--engine "$engine" --precision "$precision")
        [ "$variant" = reference ] && flags+=(--no-edge-refine --no-decontaminate)
        name="$model-$variant"
        [ "$variant" = default ] && name="$model-$variant-$engine-$precision"
        dir="$OUT/$name"
        rm -rf "$dir"
        log "$model ($variant, $engine $precision)"
        "$BIN" remove -m "$model" -j 2 "${flags[@]}" --only-mask "$EVAL/images" -o "$dir" 2>/dev/null
        "$BIN" remove -m "$model" -j 2 "${flags[@]}" --only-mask "$EVAL/video/blackswan/frames" -o "$dir/video/blackswan" 2>/dev/null
        scores=$("$VENV/bin/python" "$EVAL/score.py" "$dir" --set "$EVAL" --json "$dir/scores.json")
        images=$(grep 'ALL (micro)' <<<"$scores" | awk '{print "IoU " $4 "  MAE " $5 "  BF " $6}')
        video=$(grep '^MEAN' <<<"$scores" | awk '{print "mIoU " $2 "  MAE " $3 "  BF " $4 "  flicker " $5}')
        printf '%-8s %-9s %-11s %-4s | %s | video %s\n' "$model" "$variant" "$engine" "$precision" \
            "$images" "$video" | tee -a "$summary"
        if [ "$variant" = default ] && [ "$engine:$precision" != onnxruntime:f32 ]; then
            "$VENV/bin/python" "$ROOT/scripts/eval-compare.py" \
                "$OUT/$model-default-onnxruntime-f32/scores.json" "$dir/scores.json" \
                "$model" "$precision" "$ROOT/models/manifest.toml" \
                | tee -a "$summary" || failed=1
        fi
    done
done
log "summary in $summary"
exit "$failed"
