//! Statistical behaviour of the fits against independent truth: the analytic
//! posterior of Bayesian linear regression, recovery of known noise parameters,
//! calibration on fresh draws, and bit-for-bit reproducibility.
#![cfg(not(target_arch = "wasm32"))]

use bayesband::config::{FitConfig, Method, ModelKind, NoiseLawKind};
use bayesband::data::{Dataset, Synthetic};
use bayesband::infer::Fit;
use bayesband::summary::GridMetrics;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

fn run(cfg: FitConfig, data: &Dataset) -> Fit {
    let mut fit = Fit::new(cfg, data).expect("valid fit");
    while !fit.is_finished() {
        fit.step(2000).expect("no divergence");
    }
    fit
}

// ---------------------------------------------------------------------------
// Conjugate truth: no hidden layer + known noise sd = Bayesian linear regression.
// ---------------------------------------------------------------------------

const SIGMA: f64 = 0.5;

fn linear_data() -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let x: Vec<f64> = (0..50).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
    let y = x.iter().map(|&v| 0.7 * v - 0.3 + SIGMA * rng.sample::<f64, _>(StandardNormal)).collect();
    Dataset::new(x, y)
}

/// Posterior of (w, b) under y = w x + b + N(0, SIGMA^2), w, b ~ N(0, 1):
/// precision L = XᵀX / SIGMA² + I, mean = L⁻¹ Xᵀy / SIGMA².
fn analytic_posterior(d: &Dataset) -> ([f64; 2], [[f64; 2]; 2], [[f64; 2]; 2]) {
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
    (mean, cov, l)
}

fn conjugate_config(method: Method) -> FitConfig {
    let mut c = FitConfig::default();
    c.model.kind = ModelKind::Homoskedastic;
    c.model.hidden = vec![];
    c.model.fixed_sigma = Some(SIGMA);
    c.model.raw_scale = true;
    c.inference.method = method;
    c.inference.steps = 300_000;
    c.inference.method_for_step_budget(); // a step budget: pSGLD
    c.inference.draws = 4000;
    c.inference.seed = 3;
    c
}

fn sample_moments(draws: &[Vec<f64>]) -> ([f64; 2], [[f64; 2]; 2]) {
    // Parameter layout of the 1 -> 1 network: [w, b].
    let n = draws.len() as f64;
    let m = [draws.iter().map(|d| d[0]).sum::<f64>() / n, draws.iter().map(|d| d[1]).sum::<f64>() / n];
    let mut c = [[0.0; 2]; 2];
    for d in draws {
        for i in 0..2 {
            for j in 0..2 {
                c[i][j] += (d[i] - m[i]) * (d[j] - m[j]) / (n - 1.0);
            }
        }
    }
    (m, c)
}

/// Tolerances: means within 0.2 posterior sd (Monte-Carlo error of ~1000 effective
/// draws is ~0.03 sd; the rest allows the O(step) bias of a constant or slowly
/// decaying step), variances within 20%, correlation within 0.1.
fn assert_matches_posterior(what: &str, m: [f64; 2], c: [[f64; 2]; 2], pm: [f64; 2], pc: [[f64; 2]; 2]) {
    for i in 0..2 {
        let sd = pc[i][i].sqrt();
        assert!((m[i] - pm[i]).abs() < 0.2 * sd, "{what}: mean {i} {} vs analytic {} (sd {sd})", m[i], pm[i]);
        let ratio = c[i][i] / pc[i][i];
        assert!((0.8..1.2).contains(&ratio), "{what}: variance {i} ratio {ratio}");
    }
    let corr = c[0][1] / (c[0][0] * c[1][1]).sqrt();
    let pcorr = pc[0][1] / (pc[0][0] * pc[1][1]).sqrt();
    assert!((corr - pcorr).abs() < 0.1, "{what}: correlation {corr} vs {pcorr}");
}

#[test]
fn psgld_matches_conjugate_posterior_mean_and_covariance() {
    let d = linear_data();
    let (pm, pc, _) = analytic_posterior(&d);
    let mut cfg = conjugate_config(Method::Psgld);
    // A longer run than the default step's mixing time (~700 steps here) needs for
    // ~1000 effective draws; the sampler is valid for any constant step.
    cfg.inference.step_size = 5e-4;
    let fit = run(cfg, &d);
    let (m, c) = sample_moments(&fit.draws());
    assert_matches_posterior("pSGLD", m, c, pm, pc);
}

