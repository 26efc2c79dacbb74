#!/usr/bin/env bash
# API fuzzing from the spec: schemathesis (PyPI, pinned) against /openapi.json of a real
# `cutout serve` with a valid key, every operation, positive and negative cases. Fails on any
# 5xx or any response that breaks the document. Not part of scripts/test.sh (minutes).
# Extra arguments go to `schemathesis run` (e.g. --max-examples 20).
source "$(dirname "$0")/lib.sh"
SCHEMATHESIS_VERSION=4.32.5
ensure_apt
ensure_rust
build_release
ensure_models
venv="$CACHE/schemathesis-$SCHEMATHESIS_VERSION"
if [ ! -x "$venv/bin/schemathesis" ]; then
    log "pip install schemathesis==$SCHEMATHESIS_VERSION"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
work=$(mktemp -d)
pid=""
cleanup_fuzz() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
on_exit cleanup_fuzz
cat >"$work/cutout.toml" <<TOML
[server]
bind = "127.0.0.1:0"
[storage]
database_url = "sqlite://$work/cutout.db"
blob_url = "file://$work/blobs"
[security]
signing_secret_file = "$work/signing.key"
[limits]
rate_limit_per_minute = 0
[jobs]
workers = 1
default_model = "u2netp"
TOML
key=$("$BIN_DIR/cutout" keys create --name fuzz --credits 1000000 --config "$work/cutout.toml" | sed -n 's/^key: *//p')
"$BIN_DIR/cutout" serve --config "$work/cutout.toml" 2>"$work/serve.log" &
pid=$!
# The server logs its port once it listens; until then grep finds nothing, which must not end
# the script under `set -e -o pipefail`.
port=""
for _ in $(seq 100); do
    port=$(grep -o '"port":[0-9]*' "$work/serve.log" | head -1 | cut -d: -f2 || true)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$port" ] || {
    echo "cutout serve did not start listening; its log:" >&2
    cat "$work/serve.log" >&2
    exit 1
}
log "schemathesis against http://127.0.0.1:$port/openapi.json"
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
    --header "X-API-Key: $key" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --phases examples,coverage,fuzzing --max-examples "${MAX_EXAMPLES:-25}" \
    --report junit --report-dir "${REPORT_DIR:-$ROOT/target/api-fuzz}" "$@"
