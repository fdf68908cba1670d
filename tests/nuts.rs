//! NUTS (src/infer/nuts.rs) against independent truth: the analytic posterior of
//! Bayesian linear regression, recovery of a noise law's known parameters, and
//! determinism by seed. Small budgets: seconds.
#![cfg(not(target_arch = "wasm32"))]

use bayesband::config::{ModelConfig, ModelKind, NoiseLawKind};
use bayesband::data::{Dataset, Scaling};
use bayesband::infer::nuts::{NutsChain, NutsOptions};
use bayesband::model::{Model, Noise};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

const SIGMA: f64 = 0.5;

fn linear_data() -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let x: Vec<f64> = (0..50).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
    let y = x.iter().map(|&v| 0.7 * v - 0.3 + SIGMA * rng.sample::<f64, _>(StandardNormal)).collect();
    Dataset::new(x, y)
}

/// Posterior of (w, b) under y = w x + b + N(0, SIGMA^2), w, b ~ N(0, 1).
fn analytic_posterior(d: &Dataset) -> ([f64; 2], [[f64; 2]; 2]) {
    let s2 = SIGMA * SIGMA;
    let (mut sxx, mut sx, mut sxy, mut sy) = (0.0, 0.0, 0.0, 0.0);
    for (&x, &y) in d.x.iter().zip(&d.y) {
        sxx += x * x;
        sx += x;
        sxy += x * y;
        sy += y;
    }
    let n = d.x.len() as f64;
    let l = [[sxx / s2 + 1.0, sx / s2], [sx / s2, n / s2 + 1.0]];
    let det = l[0][0] * l[1][1] - l[0][1] * l[1][0];
    let cov = [[l[1][1] / det, -l[0][1] / det], [-l[1][0] / det, l[0][0] / det]];
    let rhs = [sxy / s2, sy / s2];
    let mean = [cov[0][0] * rhs[0] + cov[0][1] * rhs[1], cov[1][0] * rhs[0] + cov[1][1] * rhs[1]];
    (mean, cov)
}

/// The model on raw data (identity scaling): parameters are in data units.
fn raw_model(cfg: &ModelConfig, d: &Dataset) -> Model {
    Model::new(cfg, &d.x, &Scaling::identity(), 1.0)
}

/// Run `chains` chains; the kept draws of each and the chains themselves.
fn sample(model: &Model, d: &Dataset, opts: NutsOptions, seed: u64, chains: u64) -> (Vec<Vec<Vec<f64>>>, Vec<NutsChain>) {
    let mut all = Vec::new();
    let mut done = Vec::new();
    for c in 0..chains {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed * 100 + c);
        let start = model.init(&mut rng);
        let mut chain = NutsChain::new(model.clone(), d.x.clone(), d.y.clone(), opts, &start, seed, c).unwrap();
        let mut kept = Vec::new();
        while !chain.is_finished() {
            let (p, info) = chain.draw().unwrap();
            if !info.warmup {
                kept.push(p);
            }
        }
        all.push(kept);
        done.push(chain);
    }
    (all, done)
}

