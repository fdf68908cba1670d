//! Faults in the core: divergence is caught with a message that says what to change
//! and the last good state is kept; unusable data and settings are refused up front.
#![cfg(not(target_arch = "wasm32"))]

use bayesband::config::{FitConfig, Method};
use bayesband::data::{Dataset, Synthetic};
use bayesband::infer::{Fit, FitError};

fn run_until_error(cfg: FitConfig, d: &Dataset) -> (Fit, Option<FitError>) {
    let mut fit = Fit::new(cfg, d).unwrap();
    while !fit.is_finished() {
        if let Err(e) = fit.step(500) {
            return (fit, Some(e));
        }
    }
    (fit, None)
}

fn assert_stopped_with_advice(fit: &mut Fit, err: Option<FitError>, what: &str) {
    let err = err.unwrap_or_else(|| panic!("{what}: a far too large step must stop the fit"));
    let msg = err.to_string();
    assert!(matches!(err, FitError::Diverged(_)), "{what}: {msg}");
    assert!(msg.contains("too large") && msg.contains("try"), "{what}: the message must say what to change: {msg}");
    // The fit keeps its last good state: stepping again repeats the error without
    // changing anything, and a snapshot is finite.
    let step = fit.steps_done();
    assert!(fit.step(10).is_err());
    assert_eq!(fit.steps_done(), step);
    let s = fit.snapshot(&fit.data().grid(30, 0.0));
    assert!(s.summary.mean.iter().chain(&s.summary.sd_total).all(|v| v.is_finite()), "{what}: bands after divergence");
}

#[test]
fn sgld_step_thirty_times_the_default_stops_with_advice_and_keeps_the_last_good_state() {
    // Whether 10x already explodes depends on the data (it does on the reference bump
    // data, not on every draw of it); 30x explodes on all of them.
    let d = Synthetic::Bump.generate(150, 0);
    let mut cfg = FitConfig::default();
    cfg.inference.method = Method::Sgld;
    cfg.inference.sgld_step_size *= 30.0;
    let (mut fit, err) = run_until_error(cfg, &d);
    assert_stopped_with_advice(&mut fit, err, "SGLD x30");
}

#[test]
fn psgld_step_far_too_large_stops_with_advice() {
    let d = Synthetic::NbExp.generate(40, 0);
    let mut cfg = FitConfig::default();
    cfg.inference.method = Method::Psgld;
    cfg.inference.step_size = 5e-2;
    let (mut fit, err) = run_until_error(cfg, &d);
    assert_stopped_with_advice(&mut fit, err, "pSGLD 5e-2");
}

#[test]
fn vi_learning_rate_far_too_large_stops_with_advice() {
    let d = Synthetic::NbExp.generate(40, 0);
    let mut cfg = FitConfig::default();
    cfg.inference.method = Method::Vi;
    cfg.inference.vi_lr = 0.5;
    let (mut fit, err) = run_until_error(cfg, &d);
    assert_stopped_with_advice(&mut fit, err, "VI lr 0.5");
}

#[test]
fn psgld_step_ten_times_the_default_is_flagged_by_the_acceptance_diagnostic() {
    // pSGLD's preconditioner keeps a 10x step from exploding; the fit then finishes
    // but its MALA acceptance is measurably lower than at the default step.
    let d = Synthetic::Bump.generate(150, 0);
    let acc = |scale: f64| {
        let mut cfg = FitConfig::default();
        cfg.inference.step_size *= scale;
        cfg.inference.steps = 6000;
        cfg.inference.method_for_step_budget(); // a step budget: pSGLD
        cfg.inference.chains = 1;
        let (fit, err) = run_until_error(cfg, &d);
        assert!(err.is_none());
        fit.mala_acceptance().unwrap()
    };
    let (a1, a10) = (acc(1.0), acc(10.0));
    assert!(a10 < a1 - 0.05, "acceptance at the default step {a1}, at 10x {a10}");
}

