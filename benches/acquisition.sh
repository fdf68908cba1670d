#!/usr/bin/env bash
# Where to measure next (issue 14): on data with a gap in x and a noise level that grows
# with |x|, where do the acquisitions send the next measurement? 60 points of
# y = sin(3x) + N(0, (0.05 + 0.4 |x|^2)^2) on [-1, -0.3] and [0.3, 1] (the gap (-0.3, 0.3)),
# a default two-head fit per seed, `bayesband suggest --n 1` for each acquisition over the
# data's x range. The expectation: epistemic and information gain fall in the gap; total
# variance is drawn to the noisy ends. Usage: benches/acquisition.sh [SEEDS...] (default 0 1 2)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -n "${BAYESBAND_BIN:-}" ] || cargo build --release --quiet --bin bayesband --manifest-path "$ROOT/Cargo.toml"
BIN="${BAYESBAND_BIN:-$ROOT/target/release/bayesband}"
SEEDS=("${@:-0}")
[ $# -gt 0 ] || SEEDS=(0 1 2)
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"
printf '%-4s %-10s %9s %7s\n' seed acquisition x in_gap
declare -A HITS
for seed in "${SEEDS[@]}"; do
  python3 - "$seed" > "$TMP/gap.csv" <<'PY'
import math, random, sys
r = random.Random(int(sys.argv[1]))
print("x,y")
n = 0
while n < 60:
    x = r.uniform(-1, 1)
    if abs(x) <= 0.3:
        continue
    print(f"{x},{math.sin(3 * x) + r.gauss(0, 0.05 + 0.4 * x * x)}")
    n += 1
PY
  for acq in epistemic infogain total; do
    x=$("$BIN" suggest --data "$TMP/gap.csv" --model two-head --acquisition "$acq" --seed "$seed" --quiet 2>/dev/null)
    gap=$(awk -v x="$x" 'BEGIN {print (x > -0.3 && x < 0.3) ? "yes" : "no"}')
    printf '%-4s %-10s %9.3f %7s\n' "$seed" "$acq" "$x" "$gap"
    [ "$gap" = yes ] && HITS[$acq]=$(( ${HITS[$acq]:-0} + 1 ))
  done
done
for acq in epistemic infogain total; do
  echo "$acq: in the gap on ${HITS[$acq]:-0} of ${#SEEDS[@]} seeds"
done