#[test]
fn nuts_matches_the_conjugate_posterior_mean_and_covariance() {
    let d = linear_data();
    let (pm, pc) = analytic_posterior(&d);
    let cfg = ModelConfig { kind: ModelKind::Homoskedastic, hidden: vec![], fixed_sigma: Some(SIGMA), ..ModelConfig::default() };
    let model = raw_model(&cfg, &d);
    assert_eq!(model.dim(), 2);
    let opts = NutsOptions { warmup: 500, draws: 2000, ..NutsOptions::default() };
    let (chains, done) = sample(&model, &d, opts, 3, 2);
    let draws: Vec<Vec<f64>> = chains.into_iter().flatten().collect();
    let n = draws.len() as f64;
    assert_eq!(draws.len(), 4000);
    let m = [draws.iter().map(|p| p[0]).sum::<f64>() / n, draws.iter().map(|p| p[1]).sum::<f64>() / n];
    let mut c = [[0.0; 2]; 2];
    for p in &draws {
        for i in 0..2 {
            for j in 0..2 {
                c[i][j] += (p[i] - m[i]) * (p[j] - m[j]) / (n - 1.0);
            }
        }
    }
    // NUTS on a 2-D Gaussian gives ~4000 effective draws: the Monte-Carlo error of a
    // mean is ~0.016 sd and of a variance ~2.2%; the bounds are ~5 of those.
    for i in 0..2 {
        let sd = pc[i][i].sqrt();
        assert!((m[i] - pm[i]).abs() < 0.08 * sd, "mean {i}: {} vs analytic {} (sd {sd})", m[i], pm[i]);
        let ratio = c[i][i] / pc[i][i];
        assert!((0.9..1.1).contains(&ratio), "variance {i}: ratio {ratio}");
    }
    let corr = c[0][1] / (c[0][0] * c[1][1]).sqrt();
    let pcorr = pc[0][1] / (pc[0][0] * pc[1][1]).sqrt();
    assert!((corr - pcorr).abs() < 0.05, "correlation {corr} vs {pcorr}");
    for ch in &done {
        let s = &ch.stats;
        assert_eq!(s.divergences, 0, "a Gaussian has no divergences");
        assert_eq!(s.kept, 2000);
        // A 2-D Gaussian needs a few leapfrog steps per draw, never the maximum depth.
        assert!((1.0..5.0).contains(&s.mean_depth()) && s.at_max_depth == 0, "depth {}", s.mean_depth());
        assert!(s.step_size > 0.0 && s.gradients > 2500, "{s:?}");
    }
}

/// y = sin(1.5 x) + x / 2 + sigma(x) eps with sigma(x) = 0.15 exp(0.5 x), x in [-2, 2].
fn exponential_law_data(n: usize, seed: u64) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut x: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
    x[0] = -2.0;
    x[1] = 2.0;
    let y = x.iter().map(|&v| (1.5 * v).sin() + 0.5 * v + 0.15 * (0.5 * v).exp() * rng.sample::<f64, _>(StandardNormal)).collect();
    Dataset::new(x, y)
}

#[test]
fn nuts_recovers_the_noise_law_parameters() {
    let truth = [0.15, 0.5];
    let d = exponential_law_data(300, 42);
    let cfg = ModelConfig {
        kind: ModelKind::NoiseModel,
        noise_law: NoiseLawKind::named("exponential"),
        hidden: vec![5],
        ..ModelConfig::default()
    };
    let model = raw_model(&cfg, &d);
    let Noise::Law(law) = &model.noise else { unreachable!() };
    // A depth limit of 7 keeps the test in seconds; NUTS stays a valid MCMC under it.
    let opts = NutsOptions { warmup: 200, draws: 250, max_depth: 7, ..NutsOptions::default() };
    let (chains, _) = sample(&model, &d, opts, 1, 2);
    let nd = model.mlp.dim();
    let theta: Vec<Vec<f64>> =
        chains.iter().flatten().map(|p| law.to_data_units(&p[nd..])).collect();
    for (k, &t) in truth.iter().enumerate() {
        let mut v: Vec<f64> = theta.iter().map(|th| th[k]).collect();
        v.sort_by(f64::total_cmp);
        let (lo, hi) = (v[v.len() * 25 / 1000], v[v.len() * 975 / 1000]);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (hi - lo) / 3.92;
        assert!(sd > 0.0 && (mean - t).abs() < 3.0 * sd, "theta {k}: {mean} [{lo}, {hi}] vs true {t}");
        assert!(hi - lo < 0.5 * t.abs(), "theta {k}: interval [{lo}, {hi}] too wide to test anything");
    }
}

