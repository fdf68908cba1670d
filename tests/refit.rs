//! A refit from the previous posterior after new points (`Fit::warm_from`, the page's
//! Measure next): close to a fresh fit of the same points, for a fraction of its
//! gradients; chains run apart refit bit for bit as the whole fit's chains; a failed
//! previous fit is refused.
#![cfg(not(target_arch = "wasm32"))]

use bayesband::config::{FitConfig, Method, ModelKind, REFIT};
use bayesband::data::synthetic::Synthetic;
use bayesband::data::Dataset;
use bayesband::infer::Fit;

fn finish(mut fit: Fit) -> Fit {
    while !fit.is_finished() {
        fit.step(25).unwrap();
    }
    fit
}

/// The default NUTS fit (2 chains x (300 warm-up + 300 draws), depth 7, extending) on a
/// smaller network, so that a test takes seconds.
fn config() -> FitConfig {
    let mut c = FitConfig::default();
    assert_eq!(c.inference.method, Method::Nuts, "the default method");
    c.model.kind = ModelKind::TwoHead;
    c.model.hidden = vec![16, 8];
    c.inference.seed = 4;
    c
}

/// The data plus one point drawn from the truth at `x`.
fn plus_one(d: &Dataset, x: f64) -> Dataset {
    let mut d2 = d.clone();
    let (_, y) = d.truth.unwrap().fresh_draws(&[x], 1, 99);
    d2.x.push(x);
    d2.y.push(y[0]);
    d2
}

#[test]
fn a_refit_after_one_point_is_close_to_a_fresh_fit_for_at_most_a_third_of_its_gradients() {
    let data = Synthetic::Bump.generate(80, 2);
    let cfg = config();
    let prev = finish(Fit::new(cfg.clone(), &data).unwrap());
    let data2 = plus_one(&data, 0.1);
    let warm = Fit::warm_from(&prev, &data2).unwrap();
    assert!(warm.is_refit() && warm.origin() == &cfg);
    assert_eq!(warm.config.inference.warmup, REFIT.nuts_warmup);
    assert_eq!(warm.config.inference.draws, REFIT.nuts_draws);
    let mut warm = finish(warm);
    let mut fresh = finish(Fit::new(cfg.clone(), &data2).unwrap());
    let (gw, gf) = (warm.gradients(), fresh.gradients());
    eprintln!("refit {gw} gradients per chain ({} kept), fresh {gf} ({} kept)", warm.draws_kept(), fresh.draws_kept());
    assert!(3 * gw <= gf, "refit {gw} gradients per chain, fresh {gf}");

    // A second fresh fit of another seed: the Monte Carlo spread between two fits.
    let mut other = cfg.clone();
    other.inference.seed += 100;
    let mut fresh2 = finish(Fit::new(other, &data2).unwrap());
    let grid = data2.grid(60, 0.0);
    let (sw, sf, s2) = (warm.snapshot(&grid), fresh.snapshot(&grid), fresh2.snapshot(&grid));
    assert!(sw.warm && !sf.warm);
    assert!(sw.notes.iter().any(|n| n.starts_with("refit from the posterior of the previous fit (80 points)")), "{:?}", sw.notes);
    let (w, f) = (&sw.summary, &sf.summary);
    // The mean within a fifth of the posterior's total sd on average, and nowhere beyond
    // 0.6 sd or 1.5 times the largest gap between the two fresh fits (the seed-to-seed
    // spread, which on some seeds alone reaches 0.56: measured over seeds 0-7).
    let gap = |a: &[f64], b: &[f64]| -> (f64, f64) {
        let z: Vec<f64> = (0..grid.len()).map(|i| (a[i] - b[i]).abs() / f.sd_total[i]).collect();
        (z.iter().sum::<f64>() / z.len() as f64, z.iter().cloned().fold(0.0, f64::max))
    };
    let (mean_z, max_z) = gap(&w.mean, &f.mean);
    let (_, max_seeds) = gap(&s2.summary.mean, &f.mean);
    eprintln!("|mean difference| / sd: mean {mean_z:.3}, max {max_z:.3}; fresh vs fresh max {max_seeds:.3}");
    assert!(
        mean_z < 0.2 && max_z < f64::max(0.6, 1.5 * max_seeds),
        "|mean difference| / sd: mean {mean_z:.3}, max {max_z:.3} (fresh vs fresh: max {max_seeds:.3})"
    );
    // The bands as wide: the noise sd and the epistemic sd within 30% / a factor 1.6 (median).
    let mut ra: Vec<f64> = (0..grid.len()).map(|i| w.sd_aleatoric[i] / f.sd_aleatoric[i]).collect();
    let mut re: Vec<f64> = (0..grid.len()).map(|i| w.sd_epistemic[i] / f.sd_epistemic[i]).collect();
    ra.sort_by(f64::total_cmp);
    re.sort_by(f64::total_cmp);
    let (ma, me) = (ra[ra.len() / 2], re[re.len() / 2]);
    assert!((0.7..1.43).contains(&ma), "aleatoric sd ratio {ma:.3}");
    assert!((0.62..1.6).contains(&me), "epistemic sd ratio {me:.3}");
    assert!(w.mean.iter().chain(&w.sd_total).all(|v| v.is_finite()));
}

