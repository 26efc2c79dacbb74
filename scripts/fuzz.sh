#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer + AddressSanitizer): each target of fuzz/fuzz_targets for
# FUZZ_SECONDS (default 120), starting from the committed seeds in fuzz/corpus/<target> (new
# inputs go to a scratch copy). A crash is saved in fuzz/artifacts/<target>/ and fails the run.
# The toolchain here is stable: RUSTC_BOOTSTRAP lets cargo-fuzz pass the sanitizer flags, whose
# runtime ships with stable Rust. Arguments: the targets to run (default all). Minutes.
source "$(dirname "$0")/lib.sh"
ensure_rust
if ! cargo fuzz --version >/dev/null 2>&1; then
    log "cargo install cargo-fuzz"
    cargo install --locked -q cargo-fuzz
fi
cd "$ROOT/fuzz"
export RUSTC_BOOTSTRAP=1
SECS="${FUZZ_SECONDS:-120}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode ffprobe image_request video_request multipart psd_round_trip)
rc=0
for t in "${targets[@]}"; do
    work="$(mktemp -d)"
    cp "corpus/$t"/* "$work"/
    log "fuzz $t for ${SECS} s"
    features=()
    case "$t" in *_request | multipart) features=(--features server) ;; esac
    out="$work.log"
    status=0
    cargo fuzz run ${features[@]+"${features[@]}"} "$t" "$work" "corpus/$t" -- \
        -max_total_time="$SECS" -rss_limit_mb=4096 -max_len=1048576 > "$out" 2>&1 || status=$?
    grep -E '^(#[0-9]+ *DONE|Done [0-9]+ runs)|SUMMARY|panicked' "$out" | tail -3 || true
    if ls "artifacts/$t"/crash-* >/dev/null 2>&1; then
        log "crash in $t: fuzz/artifacts/$t"
        rc=1
    elif [ $status -ne 0 ]; then
        tail -30 "$out"
        rc=1
    fi
    rm -rf "$work" "$out"
done
exit $rc
