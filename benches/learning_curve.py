#!/usr/bin/env python3
"""Learning curves of the acquisitions (issue 14): start from 10 points of a generated set,
then 20 rounds of "fit, suggest the next x, measure y there, add it", for epistemic,
information gain, total variance and random x, on the same start, over seeds.

A measurement at x draws y from the generator's truth: f(x) + sigma(x) N(0, 1), with f and
sigma interpolated on its 400-point truth grid (`bayesband generate --truth`). After each
round the fit that made the suggestion (same data, seed and settings) is scored against the
truth (`bayesband fit --truth`: rmse_mean, nll). Prints, per acquisition, the median over
seeds of the RMSE of the mean after each round, and the points each needed to reach the
target RMSE (the median start's RMSE halved, or --target).

Usage: learning_curve.py BIN [--data bump] [--rounds 20] [--start 10] [--seeds 0,1,2]
"""
import argparse, bisect, csv, math, os, random, re, statistics, subprocess, sys, tempfile

p = argparse.ArgumentParser()
p.add_argument("bin")
p.add_argument("--data", default="bump")
p.add_argument("--model", default="two-head")
p.add_argument("--rounds", type=int, default=20)
p.add_argument("--start", type=int, default=10)
p.add_argument("--seeds", default="0,1,2")
p.add_argument("--target", type=float, default=None)
a = p.parse_args()
tmp = tempfile.mkdtemp()
truth = os.path.join(tmp, "truth.csv")


DIVERGED = []


def sh(args, ok_diverged=False):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode == 1 and ok_diverged:
        DIVERGED.append(" ".join(args))
        return None
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{r.stderr}")
    return r


start_csv = sh([a.bin, "generate", a.data, "--n", "400", "--seed", "99", "--truth", truth]).stdout
rows = list(csv.DictReader(open(truth)))
gx = [float(r["x"]) for r in rows]
gf = [float(r["f_true"]) for r in rows]
gs = [float(r["sigma_true"]) for r in rows]
lo, hi = gx[0], gx[-1]


def interp(v, x):
    i = min(max(bisect.bisect_left(gx, x), 1), len(gx) - 1)
    t = (x - gx[i - 1]) / (gx[i] - gx[i - 1])
    return v[i - 1] + t * (v[i] - v[i - 1])


def measure(x, rng):
    return interp(gf, x) + interp(gs, x) * rng.gauss(0, 1)


def score(pts, seed):
    d = os.path.join(tmp, "d.csv")
    with open(d, "w") as f:
        f.write("x,y\n" + "".join(f"{x!r},{y!r}\n" for x, y in pts))
    r = sh([a.bin, "fit", "--data", d, "--model", a.model, "--grid", truth, "--out", os.path.join(tmp, "p.csv"),
            "--truth", truth, "--seed", str(seed), "--quiet"], ok_diverged=True)
    if r is None:  # a diverged fit: no score this round (counted and reported)
        return float("nan"), float("nan")
    m = re.search(r"rmse_mean (\S+).*nll (\S+)", r.stderr)
    return float(m.group(1)), float(m.group(2))


def suggest(pts, acq, seed, rng):
    if acq == "random":
        return rng.uniform(lo, hi)
    d = os.path.join(tmp, "d.csv")
    with open(d, "w") as f:
        f.write("x,y\n" + "".join(f"{x!r},{y!r}\n" for x, y in pts))
    r = sh([a.bin, "suggest", "--data", d, "--model", a.model, "--acquisition", acq, "--seed", str(seed),
            "--range", f"{lo},{hi}", "--quiet"], ok_diverged=True)
    if r is None:  # the fit diverged: this round measures at a random x (counted and reported)
        return rng.uniform(lo, hi)
    return float(r.stdout.split()[0])


acqs = ["epistemic", "infogain", "total", "random"]
curves = {q: [] for q in acqs}
for seed in [int(s) for s in a.seeds.split(",")]:
    srng = random.Random(1000 + seed)
    start = [(x, measure(x, srng)) for x in (srng.uniform(lo, hi) for _ in range(a.start))]
    for q in acqs:
        rng = random.Random(2000 + seed)  # the same measurement noise stream for every acquisition
        pts = list(start)
        rmse = [score(pts, seed)[0]]
        xs = []
        for _ in range(a.rounds):
            x = suggest(pts, q, seed, rng)
            xs.append(x)
            pts.append((x, measure(x, rng)))
            r = score(pts, seed)[0]
            rmse.append(r if not math.isnan(r) else rmse[-1])
        curves[q].append(rmse)
        noisy = sum(1 for x in xs if interp(gs, x) > statistics.median(gs))
        print(f"seed {seed} {q:9s} rmse {rmse[0]:.3f} -> {rmse[-1]:.3f}; {noisy} of {len(xs)} picks where sigma is above its median",
              flush=True)

target = a.target or 0.5 * statistics.median(c[0] for c in curves["random"])
print(f"\nmedian RMSE of the mean over seeds, after 0, 5, 10, 15, 20 added points (target {target:.3f}):")
for q in acqs:
    med = [statistics.median(c[k] for c in curves[q]) for k in range(a.rounds + 1)]
    reach = next((k for k, v in enumerate(med) if v <= target), None)
    print(f"  {q:9s} " + "  ".join(f"{med[k]:.3f}" for k in range(0, a.rounds + 1, 5))
          + f"   points to reach the target: {a.start + reach if reach is not None else 'not within ' + str(a.start + a.rounds)}")
print(f"diverged default fits (each counted once per call; their round kept the previous RMSE or measured at random): {len(DIVERGED)}")