#[test]
fn sgld_matches_conjugate_posterior_mean_and_covariance() {
    let d = linear_data();
    let (pm, pc, _) = analytic_posterior(&d);
    let mut cfg = conjugate_config(Method::Sgld);
    // Per-point step 0.01: eps_0 = 2e-4, eps_0 x largest curvature (N / sigma^2 = 200) = 0.04.
    cfg.inference.sgld_step_size = 0.01;
    let fit = run(cfg, &d);
    let (m, c) = sample_moments(&fit.draws());
    assert_matches_posterior("SGLD", m, c, pm, pc);
}

#[test]
fn vi_with_full_kl_matches_conjugate_mean_and_mean_field_variances() {
    let d = linear_data();
    let (pm, _, prec) = analytic_posterior(&d);
    let mut cfg = conjugate_config(Method::Vi);
    cfg.inference.kl_weight = 1.0;
    cfg.inference.steps = 30_000;
    cfg.inference.method_for_step_budget(); // a step budget: pSGLD
    cfg.inference.chains = 1;
    cfg.inference.vi_lr = 1e-2;
    cfg.inference.vi_lr_final = 1e-4;
    let fit = run(cfg, &d);
    let (m, sd) = fit.variational_posterior(0).unwrap();
    for i in 0..2 {
        // Mean-field optimum for a Gaussian target: the exact mean, variance 1 / L_ii.
        let want_sd = (1.0 / prec[i][i]).sqrt();
        assert!((m[i] - pm[i]).abs() < 0.1 * want_sd, "VI mean {i}: {} vs {}", m[i], pm[i]);
        assert!((sd[i] / want_sd - 1.0).abs() < 0.1, "VI sd {i}: {} vs {want_sd}", sd[i]);
    }
}

// ---------------------------------------------------------------------------
// Recovery of known noise-law parameters from N = 2000 points.
// ---------------------------------------------------------------------------

/// N points with noise sd sigma(x) given by the law `law` (a preset's name, or one of
/// the custom formulas below) with parameters `truth`, x uniform on [-2, 2] (or on
/// `range`).
fn law_data(law: &str, truth: &[f64], n: usize, seed: u64) -> Dataset {
    law_data_on(law, truth, n, seed, (-2.0, 2.0))
}

fn law_data_on(law: &str, truth: &[f64], n: usize, seed: u64, (lo, hi): (f64, f64)) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let f = |x: f64| (1.5 * x).sin() + 0.5 * x;
    let sigma = |x: f64| -> f64 {
        let t = truth;
        match law {
            "constant" => t[0],
            "linear" => t[0] + (t[1] - t[0]) * (x - lo) / (hi - lo),
            "exponential" => t[0] * (t[1] * x).exp(),
            "logquad" => (t[0] + t[1] * x + t[2] * x * x).exp(),
            "step" => {
                if x < t[2] {
                    t[0]
                } else {
                    t[1]
                }
            }
            "bump" => t[0] + t[1] * (-(x - t[2]).powi(2) / (2.0 * t[3] * t[3])).exp(),
            "signal" => t[0] + t[1] * f(x).abs(),
            "a*x^c" => t[0] * x.powf(t[1]),
            "sqrt(a + b*mu^2)" => (t[0] + t[1] * f(x).powi(2)).sqrt(),
            _ => unreachable!("{law}"),
        }
    };
    let mut x: Vec<f64> = (0..n).map(|_| rng.random_range(lo..hi)).collect();
    // Pin the end points so the linear law's x_min / x_max are the generating ones.
    x[0] = lo;
    x[1] = hi;
    let y = x.iter().map(|&v| f(v) + sigma(v) * rng.sample::<f64, _>(StandardNormal)).collect();
    Dataset::new(x, y)
}

fn recovery_config(law: &str) -> FitConfig {
    let mut c = FitConfig::default();
    c.model.kind = ModelKind::NoiseModel;
    match NoiseLawKind::from_name(law) {
        Some(k) => c.model.noise_law = k,
        None => {
            c.model.noise_law = NoiseLawKind::CUSTOM;
            c.model.noise_formula = law.into();
        }
    }
    c.model.hidden = vec![16, 8];
    c.inference.steps = 8000;
    c.inference.method_for_step_budget(); // a step budget: pSGLD
    c.inference.seed = 3;
    c
}

fn check_recovery(law: &str, truth: &[f64]) {
    check_recovery_of(law, "", truth, law_data(law, truth, 2000, 42));
}

