#!/usr/bin/env bash
# Fidelity benchmark (issue 10, section 4): each fast method at its defaults held against a
# NUTS reference of the same data and model, on the four reference sets of benches/data x
# {homoskedastic, two-head, the matching noise law}. The table's columns: benches/fidelity.py.
#
#   benches/fidelity.sh [SEED]                  the table, against the stored references
#                                               (benches/reference/; a few minutes)
#   benches/fidelity.sh --recompute [DATA...]   recompute the references (NUTS, 4 chains x
#                                               (1000 warm-up + 1000 draws), seed 0; hours)
# Environment: FIDELITY_METHODS (default "nuts psgld sgld vi": the default NUTS fit and the fast methods), FIDELITY_ARGS (extra flags for the
# fast fits, e.g. "--steps 80000" to try other settings), FIDELITY_ONLY (a regex of the
# DATA__MODEL references to use or, with --recompute, to recompute), BAYESBAND_BIN, BAYESBAND_FIDELITY_OUT (keep the fits there).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/benches/data"
REF="$ROOT/benches/reference"
# BAYESBAND_BIN: a binary to use instead of building one (e.g. a copy, for hours-long runs).
if [ -z "${BAYESBAND_BIN:-}" ]; then
  cargo build --release --quiet --bin bayesband --manifest-path "$ROOT/Cargo.toml"
fi
BIN="${BAYESBAND_BIN:-$ROOT/target/release/bayesband}"
machine() { echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"; }
law() { case "$1" in nb_exp) echo exponential ;; nb_step) echo step ;; *) echo "$1" ;; esac; }
# fit OUT_BASE DATA MODEL ARGS...: predictions OUT_BASE.csv, stderr report + CPU-s in OUT_BASE.txt
fit() {
  local out="$1" d="$2" model="$3"; shift 3
  local t; t="$(mktemp)"
  TIMEFORMAT='%U %S'
  { time "$BIN" fit --data "$DATA/${d}_train.csv" --model "$model" --grid "$DATA/${d}_test.csv" \
      --out "$out.csv" "$@" >/dev/null 2>"$out.txt"; } 2>"$t" || true
  echo "cpu_s $(awk '{print $1 + $2}' "$t")" >> "$out.txt"
  rm -f "$t"
}
SETS=(nb_exp nb_step bump linear)
# The reference: NUTS at NeuroBayes's settings (1000 warm-up + 1000 draws, depth 10), 4 chains.
REF_ARGS="--method nuts --chains 4 --seed 0 --warmup 1000 --draws 1000 --max-depth 10"
if [ "${1:-}" = "--recompute" ]; then
  shift
  [ $# -gt 0 ] && SETS=("$@")
  mkdir -p "$REF"
  for d in "${SETS[@]}"; do
    for model in homoskedastic two-head "noise:$(law "$d")"; do
      [[ "${d}__${model}" =~ ${FIDELITY_ONLY:-.} ]] || continue
      base="$REF/${d}__${model}"
      echo "$(machine)" > "$base.cmd"
      # NeuroBayes's NUTS settings, spelled out (the default NUTS fit is a shorter one).
      echo "bayesband fit --data benches/data/${d}_train.csv --model $model --grid benches/data/${d}_test.csv $REF_ARGS" >> "$base.cmd"
      fit "$base" "$d" "$model" $REF_ARGS
      # keep the stored predictions small: 7 significant digits
      python3 - "$base.csv" <<'PY'
import csv, sys
p = sys.argv[1]
rows = list(csv.reader(open(p)))
with open(p, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(rows[0])
    for r in rows[1:]:
        w.writerow(["%.7g" % float(v) for v in r])
PY
      echo "$d $model: $(grep -E '^(max split|divergences|cpu_s)' "$base.txt" | tr '\n' ' ')"
    done
  done
  exit 0
fi
SEED="${1:-0}"
TMP="${BAYESBAND_FIDELITY_OUT:-$(mktemp -d)}"; [ -n "${BAYESBAND_FIDELITY_OUT:-}" ] || trap 'rm -rf "$TMP"' EXIT; mkdir -p "$TMP"
machine
echo "fast methods at their defaults, seed $SEED, against NUTS references of benches/reference (4 chains x (1000 + 1000) draws, seed 0)"
for ref in "$REF"/*.csv; do
  key="$(basename "$ref" .csv)"; d="${key%%__*}"; model="${key#*__}"
  [[ "$key" =~ ${FIDELITY_ONLY:-.} ]] || continue
  for m in ${FIDELITY_METHODS:-nuts psgld sgld vi}; do
    # shellcheck disable=SC2086
    fit "$TMP/${key}__$m" "$d" "$model" --method "$m" --seed "$SEED" ${FIDELITY_ARGS:-}
  done
done
python3 "$ROOT/benches/fidelity.py" "$REF" "$TMP"
