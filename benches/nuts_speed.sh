#!/usr/bin/env bash
# NUTS speed (issue 10): a default NUTS fit of nb_exp two-head with --raw (NeuroBayes's
# setting: N = 40, 1000 warm-up + 1000 draws), one chain, CPU seconds and gradients per
# CPU-second, median of RUNS runs (default 3). Target: <= 25 CPU-s per chain, a third of
# NeuroBayes's 76. Beside it, the same binary's full-batch gradient rate without NUTS
# (`bayesband fit` pSGLD steps cost one gradient each) tells NUTS's own overhead.
# Usage: benches/nuts_speed.sh [RUNS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-3}"
cargo build --release --quiet --bin bayesband --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/release/bayesband"
D="$ROOT/benches/data"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"
echo "nb_exp two-head --raw, NUTS 1000 + 1000 draws, 1 chain, $RUNS runs"
CPU=() RATE=()
for r in $(seq "$RUNS"); do
  TIMEFORMAT='%U %S'
  { time "$BIN" fit --data "$D/nb_exp_train.csv" --model two-head --raw --method nuts --chains 1 --seed "$r" \
      --grid "$D/nb_exp_test.csv" --out "$TMP/pred.csv" >/dev/null 2>"$TMP/log"; } 2>"$TMP/time"
  cpu=$(awk '{print $1 + $2}' "$TMP/time")
  g=$(grep -o 'gradients per chain [0-9]*' "$TMP/log" | awk '{print $4}')
  printf 'run %d: %6.1f CPU-s, %s gradients, %6.0f gradients/CPU-s; %s\n' "$r" "$cpu" "$g" "$(awk -v g="$g" -v c="$cpu" 'BEGIN {print g / c}')" "$(grep -E '^divergences' "$TMP/log")"
  CPU+=("$cpu"); RATE+=("$(awk -v g="$g" -v c="$cpu" 'BEGIN {print g / c}')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf 'NUTS median: %.1f CPU-s per chain (target <= 25; NeuroBayes 76), %.0f gradients/CPU-s\n' "$(median "${CPU[@]}")" "$(median "${RATE[@]}")"
# Gradient rate of the same model and data without NUTS: pSGLD, 1 chain, 200,000 steps.
TIMEFORMAT='%U %S'
{ time "$BIN" fit --data "$D/nb_exp_train.csv" --model two-head --raw --method psgld --chains 1 --steps 200000 \
    --grid "$D/nb_exp_test.csv" --out "$TMP/pred.csv" --quiet >/dev/null 2>"$TMP/log"; } 2>"$TMP/time"
cpu=$(awk '{print $1 + $2}' "$TMP/time")
printf 'pSGLD on the same model: %.0f gradients/CPU-s (200,000 steps in %.1f CPU-s): NUTS runs at %.0f%% of it\n' \
  "$(awk -v c="$cpu" 'BEGIN {print 200000 / c}')" "$cpu" "$(awk -v c="$cpu" -v r="$(median "${RATE[@]}")" 'BEGIN {print 100 * r / (200000 / c)}')"