#[test]
fn unusable_data_is_refused_before_training() {
    let cases: Vec<(&str, Dataset, &str)> = vec![
        ("NaN", Dataset::new(vec![0.0, 1.0, f64::NAN], vec![1.0, 2.0, 3.0]), "finite"),
        ("one point", Dataset::new(vec![0.0], vec![1.0]), "3"),
        ("two points", Dataset::new(vec![0.0, 1.0], vec![1.0, 2.0]), "3"),
        ("all x equal", Dataset::new(vec![2.0; 5], vec![1.0, 2.0, 3.0, 4.0, 5.0]), "x"),
    ];
    for (name, d, word) in cases {
        match Fit::new(FitConfig::default(), &d) {
            Err(FitError::Invalid(m)) => assert!(m.contains(word), "{name}: {m}"),
            Err(e) => panic!("{name}: wrong error kind {e:?}"),
            Ok(_) => panic!("{name}: accepted"),
        }
    }
}

#[test]
fn all_y_equal_and_extreme_magnitudes_fit_without_nan() {
    for (name, d) in [
        ("all y equal", Dataset::new((0..20).map(|i| i as f64).collect(), vec![3.0; 20])),
        ("1e300", Dataset::new((0..20).map(|i| i as f64 * 1e299).collect(), (0..20).map(|i| (i as f64).sin() * 1e300).collect())),
        ("1e-300", Dataset::new((0..20).map(|i| i as f64 * 1e-300).collect(), (0..20).map(|i| (i as f64).sin() * 1e-300).collect())),
    ] {
        let mut cfg = FitConfig::default();
        cfg.inference.steps = 800;
        cfg.inference.method_for_step_budget(); // a step budget: pSGLD
        let (mut fit, err) = run_until_error(cfg, &d);
        assert!(err.is_none(), "{name}: {err:?}");
        let s = fit.snapshot(&d.grid(20, 0.1));
        assert!(s.summary.mean.iter().chain(&s.summary.sd_total).all(|v| v.is_finite()), "{name}");
    }
}

#[test]
fn absurd_settings_are_refused_with_the_setting_named() {
    let d = Synthetic::Linear.generate(50, 0);
    let mut cases: Vec<(FitConfig, &str)> = Vec::new();
    let base = FitConfig::default();
    let mut c = base.clone();
    c.model.hidden = vec![0];
    cases.push((c, "hidden"));
    let mut c = base.clone();
    c.model.hidden = vec![100_000];
    cases.push((c, "hidden"));
    let mut c = base.clone();
    c.inference.step_size = 0.0;
    cases.push((c, "step size"));
    let mut c = base.clone();
    c.inference.step_size = -1e-3;
    cases.push((c, "step size"));
    let mut c = base.clone();
    c.inference.steps = 0;
    c.inference.method_for_step_budget(); // a step budget: pSGLD
    cases.push((c, "steps"));
    let mut c = base.clone();
    c.inference.seed = u64::MAX;
    cases.push((c, "seed"));
    let mut c = base.clone();
    c.model.prior_scale = 0.0;
    cases.push((c, "prior scale"));
    let mut c = base.clone();
    c.model.prior_scale = 1e9;
    cases.push((c, "prior scale"));
    for (cfg, word) in cases {
        match Fit::new(cfg, &d) {
            Err(FitError::Invalid(m)) => assert!(m.contains(word), "expected '{word}' in: {m}"),
            other => panic!("expected a refusal naming '{word}', got {:?}", other.err()),
        }
    }
}

/// The value after "try " in a divergence message.
fn suggested(msg: &str) -> f64 {
    let rest = msg.split("try ").nth(1).unwrap_or_else(|| panic!("no advice in: {msg}"));
    rest.split([' ', ')', ';']).next().unwrap().parse().unwrap_or_else(|_| panic!("no number after 'try' in: {msg}"))
}

fn finishes(cfg: FitConfig, d: &Dataset, what: &str) {
    let (mut fit, err) = run_until_error(cfg, d);
    assert!(err.is_none(), "{what}: {}", err.unwrap());
    let s = fit.snapshot(&d.grid(30, 0.1));
    let p = &s.summary;
    assert!(p.mean.iter().chain(&p.sd_total).chain(&p.sd_aleatoric).all(|v| v.is_finite()), "{what}: bands");
    assert!(p.sd_total.iter().all(|&v| v > 0.0), "{what}: sd_total");
}