#[test]
fn same_seed_gives_identical_draws_and_another_seed_differs() {
    let d = exponential_law_data(40, 1);
    let cfg = ModelConfig { kind: ModelKind::TwoHead, hidden: vec![6], ..ModelConfig::default() };
    let model = raw_model(&cfg, &d);
    let opts = NutsOptions { warmup: 60, draws: 40, ..NutsOptions::default() };
    let (a, ca) = sample(&model, &d, opts, 5, 2);
    let (b, cb) = sample(&model, &d, opts, 5, 2);
    assert_eq!(a, b);
    assert_eq!(ca[1].stats, cb[1].stats);
    // Chains of one seed differ from each other, and another seed differs.
    assert_ne!(a[0], a[1]);
    let (c, _) = sample(&model, &d, opts, 6, 2);
    assert_ne!(a, c);
}

#[test]
fn bad_settings_are_refused_with_a_message() {
    let d = linear_data();
    let cfg = ModelConfig { kind: ModelKind::Homoskedastic, hidden: vec![], fixed_sigma: Some(SIGMA), ..ModelConfig::default() };
    let model = raw_model(&cfg, &d);
    let start = vec![0.0; 2];
    for (opts, want) in [
        (NutsOptions { target_accept: 1.0, ..NutsOptions::default() }, "target acceptance"),
        (NutsOptions { max_depth: 0, ..NutsOptions::default() }, "tree depth"),
        (NutsOptions { draws: 0, ..NutsOptions::default() }, "kept draw"),
    ] {
        let e = NutsChain::new(model.clone(), d.x.clone(), d.y.clone(), opts, &start, 0, 0).unwrap_err();
        assert!(e.contains(want), "{e}");
    }
}

/// A fit of `extend`: (total draws per chain, its note, its warnings) after running to
/// the end on a tiny net and budget (warm-up 20, 8 draws, depth 3).
fn extending_fit(extend: bool, cap: usize) -> (usize, Vec<String>, Vec<String>) {
    use bayesband::config::{FitConfig, Method};
    use bayesband::infer::Fit;
    let data = exponential_law_data(40, 3);
    let mut c = FitConfig::default();
    c.model.kind = ModelKind::NoiseModel;
    c.model.noise_law = NoiseLawKind::named("exponential");
    c.model.hidden = vec![4];
    c.inference.method = Method::Nuts;
    c.inference.warmup = 20;
    c.inference.draws = 8;
    c.inference.max_depth = 3;
    c.inference.extend = extend;
    c.inference.extend_gradients = cap;
    let mut fit = Fit::new(c, &data).unwrap();
    while !fit.is_finished() {
        fit.step(3).unwrap();
    }
    let s = fit.snapshot(&data.grid(30, 0.0));
    (s.total_steps - 20, s.notes, s.warnings)
}

#[test]
fn an_extending_nuts_fit_draws_more_while_its_chains_disagree_and_says_why_it_stopped() {
    let (drawn, notes, _) = extending_fit(false, 100_000);
    assert_eq!(drawn, 8, "without extend the budget is exactly warm-up + draws");
    assert!(notes.iter().all(|n| !n.contains("disagree")), "{notes:?}");
    // 8 draws of chains started from prior draws disagree (checked: R-hat > 1.05), so
    // an extending fit draws more, 4 at a time.
    let (drawn, notes, warnings) = extending_fit(true, 3000);
    assert!(drawn > 8 && (drawn - 8) % 4 == 0, "drew {drawn}");
    let agreed = notes.iter().any(|n| n.contains(&format!("they agreed after {drawn}")));
    let capped = notes.iter().any(|n| n.contains(&format!("still disagreed after {drawn} draws")));
    assert!(agreed != capped, "exactly one reason to stop: {notes:?}");
    let unreliable = warnings.iter().any(|w| w.contains("disagree") || w.contains("the loss still"));
    assert_eq!(agreed, !unreliable, "it stops as agreed exactly when no reliability warning is left: {warnings:?}");
    // A small gradient cap stops it early, saying so, with the warnings kept.
    let (drawn_capped, notes, warnings) = extending_fit(true, 400);
    assert!(drawn_capped <= drawn, "{drawn_capped} > {drawn}");
    if drawn_capped < drawn {
        assert!(notes.iter().any(|n| n.contains("still disagreed")), "{notes:?}");
        assert!(!warnings.is_empty());
    }
}
