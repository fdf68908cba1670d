#!/usr/bin/env bash
# Quality benchmark (issue 2's target): the CLI with default settings on the four
# reference data sets of benches/data, two-head and the matching noise law, scored
# with benches/data/eval.py (nll_exact, coverage95_exact), with the CPU seconds of
# each fit. Usage: benches/quality.sh [SEEDS...]   (default: 0 1 2)
# QUALITY_ARGS: extra flags for every fit (e.g. "--steps 80000" to try a setting);
# BAYESBAND_BIN: a binary to use instead of building one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${BAYESBAND_DATA:-$ROOT/benches/data}"
[ -f "$DATA/eval.py" ] || { echo "error: reference data not found at $DATA (set BAYESBAND_DATA)" >&2; exit 2; }
python3 -c 'import numpy' 2>/dev/null || python3 -m pip install --user -q numpy
[ -n "${BAYESBAND_BIN:-}" ] || cargo build --release --quiet --bin bayesband --manifest-path "$ROOT/Cargo.toml"
BIN="${BAYESBAND_BIN:-$ROOT/target/release/bayesband}"
SEEDS=("${@:-0}")
[ $# -gt 0 ] || SEEDS=(0 1 2)
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(date -u +%F)"
printf '%-8s %-18s %4s %9s %10s %8s %8s %7s\n' data model seed rmse_mean rmse_noise nll cov95 cpu_s
for pair in "nb_exp noise:exponential" "nb_exp two-head" "nb_step noise:step" "nb_step two-head" \
            "bump noise:bump" "bump two-head" "linear noise:linear" "linear two-head"; do
  set -- $pair
  for seed in "${SEEDS[@]}"; do
    TIMEFORMAT='%U %S'
    { time "$BIN" fit --data "$DATA/$1_train.csv" --model "$2" --grid "$DATA/$1_test.csv" \
        --out "$TMP/pred.csv" --seed "$seed" --quiet ${QUALITY_ARGS:-} >/dev/null 2>"$TMP/log"; } 2>"$TMP/time"
    cpu=$(awk '{print $1 + $2}' "$TMP/time")
    python3 "$DATA/eval.py" "$DATA/$1_test.csv" "$TMP/pred.csv" | python3 -c "
import json, sys
d = json.load(sys.stdin)
print('%-8s %-18s %4s %9.3f %10.3f %8.3f %8.3f %7.2f' % ('$1', '$2', '$seed', d['rmse_mean'], d['rmse_noise'], d['nll_exact'], d['coverage95_exact'], $cpu))"
  done
done