fn check_recovery_of(law: &str, priors: &str, truth: &[f64], d: Dataset) {
    let mut cfg = recovery_config(law);
    cfg.model.noise_priors = priors.into();
    let mut fit = run(cfg, &d);
    let snap = fit.snapshot(&d.grid(50, 0.0));
    assert_eq!(snap.params.len(), truth.len());
    for (p, &t) in snap.params.iter().zip(truth) {
        // Posterior sd from the 95% interval; 4 sd, with a floor for the smoothing of the
        // step (1% of the range) and for sd estimates from 200 draws.
        let sd = ((p.hi - p.lo) / 3.92).max(0.01 * t.abs()).max(0.005);
        assert!(
            (p.mean - t).abs() < 4.0 * sd,
            "{law} {}: posterior mean {} [{}, {}] vs true {t}",
            p.name,
            p.mean,
            p.lo,
            p.hi
        );
    }
}

#[test]
fn constant_law_recovers_its_parameter() {
    check_recovery("constant", &[0.2]);
}
#[test]
fn linear_law_recovers_its_parameters() {
    check_recovery("linear", &[0.05, 0.4]);
}
#[test]
fn exponential_law_recovers_its_parameters() {
    check_recovery("exponential", &[0.15, 0.5]);
}
#[test]
fn logquad_law_recovers_its_parameters() {
    check_recovery("logquad", &[-1.5, 0.3, -0.2]);
}
#[test]
fn step_law_recovers_its_parameters() {
    check_recovery("step", &[0.3, 0.08, 0.5]);
}
#[test]
fn bump_law_recovers_its_parameters() {
    check_recovery("bump", &[0.05, 0.4, -0.3, 0.4]);
}
#[test]
fn signal_law_recovers_its_parameters() {
    check_recovery("signal", &[0.05, 0.2]);
}

#[test]
fn a_custom_power_law_recovers_its_parameters() {
    // sigma = a x^c, the example of a law no preset has, on x in [0.5, 4].
    let truth = [0.1, 1.2];
    let d = law_data_on("a*x^c", &truth, 2000, 42, (0.5, 4.0));
    check_recovery_of("a*x^c", "a ~ positive", &truth, d);
}

#[test]
fn a_custom_signal_dependent_law_recovers_its_parameters() {
    // Detector noise sqrt(a + b signal^2): mu enters through a square root.
    let truth = [0.01, 0.04];
    let d = law_data("sqrt(a + b*mu^2)", &truth, 2000, 42);
    check_recovery_of("sqrt(a + b*mu^2)", "a ~ positive; b ~ positive", &truth, d);
}

#[test]
fn a_preset_written_as_a_custom_formula_is_the_same_fit() {
    // One code path: the preset and its formula and priors typed by hand give the same bits.
    let d = law_data("bump", &[0.05, 0.4, -0.3, 0.4], 300, 7);
    let mut cfg = recovery_config("bump");
    cfg.inference.steps = 1500;
    cfg.inference.method_for_step_budget(); // a step budget: pSGLD
    let preset = run(cfg.clone(), &d).draws();
    let p = NoiseLawKind::named("bump").preset().unwrap();
    cfg.model.noise_law = NoiseLawKind::CUSTOM;
    cfg.model.noise_formula = p.formula.into();
    cfg.model.noise_priors = p.priors.into();
    assert_eq!(run(cfg, &d).draws(), preset);
}

#[test]
fn two_head_sigma_tracks_the_true_sigma() {
    let truth = [0.05, 0.4, -0.3, 0.4];
    let d = law_data("bump", &truth, 2000, 9);
    let mut cfg = recovery_config("bump");
    cfg.model.kind = ModelKind::TwoHead;
    let mut fit = run(cfg, &d);
    let grid: Vec<f64> = (0..80).map(|i| -1.9 + 3.8 * i as f64 / 79.0).collect();
    let s = fit.snapshot(&grid).summary;
    let true_sigma: Vec<f64> =
        grid.iter().map(|&x| truth[0] + truth[1] * (-(x - truth[2]).powi(2) / (2.0 * truth[3] * truth[3])).exp()).collect();
    let rmse = (s.sd_aleatoric.iter().zip(&true_sigma).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / 80.0).sqrt();
    let scale = true_sigma.iter().sum::<f64>() / 80.0;
    assert!(rmse < 0.2 * scale, "two-head sigma RMSE {rmse} vs mean sigma {scale}");
}

// ---------------------------------------------------------------------------
// Calibration: 95% intervals cover 90-98% of fresh draws from the generating process.
// ---------------------------------------------------------------------------

fn coverage(model: &str, which: Synthetic, n: usize) -> f64 {
    let d = which.generate(n, 5);
    let mut cfg = FitConfig::default();
    cfg.set_model_name(model).unwrap();
    cfg.model.hidden = vec![16, 8];
    cfg.inference.steps = 8000;
    cfg.inference.method_for_step_budget(); // a step budget: pSGLD
    let mut fit = run(cfg, &d);
    let (lo, hi) = which.domain();
    let grid: Vec<f64> = (0..200).map(|i| lo + (hi - lo) * (i as f64 + 0.5) / 200.0).collect();
    let s = fit.snapshot(&grid).summary;
    let f: Vec<f64> = grid.iter().map(|&x| which.f(x)).collect();
    let sig: Vec<f64> = grid.iter().map(|&x| which.sigma(x)).collect();
    GridMetrics::compute(&s.mean, &s.sd_aleatoric, &s.sd_total, &f, &sig).coverage95
}

