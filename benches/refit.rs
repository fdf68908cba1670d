//! Issue 14's target: a refit from the previous posterior after adding one point
//! (`Fit::warm_from`, the page's Measure next) takes at most a third of a fresh
//! default fit's time. For each seed: a default fit (NUTS, two-head [32,16,8]) of bump
//! N = 150, one point drawn from the truth at the epistemic acquisition's pick, then a
//! fresh default fit of the 151 points and a refit of them from the first fit; both on
//! one thread (the chains one after the other), timed in CPU (wall) seconds, with the
//! gradients per chain. Medians over the seeds, and the ratio.
//!
//! Run with `cargo bench --bench refit` (a plain `harness = false` binary); `-- --seeds 3`.

use std::time::Instant;

use bayesband::config::{FitConfig, ModelKind};
use bayesband::data::synthetic::Synthetic;
use bayesband::infer::Fit;
use bayesband::summary::acquisition::{candidate_grid, Acquisition, AcquisitionKind};

fn finish(mut fit: Fit) -> Fit {
    while !fit.is_finished() {
        fit.step(50).expect("the fit runs");
    }
    fit
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds: u64 = args.iter().position(|a| a == "--seeds").and_then(|i| args.get(i + 1)).and_then(|s| s.parse().ok()).unwrap_or(3);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| t.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("machine: {cpu}, {} cores; load {}", std::thread::available_parallelism().map_or(0, |n| n.get()), load.split_whitespace().next().unwrap_or("?"));
    let d = FitConfig::default().inference;
    println!(
        "bump N = 150 + 1 point, default fit (NUTS {} x ({} + {}), depth {}, extend {}), one thread",
        d.chains, d.warmup, d.draws, d.max_depth, d.extend
    );
    println!("seed  fresh s  refit s  ratio  fresh grad/chain  refit grad/chain  refit draws");
    let (mut tf, mut tw, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for seed in 0..seeds {
        let data = Synthetic::Bump.generate(150, seed + 1);
        let mut cfg = FitConfig::default();
        cfg.model.kind = ModelKind::TwoHead;
        cfg.inference.seed = seed;
        let mut first = finish(Fit::new(cfg.clone(), &data).unwrap());
        let (lo, hi) = data.x_range();
        let x = first.suggest(Acquisition::new(AcquisitionKind::Epistemic), &candidate_grid(lo, hi, 200), 1)[0].0;
        let (_, y) = data.truth.unwrap().fresh_draws(&[x], 1, seed);
        let mut data2 = data.clone();
        data2.x.push(x);
        data2.y.push(y[0]);

        let t0 = Instant::now();
        let fresh = finish(Fit::new(cfg.clone(), &data2).unwrap());
        let fresh_s = t0.elapsed().as_secs_f64();
        let t0 = Instant::now();
        let refit = finish(Fit::warm_from(&first, &data2).unwrap());
        let refit_s = t0.elapsed().as_secs_f64();
        let r = refit_s / fresh_s;
        println!(
            "{seed:>4}  {fresh_s:>7.2}  {refit_s:>7.2}  {r:>5.2}  {:>16}  {:>16}  {:>11}",
            fresh.gradients(),
            refit.gradients(),
            refit.draws_kept()
        );
        tf.push(fresh_s);
        tw.push(refit_s);
        ratios.push(r);
    }
    println!(
        "median: fresh {:.2} s, refit {:.2} s, refit / fresh {:.2} (target <= 0.33)",
        median(tf),
        median(tw),
        median(ratios)
    );
}
