#!/usr/bin/env bash
# Noise formulas (issue 13). (1) Speed: a default fit of nb_exp with the custom formula
# a*exp(b*x) against the built-in exponential law (a preset of the same mechanism), CPU
# seconds, median of RUNS alternating runs; target: custom within 2x. With BASE_BIN set to
# a bayesband built before the laws became formulas, its hand-written exponential law is
# timed too. (2) Quality: with BASE_BIN, NLL (benches/data/eval.py) of each built-in law on
# its reference data set, before and after, seeds SEEDS (default 0-5).
# Usage: [BASE_BIN=path/to/old/bayesband] benches/formula.sh [RUNS] (default 5)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${BAYESBAND_DATA:-$ROOT/benches/data}"
RUNS="${1:-5}"
SEEDS=(${SEEDS:-0 1 2 3 4 5})
cargo build --release --quiet --bin bayesband --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/release/bayesband"
BASE="${BASE_BIN:-}"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"
cpu() { # cpu seconds of one fit: BIN ARGS...
  TIMEFORMAT='%U %S'
  { time "$@" --data "$DATA/nb_exp_train.csv" --grid "$DATA/nb_exp_test.csv" --out "$TMP/pred.csv" --quiet >/dev/null 2>"$TMP/log"; } 2>"$TMP/time"
  awk '{print $1 + $2}' "$TMP/time"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
declare -A T
for r in $(seq "$RUNS"); do
  T[preset]+="$(cpu "$BIN" fit --model noise:exponential) "
  T[custom]+="$(cpu "$BIN" fit --model noise:custom --noise-formula 'a*exp(b*x)') "
  [ -n "$BASE" ] && T[before]+="$(cpu "$BASE" fit --model noise:exponential) "
done
echo "nb_exp N = 40, default settings (2 chains x 20,000 gradients), $RUNS runs each, CPU-s median (runs)"
p=$(echo "${T[preset]}" | median); c=$(echo "${T[custom]}" | median)
printf '%-34s %6.2f  (%s)\n' "noise:exponential (preset)" "$p" "${T[preset]}" "custom a*exp(b*x)" "$c" "${T[custom]}"
if [ -n "$BASE" ]; then
  b=$(echo "${T[before]}" | median)
  printf '%-34s %6.2f  (%s)\n' "noise:exponential before (BASE_BIN)" "$b" "${T[before]}"
  awk -v c="$c" -v b="$b" 'BEGIN {printf "custom / hand-written exponential: %.2fx (target <= 2x)\n", c / b}'
fi
awk -v c="$c" -v p="$p" 'BEGIN {printf "custom / preset: %.2fx (target <= 2x)\n", c / p}'
[ -n "$BASE" ] || exit 0
python3 -c 'import numpy' 2>/dev/null || python3 -m pip install --user -q numpy
echo
echo "NLL (nll_exact) of each built-in law, before (BASE_BIN) and after, seeds ${SEEDS[*]}"
printf '%-8s %-18s %4s %9s %9s %9s\n' data model seed before after diff
for pair in "nb_exp noise:exponential" "nb_step noise:step" "bump noise:bump" "linear noise:linear"; do
  set -- $pair
  for seed in "${SEEDS[@]}"; do
    for which in before after; do
      bin="$BIN"; [ "$which" = before ] && bin="$BASE"
      "$bin" fit --data "$DATA/$1_train.csv" --model "$2" --grid "$DATA/$1_test.csv" --out "$TMP/$which.csv" --seed "$seed" --quiet >/dev/null 2>&1
    done
    python3 - "$DATA/eval.py" "$DATA/$1_test.csv" "$TMP/before.csv" "$TMP/after.csv" "$1" "$2" "$seed" <<'PY'
import json, subprocess, sys
ev, test, b, a, d, m, s = sys.argv[1:]
nll = lambda p: json.loads(subprocess.check_output([sys.executable, ev, test, p]))['nll_exact']
nb, na = nll(b), nll(a)
print('%-8s %-18s %4s %9.3f %9.3f %+9.3f' % (d, m, s, nb, na, na - nb))
PY
  done
done
