#!/usr/bin/env bash
# Video numbers: temporal stability on the eval clip (score.py's mIoU/MAE/BF/flicker, with and
# without stabilisation) and speed on 10 s clips at 720p and 1080p per model. Slow: minutes.
source "$(dirname "$0")/lib.sh"
ensure_apt ffmpeg
ensure_rust
build_release
ensure_models
ensure_openvino
ensure_venv numpy pillow
cd "$ROOT"
SET="${CUTOUT_EVAL_SET:-$ROOT/../shared/eval}"
"$BIN_DIR/cutout-video-bench" stability --set "$SET" --python "$VENV/bin/python" "$@"
"$BIN_DIR/cutout-video-bench" speed --set "$SET"
# Where `auto` is OpenVINO bf16, the speed again on ONNX Runtime f32, the peer engine.
if native_bf16; then "$BIN_DIR/cutout-video-bench" --engine onnxruntime speed --set "$SET"; fi
