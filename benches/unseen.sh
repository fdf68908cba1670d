#!/usr/bin/env bash
# Quality on data sets the project has not tuned to (issues 10 and 11): each of the five
# generators of `bayesband generate`, at an N and a seed that no reference file, test or
# benchmark uses, fitted with two-head and the generator's own noise law by each method at
# its defaults (standardised data). There is no NeuroBayes figure for these sets, so each
# fit is scored against the truth itself: `gap` is the fit's expected NLL (eval.py's
# nll_exact on the 400-point truth grid) minus the NLL of the true predictive N(f, sigma^2),
# which no fit can beat; cov95 is the exact coverage of fresh draws. The bar a method is
# held to: coverage95 in [0.90, 0.985] and, for NUTS, a gap no worse than pSGLD's + 0.03.
# Usage: benches/unseen.sh [SEEDS...]   (fit seeds, default 0)
# UNSEEN_METHODS: methods to run (default "psgld nuts"); BAYESBAND_BIN: a binary to use.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python3 -c 'import numpy' 2>/dev/null || python3 -m pip install --user -q numpy
[ -n "${BAYESBAND_BIN:-}" ] || cargo build --release --quiet --bin bayesband --manifest-path "$ROOT/Cargo.toml"
BIN="${BAYESBAND_BIN:-$ROOT/target/release/bayesband}"
METHODS=(${UNSEEN_METHODS:-psgld nuts})
SEEDS=("${@:-0}")
[ $# -gt 0 ] || SEEDS=(0)
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"
printf '%-14s %4s %-18s %-6s %4s %8s %8s %7s %7s %7s\n' data n model method seed nll oracle gap cov95 cpu_s
# generator, N, data seed, matching law: N and seeds differ from every file in benches/.
for set in "nb_exp 60 101 exponential" "nb_step 80 102 step" "bump 100 103 bump" \
           "linear 50 104 linear" "homoskedastic 30 105 constant"; do
  set -- $set
  gen=$1 n=$2 dseed=$3 law=$4
  "$BIN" generate "$gen" --n "$n" --seed "$dseed" --truth "$TMP/truth.csv" > "$TMP/train.csv"
  for model in two-head "noise:$law"; do
    for method in "${METHODS[@]}"; do
      for seed in "${SEEDS[@]}"; do
        TIMEFORMAT='%U %S'
        { time "$BIN" fit --data "$TMP/train.csv" --model "$model" --method "$method" --seed "$seed" \
            --grid "$TMP/truth.csv" --out "$TMP/pred.csv" --quiet >/dev/null 2>"$TMP/log"; } 2>"$TMP/time" \
          || { printf '%-14s %4s %-18s %-6s %4s  failed: %s\n' "$gen" "$n" "$model" "$method" "$seed" "$(tail -n 1 "$TMP/log")"; continue; }
        cpu=$(awk '{print $1 + $2}' "$TMP/time")
        python3 "$ROOT/benches/data/eval.py" "$TMP/truth.csv" "$TMP/pred.csv" | python3 -c "
import csv, json, math, sys
d = json.load(sys.stdin)
rows = list(csv.DictReader(open('$TMP/truth.csv')))
oracle = sum(0.5 * math.log(2 * math.pi * float(r['sigma_true']) ** 2) + 0.5 for r in rows) / len(rows)
print('%-14s %4s %-18s %-6s %4s %8.3f %8.3f %7.3f %7.3f %7.2f' % ('$gen', '$n', '$model', '$method', '$seed',
      d['nll_exact'], oracle, d['nll_exact'] - oracle, d['coverage95_exact'], $cpu))"
      done
    done
  done
done
