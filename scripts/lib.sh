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

# PostgreSQL for the scale-out tests: the machine's server when one answers on 127.0.0.1:5432,
# otherwise a private cluster (Debian's `postgresql`, initdb in a temp directory, a free port,
# fsync off), stopped when the script exits. Exports CUTOUT_TEST_PG_URL, an admin URL: every
# test creates its own database there (named cutout_test_*; leftovers are dropped here).
ensure_postgres() {
    local url="postgres://postgres@127.0.0.1:5432/postgres"
    if pg_answers "$url"; then
        export CUTOUT_TEST_PG_URL="$url"
    else
        start_private_postgres
    fi
    log "PostgreSQL for the tests: ${CUTOUT_TEST_PG_URL}"
    drop_test_databases
}

# True when `url` takes a trusted connection (psql from postgresql-client, installed if missing).
pg_answers() {
    command -v psql >/dev/null || ensure_apt postgresql-client
    psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
}

start_private_postgres() {
    ensure_apt postgresql
    local bin port
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    PG_TMP=$(mktemp -d /tmp/cutout-pg.XXXXXX)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # initdb refuses to run as root: the cluster belongs to the postgres user the package made.
    local as=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$PG_TMP"
        as=(runuser -u postgres --)
    fi
    log "starting a private PostgreSQL on 127.0.0.1:$port ($PG_TMP)"
    "${as[@]}" "$bin/initdb" -D "$PG_TMP/data" -U postgres --auth=trust -E UTF8 >/dev/null
    "${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/log" -w \
        -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" \
        start >/dev/null
    PG_STOP=("${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -m fast stop)
    trap 'stop_private_postgres' EXIT
    export CUTOUT_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

stop_private_postgres() {
    "${PG_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
}

drop_test_databases() {
    local db
    for db in $(psql "$CUTOUT_TEST_PG_URL" -Atqc \
        "SELECT datname FROM pg_database WHERE datname LIKE 'cutout\_test\_%'"); do
        psql "$CUTOUT_TEST_PG_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
    done
}