#[test]
fn chains_run_apart_refit_as_the_whole_fit_does_and_refits_chain() {
    let mut cfg = config();
    cfg.inference.extend = false; // chains apart would wait for the pool's extend decision
    cfg.inference.warmup = 60;
    cfg.inference.draws = 40;
    let data = Synthetic::NbExp.generate(40, 3);
    let data2 = plus_one(&data, 2.5);
    let whole = finish(Fit::new(cfg.clone(), &data).unwrap());
    let whole2 = finish(Fit::warm_from(&whole, &data2).unwrap());
    let per = whole2.draws().len() / 2;
    for c in [0usize, 1] {
        let apart = finish(Fit::new_chains(cfg.clone(), &data, &[c]).unwrap());
        let apart2 = finish(Fit::warm_from(&apart, &data2).unwrap());
        assert_eq!(apart2.chain_indices(), vec![c]);
        assert_eq!(apart2.draws(), whole2.draws()[c * per..(c + 1) * per].to_vec(), "chain {c}");
    }
    // A refit of a refit keeps the settings asked for, and the budget of a refit.
    let data3 = plus_one(&data2, -0.5);
    let again = finish(Fit::warm_from(&whole2, &data3).unwrap());
    assert_eq!(again.origin(), &cfg);
    assert_eq!(again.draws().len(), whole2.draws().len());
}

#[test]
fn a_step_sampler_refits_on_a_quarter_of_its_steps_and_a_failed_fit_is_not_refitted() {
    let mut cfg = config();
    cfg.inference.method = Method::Psgld;
    cfg.inference.steps = 4000;
    let data = Synthetic::NbExp.generate(40, 3);
    let prev = finish(Fit::new(cfg.clone(), &data).unwrap());
    let mut warm = finish(Fit::warm_from(&prev, &plus_one(&data, 1.0)).unwrap());
    assert_eq!(warm.total_steps(), (4000.0 * REFIT.steps_frac) as usize);
    assert!(warm.draws_kept() > 0);
    let s = warm.snapshot(&data.grid(20, 0.0));
    assert!(s.summary.mean.iter().chain(&s.summary.sd_total).all(|v| v.is_finite()));

    // A diverged fit (pSGLD at a step size far too large, as in tests/faults.rs).
    let d = Synthetic::NbExp.generate(40, 0);
    let mut bad_cfg = FitConfig::default();
    bad_cfg.inference.method = Method::Psgld;
    bad_cfg.inference.step_size = 5e-2;
    let mut bad = Fit::new(bad_cfg, &d).unwrap();
    while !bad.is_finished() && bad.step(500).is_ok() {}
    assert!(bad.error().is_some(), "pSGLD at 5e-2 diverges");
    let e = Fit::warm_from(&bad, &d).err().expect("a refit of a failed fit is refused");
    assert!(e.to_string().contains("fit afresh"), "{e}");
}
