#!/usr/bin/env python3
"""Fidelity of the fast methods against the NUTS reference (issue 10, section 4).

Usage: fidelity.py REF_DIR RUN_DIR   (both hold DATA__MODEL[__METHOD].csv predictions on the
test grid and .txt stderr reports of `bayesband fit`; see benches/fidelity.sh).

For every fast fit held against the reference fit of the same data and model, on the grid:
  dmean  = mean over x of |mean - mean_ref| / sd_total_ref   (0 is perfect)
  epi    = mean sd_epistemic / the reference's               (1 is perfect)
  ale    = mean sd_aleatoric / the reference's               (1 is perfect)
  theta  = for each noise parameter the overlap of its 95% interval with the reference's,
           |A n B| / |A u B| (1 identical, 0 disjoint); the smallest over the parameters
  R-hat  = the fit's largest split R-hat (noise parameters and the mean at 5 x), as reported
  CPU-s  = the fit's process CPU seconds (user + system)
Only the standard library: the CSVs are small.
"""
import csv
import os
import re
import sys


def read_pred(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    cols = ("mean", "sd_epistemic", "sd_aleatoric", "sd_total")
    return {c: [float(r[c]) for r in rows] for c in ("x",) + cols}


def read_report(path):
    """The param table, the max R-hat, CPU-s, warnings and the NUTS lines of a .txt report."""
    params, rhat, cpu, warnings, extra = {}, None, None, [], {}
    in_table = False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("param "):
                in_table = True
                continue
            if in_table:
                parts = line.split()
                if len(parts) >= 5 and not line.startswith(("max ", "warning:", "note:", "divergences:")):
                    try:
                        params[parts[0]] = (float(parts[1]), float(parts[2]), float(parts[3]))
                        continue
                    except ValueError:
                        pass
                in_table = False
            m = re.match(r"max split R-hat .*: ([0-9.]+)", line)
            if m:
                rhat = float(m.group(1))
            m = re.match(r"cpu_s ([0-9.]+)", line)
            if m:
                cpu = float(m.group(1))
            if line.startswith("warning:"):
                warnings.append(line)
            m = re.match(r"divergences: (\d+)", line)
            if m:
                extra["div"] = int(m.group(1))
            m = re.search(r"mean tree depth ([0-9.]+)", line)
            if m:
                extra["depth"] = float(m.group(1))
    return {"params": params, "rhat": rhat, "cpu": cpu, "warnings": warnings, **extra}


def mean(v):
    return sum(v) / len(v)


def overlap(a, b):
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    union = max(a[1], b[1]) - min(a[0], b[0])
    return max(0.0, hi - lo) / union if union > 0 else 1.0


def main():
    ref_dir, run_dir = sys.argv[1], sys.argv[2]
    refs = sorted(f[:-4] for f in os.listdir(ref_dir) if f.endswith(".csv"))
    header = "%-8s %-18s %-6s %7s %6s %6s %6s %6s %7s" % (
        "data", "model", "method", "dmean", "epi", "ale", "theta", "R-hat", "CPU-s")
    print(header)
    detail = []
    for key in refs:
        data, model = key.split("__")
        if not any(f.startswith(key + "__") and f.endswith(".csv") for f in os.listdir(run_dir)):
            continue
        ref = read_pred(os.path.join(ref_dir, key + ".csv"))
        rrep = read_report(os.path.join(ref_dir, key + ".txt"))
        rh = "%6.3f" % rrep["rhat"] if rrep["rhat"] else "     -"
        cpu = "%7.1f" % rrep["cpu"] if rrep["cpu"] else "      -"
        print("%-8s %-18s %-6s %7s %6s %6s %6s %s %s" % (data, model, "NUTS", "ref", "1", "1", "1", rh, cpu))
        for f in sorted(os.listdir(run_dir)):
            m = re.fullmatch(re.escape(key) + r"__([a-z]+)\.csv", f)
            if not m:
                continue
            method = m.group(1)
            fit = read_pred(os.path.join(run_dir, f))
            rep = read_report(os.path.join(run_dir, f[:-4] + ".txt"))
            # The stored references keep 7 significant digits.
            if len(fit["x"]) != len(ref["x"]) or any(abs(a - b) > 1e-6 * (1 + abs(b)) for a, b in zip(fit["x"], ref["x"])):
                sys.exit("error: %s is not on the reference's grid" % f)
            dmean = mean([abs(a - b) / s for a, b, s in zip(fit["mean"], ref["mean"], ref["sd_total"])])
            epi = mean(fit["sd_epistemic"]) / mean(ref["sd_epistemic"])
            ale = mean(fit["sd_aleatoric"]) / mean(ref["sd_aleatoric"])
            ov = [(name, overlap(p[1:], rrep["params"][name][1:]))
                  for name, p in rep["params"].items() if name in rrep["params"]]
            theta = "%6.2f" % min(o for _, o in ov) if ov else "     -"
            if ov:
                detail.append("%s %s %s: %s" % (data, model, method,
                              ", ".join("%s %.2f" % o for o in ov)))
            rh = "%6.3f" % rep["rhat"] if rep["rhat"] else "     -"
            cpu = "%7.2f" % rep["cpu"] if rep["cpu"] is not None else "      -"
            print("%-8s %-18s %-6s %7.3f %6.2f %6.2f %s %s %s" % (data, model, method, dmean, epi, ale, theta, rh, cpu))
    if detail:
        print("\ntheta: 95% interval overlap with the reference, per parameter")
        for d in detail:
            print("  " + d)


if __name__ == "__main__":
    main()
