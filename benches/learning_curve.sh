#!/usr/bin/env bash
# Learning curves of the acquisitions (issue 14): see benches/learning_curve.py.
# Usage: benches/learning_curve.sh [flags of learning_curve.py, e.g. --seeds 0,1,2 --rounds 20]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -n "${BAYESBAND_BIN:-}" ] || cargo build --release --quiet --bin bayesband --manifest-path "$ROOT/Cargo.toml"
BIN="${BAYESBAND_BIN:-$ROOT/target/release/bayesband}"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"
python3 "$ROOT/benches/learning_curve.py" "$BIN" "$@"
