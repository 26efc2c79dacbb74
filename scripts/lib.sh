# Shared set-up steps for scripts/run.sh and scripts/test.sh. Every step is idempotent: it checks
# first and installs only what is missing, so a second run costs seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CUTOUT_CACHE:-$HOME/.cache/cutout}"
# Built binaries: cargo's target directory (a shared CARGO_TARGET_DIR is honoured).
BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/release"
VENV="$CACHE/venv"
export CUTOUT_DATA_DIR="${CUTOUT_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/cutout}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Debian/Ubuntu packages: a C toolchain (libwebp is built from source by its -sys crate),
# Python with venv for pip downloads and the test helpers.
ensure_apt() {
    local want=(build-essential pkg-config ca-certificates python3 python3-venv python3-pip "$@")
    local missing=()
    for p in "${want[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        command -v apt-get >/dev/null || { echo "missing packages: ${missing[*]} (no apt-get here)" >&2; exit 1; }
        local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
        log "apt-get install ${missing[*]}"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

ensure_rust() {
    if ! command -v cargo >/dev/null; then
        [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
    fi
    command -v cargo >/dev/null || {
        echo "cargo not found: install Rust >= 1.92 (https://rustup.rs) and re-run" >&2
        exit 1
    }
}

# A private virtualenv outside the clone: pip for model downloads, and the Python test helpers.
ensure_venv() {
    local pkgs=("$@")
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating $VENV"
        python3 -m venv "$VENV"
    fi
    if ((${#pkgs[@]})) && ! "$VENV/bin/python" - "${pkgs[@]}" <<'PY' 2>/dev/null
import importlib.metadata as m, sys
for spec in sys.argv[1:]:
    m.version(spec.split("==")[0])
PY
    then
        log "pip install ${pkgs[*]}"
        "$VENV/bin/pip" install -q --disable-pip-version-check "${pkgs[@]}"
    fi
    export CUTOUT_PYTHON="$VENV/bin/python"
}

build_release() {
    log "cargo build --release"
    (cd "$ROOT" && cargo build --release --locked -q)
}

# The ONNX Runtime library and the default (Apache-2.0) models, verified by sha256.
ensure_models() {
    "$BIN_DIR/cutout" models install "$@"
}

# The rembg peer for the benchmarks (with its HTTP server), in its own venv.
ensure_rembg_venv() {
    REMBG_VENV="$CACHE/rembg-venv"
    if ! "$REMBG_VENV/bin/python" -c "import rembg.commands.s_command, uvicorn" 2>/dev/null; then
        log "installing the rembg peer into $REMBG_VENV"
        python3 -m venv "$REMBG_VENV"
        "$REMBG_VENV/bin/pip" install -q --disable-pip-version-check "rembg[cpu,cli]==2.0.86"
    fi
}
