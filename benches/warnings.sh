#!/usr/bin/env bash
# Convergence at the defaults (issue 11's target): the four reference sets x {homoskedastic,
# two-head, the matching noise law} x seeds, one default fit each; how many carry a
# `warning:` line on stderr (the page shows the same warnings), and the noise-law
# parameters' largest split R-hat. Target: at most 1 in 10 fits warned, every noise-law
# R-hat <= 1.05. The band column is the narrowest chain's band of the mean as a share of the
# pooled one's (a stuck chain is far below 1). Usage: benches/warnings.sh [SEEDS...] (default 0 1 2); WARNINGS_ARGS: extra
# flags for every fit (e.g. "--steps 80000" to try a budget); BAYESBAND_BIN.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/benches/data"
[ -n "${BAYESBAND_BIN:-}" ] || cargo build --release --quiet --bin bayesband --manifest-path "$ROOT/Cargo.toml"
BIN="${BAYESBAND_BIN:-$ROOT/target/release/bayesband}"
SEEDS=("${@:-0}")
[ $# -gt 0 ] || SEEDS=(0 1 2)
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F); extra flags: ${WARNINGS_ARGS:-none}"
printf '%-8s %-18s %4s %8s %6s %7s  %s\n' data model seed max_rhat band cpu_s warnings
fits=0 warned=0 rhat_bad=0
for pair in "nb_exp exponential" "nb_step step" "bump bump" "linear linear"; do
  set -- $pair
  for model in homoskedastic two-head "noise:$2"; do
    for seed in "${SEEDS[@]}"; do
      TIMEFORMAT='%U %S'
      { time "$BIN" fit --data "$DATA/$1_train.csv" --model "$model" --grid "$DATA/$1_test.csv" --out "$TMP/p.csv" \
          --seed "$seed" ${WARNINGS_ARGS:-} >/dev/null 2>"$TMP/log"; } 2>"$TMP/time" || true
      cpu=$(awk '{print $1 + $2}' "$TMP/time")
      rhat=$(grep -oE 'max split R-hat[^:]*: [0-9.]+' "$TMP/log" | grep -oE '[0-9.]+$' || echo -)
      band=$(grep -oE "narrowest chain's band[^:]*: [0-9.]+" "$TMP/log" | grep -oE '[0-9.]+$' || echo -)
      w=$(grep -c '^warning:' "$TMP/log" || true)
      what=$(grep '^warning:' "$TMP/log" | sed -E 's/^warning: //; s/:.*//' | cut -c1-60 | paste -sd';' - || true)
      printf '%-8s %-18s %4s %8s %6s %7.2f  %s\n' "$1" "$model" "$seed" "$rhat" "$band" "$cpu" "${what:--}"
      fits=$((fits + 1)); [ "$w" -gt 0 ] && warned=$((warned + 1))
      # The noise law's own parameters (the param table's rows) above 1.05.
      if [ "$model" != two-head ]; then
        awk '/^param/ {t=1; next} t && NF >= 5 && $5+0 > 1.05 {bad=1} t && NF < 5 {t=0} END {exit !bad}' "$TMP/log" && rhat_bad=$((rhat_bad + 1))
      fi
    done
  done
done
echo "fits with a warning: $warned of $fits (target <= 1 in 10); fits with a noise parameter's R-hat > 1.05: $rhat_bad"
