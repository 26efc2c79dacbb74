#!/usr/bin/env bash
# Opt-in: NVIDIA GPU inference (`[inference] device = "cuda"`, or `cutout remove --device cuda`)
# through ONNX Runtime's CUDA execution provider. Installs the `onnxruntime-gpu` wheel (the same
# ONNX Runtime version as the CPU build) and the NVIDIA runtime wheels it needs (CUDA 13, cuDNN 9)
# into a private virtualenv, and writes $CUTOUT_DATA_DIR/cuda.env, which `scripts/run.sh` loads:
# ORT_DYLIB_PATH (the GPU build of the library) and LD_LIBRARY_PATH (the NVIDIA libraries).
# Needs an NVIDIA driver for CUDA 13 on the host. UNTESTED: no GPU was available to verify it.
source "$(dirname "$0")/lib.sh"
ensure_apt
ORT_VERSION=$(awk -F'"' '/^\[runtime\]/{r=1} r && /^version/{print $2; exit}' "$ROOT/models/manifest.toml")
CUDA_VENV="$CACHE/cuda-venv"
[ -x "$CUDA_VENV/bin/python" ] || python3 -m venv "$CUDA_VENV"
log "pip install onnxruntime-gpu[cuda,cudnn]==$ORT_VERSION nvidia-cublas (several GB)"
"$CUDA_VENV/bin/pip" install -q --disable-pip-version-check \
    "onnxruntime-gpu[cuda,cudnn]==$ORT_VERSION" "nvidia-cublas>=13,<14"
site=$("$CUDA_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
lib="$site/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION"
[ -f "$lib" ] || { echo "not found: $lib" >&2; exit 1; }
nvidia_libs=$(find "$site/nvidia" -type d -name lib 2>/dev/null | sort | paste -sd:)
mkdir -p "$CUTOUT_DATA_DIR"
cat > "$CUTOUT_DATA_DIR/cuda.env" <<ENV
export ORT_DYLIB_PATH="$lib"
export LD_LIBRARY_PATH="$nvidia_libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
ENV
log "wrote $CUTOUT_DATA_DIR/cuda.env; run with CUTOUT_INFERENCE__DEVICE=cuda ./scripts/run.sh"
if command -v nvidia-smi >/dev/null; then nvidia-smi -L; else log "no nvidia-smi: no NVIDIA driver here"; fi