#[test]
fn following_the_advice_of_a_divergence_message_gives_a_fit() {
    let nb = Synthetic::NbExp.generate(40, 0);
    let bump = Synthetic::Bump.generate(150, 0);
    let mut cases: Vec<(FitConfig, &Dataset, &str)> = Vec::new();
    let mut c = FitConfig::default();
    c.inference.method_for_step_budget(); // pSGLD
    c.inference.step_size = 5e-2;
    cases.push((c, &nb, "pSGLD 5e-2"));
    let mut c = FitConfig::default();
    c.inference.method = Method::Sgld;
    c.inference.sgld_step_size *= 30.0;
    cases.push((c, &bump, "SGLD x30"));
    let mut c = FitConfig::default();
    c.inference.method = Method::Vi;
    c.inference.vi_lr = 0.5;
    cases.push((c, &nb, "VI lr 0.5"));
    for (cfg, d, what) in cases {
        let (_, err) = run_until_error(cfg.clone(), d);
        let msg = err.unwrap_or_else(|| panic!("{what}: must diverge")).to_string();
        let mut follow = cfg;
        let rate = follow.inference.method.spec().rate.as_ref().expect("the methods tested have a rate");
        (rate.set)(&mut follow.inference, suggested(&msg));
        finishes(follow, d, &format!("{what}, then the advice of: {msg}"));
    }
}

/// 40 points of y = cos(x) on [0, 2 pi], no noise: clean simulation output.
fn noise_free() -> Dataset {
    let x: Vec<f64> = (0..40).map(|i| std::f64::consts::TAU * i as f64 / 39.0).collect();
    let y = x.iter().map(|v| v.cos()).collect();
    Dataset::new(x, y)
}

#[test]
fn noise_free_data_fit_to_the_end_with_finite_bands_for_every_model() {
    let d = noise_free();
    let mut models = vec!["two-head".to_string(), "homoskedastic".to_string()];
    models.extend(bayesband::config::NoiseLawKind::presets().map(|l| format!("noise:{}", l.name())));
    for m in &models {
        let mut cfg = FitConfig::default();
        cfg.set_model_name(m).unwrap();
        finishes(cfg, &d, m);
    }
}

#[test]
fn noise_free_data_diverging_under_sgld_are_told_a_way_that_works() {
    let d = noise_free();
    let mut cfg = FitConfig::default();
    cfg.inference.method = Method::Sgld;
    let (_, err) = run_until_error(cfg, &d);
    let msg = err.expect("SGLD at its default step on a noise-free posterior diverges").to_string();
    assert!(msg.contains("pSGLD"), "{msg}");
    finishes(FitConfig::default(), &d, "pSGLD, as advised");
}

#[test]
fn an_exploding_warm_start_backs_off_its_rate_and_goes_on() {
    // Adam at 0.5 overshoots at once; halving six times reaches 7.8e-3, under the default.
    let d = Synthetic::NbExp.generate(40, 0);
    let mut cfg = FitConfig::default();
    cfg.inference.method_for_step_budget(); // pSGLD: NUTS has no warm start
    cfg.inference.warm_start_lr = 0.5;
    let mut fit = Fit::new(cfg.clone(), &d).unwrap();
    let mut backed_off = false;
    while !fit.is_finished() {
        fit.step(100).unwrap_or_else(|e| panic!("the back-off did not recover: {e}"));
        backed_off |= fit.warm_start_rates().iter().any(|&r| r < 0.5);
    }
    assert!(backed_off, "a warm start at 0.5 must back off: {:?}", fit.warm_start_rates());
    assert!(fit.warm_start_rates().iter().all(|&r| r >= 0.5 / 64.0));
    // And the fit it goes on to is a fit: close to one from the default warm start.
    let grid = d.grid(30, 0.0);
    let s = fit.snapshot(&grid);
    let (mut plain, _) = run_until_error(FitConfig::default(), &d);
    let p = plain.snapshot(&grid);
    let rmse = (s.summary.mean.iter().zip(&p.summary.mean).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / 30.0).sqrt();
    assert!(rmse < 0.3, "mean differs from the default fit's by {rmse}");
}