#[test]
fn homoskedastic_intervals_are_calibrated_on_homoskedastic_data() {
    let c = coverage("homoskedastic", Synthetic::Homoskedastic, 300);
    assert!((0.90..=0.98).contains(&c), "coverage {c}");
}

#[test]
fn two_head_intervals_are_calibrated_on_heteroskedastic_data() {
    let c = coverage("two-head", Synthetic::Linear, 300);
    assert!((0.90..=0.98).contains(&c), "coverage {c}");
}

#[test]
fn noise_model_intervals_are_calibrated_on_data_from_the_law() {
    let c = coverage("noise:linear", Synthetic::Linear, 300);
    assert!((0.90..=0.98).contains(&c), "coverage {c}");
}

// ---------------------------------------------------------------------------
// Reproducibility.
// ---------------------------------------------------------------------------

/// Six points far from the origin: the warm start's loss explodes and it backs off.
/// It starts again from the chain's first state, so the fit is the same in any chunks
/// (the page's worker steps in time-sized chunks; a back-off from the chunk's start
/// made the page's fits of one seed differ run to run).
#[test]
fn a_warm_start_that_backs_off_gives_the_same_fit_in_any_chunks() {
    let d = Dataset::new(vec![10., 11., 12., 13., 14., 15.], vec![1., 2., 1.5, 3., 2., 2.5]);
    let grid = d.grid(50, 0.1);
    let predict = |chunks: &[usize], chains: &[usize]| {
        let mut cfg = FitConfig::default();
        cfg.model.kind = ModelKind::NoiseModel;
        cfg.model.noise_law = NoiseLawKind::named("exponential");
        cfg.inference.steps = 2000;
        cfg.inference.method_for_step_budget();
        let mut fit = Fit::new_chains(cfg, &d, chains).unwrap();
        let (mut sent, mut i) = (Vec::new(), 0);
        while !fit.is_finished() {
            fit.step(chunks[i % chunks.len()]).unwrap();
            i += 1;
            let _ = fit.chain_posts(&grid, &mut sent, &[]);
        }
        let s = fit.snapshot(&grid);
        (s.summary, fit.warm_start_rates(), s.trace, s.warnings)
    };
    let (a, rates, trace, warnings) = predict(&[2000], &[0, 1]);
    assert!(rates.iter().any(|&r| r < FitConfig::default().inference.warm_start_lr), "a chain backed off: {rates:?}");
    assert!(trace.windows(2).all(|w| w[0].0 < w[1].0), "the loss trace runs forward in steps: {trace:?}");
    for chunks in [&[137, 3, 999][..], &[1, 50, 7]] {
        let (b, _, t, w) = predict(chunks, &[0, 1]);
        assert_eq!(b, a, "{chunks:?}");
        // The loss trace, and so the loss-trend warning, too.
        assert_eq!((t, w), (trace.clone(), warnings.clone()), "{chunks:?}");
    }
    // A chain run alone (the page's worker) backs off as it does in the whole fit.
    let alone = |chunks: &[usize]| predict(chunks, &[0]).0.mean;
    assert_eq!(alone(&[2000]), alone(&[13, 77]));
}

#[test]
fn same_seed_gives_bit_identical_predictions_and_another_seed_differs() {
    let d = Synthetic::NbExp.generate(40, 1);
    let grid = d.grid(50, 0.1);
    let predict = |seed: u64, chunk: usize| {
        let mut cfg = FitConfig::default();
        cfg.inference.steps = 3000;
        cfg.inference.method_for_step_budget(); // a step budget: pSGLD
        cfg.inference.seed = seed;
        let mut fit = Fit::new(cfg, &d).unwrap();
        while !fit.is_finished() {
            fit.step(chunk).unwrap();
        }
        let s = fit.snapshot(&grid);
        (s.summary, s.trace)
    };
    let a = predict(4, 500);
    // Chunking must not matter either: the worker steps in time-sized chunks. Nor for
    // the loss trace, whose trend over the kept draws can warn.
    let b = predict(4, 137);
    assert_eq!(a, b);
    assert!(a.1.len() > 100, "{} trace points", a.1.len());
    let c = predict(5, 500);
    assert_ne!(a.0.mean, c.0.mean);
}
