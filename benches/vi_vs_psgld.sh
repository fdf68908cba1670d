#!/usr/bin/env bash
# VI against pSGLD (issue 9, item 16): CPU seconds of a default `bayesband fit
# --method vi` and `--method psgld` on the same data (bump, N = 150, generated here with
# seed 1, so nothing outside the repository is needed), two-head model, median of
# several runs each, alternating the methods so drift of the machine hits both alike.
# Target: VI within 2x of pSGLD. Usage: benches/vi_vs_psgld.sh [RUNS] (default 5)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-5}"
cargo build --release --quiet --bin bayesband --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/release/bayesband"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
"$BIN" generate bump --n 150 --seed 1 --truth "$TMP/truth.csv" > "$TMP/train.csv"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"
echo "bump N = 150, two-head, default settings (2 chains x 20,000 gradients), $RUNS runs each"
declare -A T
for r in $(seq "$RUNS"); do
  for m in psgld vi; do
    TIMEFORMAT='%U %S'
    { time "$BIN" fit --data "$TMP/train.csv" --model two-head --method "$m" --grid "$TMP/truth.csv" \
        --out "$TMP/pred.csv" --quiet >/dev/null 2>"$TMP/log"; } 2>"$TMP/time"
    T[$m]+="$(awk '{print $1 + $2}' "$TMP/time") "
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
p=$(echo "${T[psgld]}" | median); v=$(echo "${T[vi]}" | median)
printf '%-6s CPU-s median %6.2f  (runs: %s)\n' psgld "$p" "${T[psgld]}" vi "$v" "${T[vi]}"
awk -v p="$p" -v v="$v" 'BEGIN {printf "VI / pSGLD: %.2fx (target <= 2x)\n", v / p}'
