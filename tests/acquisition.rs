//! Where to measure next, on real fits (issue 14): with a gap in the data, the
//! epistemic and information-gain suggestions fall in the gap; with noise that grows
//! with |x| beside it, total variance is pulled toward the noisy edges. Small budgets.
#![cfg(not(target_arch = "wasm32"))]

use bayesband::config::{FitConfig, ModelKind};
use bayesband::data::Dataset;
use bayesband::infer::Fit;
use bayesband::summary::acquisition::{candidate_grid, Acquisition, AcquisitionKind, Goal};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// 60 points on [-1, -0.35] and [0.35, 1], y = sin(3x) + N(0, (0.05 + 0.5 |x|^3)^2).
fn gapped() -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
    let mut x = Vec::new();
    while x.len() < 60 {
        let v: f64 = rng.random_range(-1.0..1.0);
        if v.abs() > 0.35 {
            x.push(v);
        }
    }
    let y = x.iter().map(|&v: &f64| (3.0 * v).sin() + (0.05 + 0.5 * v.abs().powi(3)) * rng.sample::<f64, _>(StandardNormal)).collect();
    Dataset::new(x, y)
}

fn fitted(data: &Dataset) -> Fit {
    let mut c = FitConfig::default();
    c.model.kind = ModelKind::TwoHead;
    c.inference.steps = 6000;
    c.inference.method_for_step_budget(); // a step budget: pSGLD
    c.inference.seed = 3;
    let mut fit = Fit::new(c, data).unwrap();
    while !fit.is_finished() {
        fit.step(1000).unwrap();
    }
    fit
}

#[test]
fn epistemic_and_information_gain_suggestions_fall_in_the_gap() {
    let data = gapped();
    let mut fit = fitted(&data);
    let cands = candidate_grid(-1.0, 1.0, 200);
    for kind in [AcquisitionKind::Epistemic, AcquisitionKind::InfoGain] {
        let picks = fit.suggest(Acquisition::new(kind), &cands, 1);
        assert!(picks[0].0.abs() < 0.35, "{kind:?} picks {picks:?}, not in the gap (-0.35, 0.35)");
        assert!(picks[0].1.is_finite() && picks[0].1 > 0.0);
    }
    // A batch of 3: distinct, best first (the values never rise: each pick lowers the rest).
    let picks = fit.suggest(Acquisition::new(AcquisitionKind::Epistemic), &cands, 3);
    assert_eq!(picks.len(), 3);
    assert!(picks.windows(2).all(|w| w[0].1 >= w[1].1 && w[0].0 != w[1].0), "{picks:?}");
    // Total variance's pick sits where epistemic + aleatoric is largest: its aleatoric
    // share there is larger than at the epistemic pick.
    let m = fit.candidate_moments(&cands);
    let at = |x: f64| cands.iter().position(|&c| c == x).unwrap();
    let e = at(fit.suggest(Acquisition::new(AcquisitionKind::Epistemic), &cands, 1)[0].0);
    let t = at(fit.suggest(Acquisition::new(AcquisitionKind::Total), &cands, 1)[0].0);
    assert!(m.aleatoric[t] >= m.aleatoric[e]);
}

#[test]
fn ei_and_ucb_look_near_the_best_mean_for_their_goal() {
    let data = gapped();
    let mut fit = fitted(&data);
    let cands = candidate_grid(-1.0, 1.0, 200);
    // sin(3x) on [-1, 1]: max at x = pi/6 ~ 0.52, min at -0.52.
    for (goal, at) in [(Goal::Max, 0.52), (Goal::Min, -0.52)] {
        for kind in [AcquisitionKind::Ei, AcquisitionKind::Ucb] {
            let a = Acquisition { goal, kappa: 0.5, ..Acquisition::new(kind) };
            let x = fit.suggest(a, &cands, 1)[0].0;
            assert!((x - at).abs() < 0.25, "{kind:?} for {goal:?} picks {x}, not near {at}");
        }
    }
}
