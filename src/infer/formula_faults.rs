//! A noise formula that stops being finite during a fit (issue 13): the fit stops with a
//! message that names the formula, the operation, its column and the place, instead of
//! blaming the step size, and keeps its last good state.

use super::fit::WARM_BACKOFFS;
use super::{Fit, FitError};
use crate::config::{FitConfig, ModelKind, NoiseLawKind};
use crate::data::Synthetic;
use crate::model::Noise;

fn custom(formula: &str, priors: &str) -> FitConfig {
    let mut c = FitConfig::default();
    c.model.kind = ModelKind::NoiseModel;
    c.model.noise_law = NoiseLawKind::CUSTOM;
    c.model.noise_formula = formula.into();
    c.model.noise_priors = priors.into();
    c.model.hidden = vec![8];
    c.inference.steps = 3000;
    c.inference.method_for_step_budget(); // a step budget: pSGLD
    c
}

/// Put b of a*exp(b*x) where exp overflows on the data (x up to 4: b = 300), in every chain.
fn poison(fit: &mut Fit) {
    let nd = fit.model.mlp.dim();
    let Noise::Law(l) = &fit.model.noise else { unreachable!() };
    let z = l.priors[1].z_of(300.0);
    for c in &mut fit.chains {
        c.params[nd + 1] = z;
    }
}

#[test]
fn a_formula_that_overflows_in_the_sampler_is_blamed_by_name_and_the_last_good_state_is_kept() {
    let data = Synthetic::NbExp.generate(40, 1);
    let mut fit = Fit::new(custom("a*exp(b*x)", "a ~ positive"), &data).unwrap();
    // Into the sampler, then the formula overflows.
    while fit.steps_done() < fit.schedule.warm + 10 {
        fit.step(10).unwrap();
    }
    poison(&mut fit);
    let before: Vec<Vec<f64>> = fit.chains.iter().map(|c| c.params.clone()).collect();
    let Err(FitError::Diverged(msg)) = fit.step(10) else { panic!("no divergence") };
    assert!(msg.contains("the noise formula a*exp(b*x): exp at column 3 gives inf"), "{msg}");
    assert!(msg.contains("b = 300") && msg.contains("Change the noise formula or narrow its priors"), "{msg}");
    assert!(!msg.contains("step size"), "{msg}");
    // The state before the chunk is kept.
    let after: Vec<Vec<f64>> = fit.chains.iter().map(|c| c.params.clone()).collect();
    assert_eq!(after, before);
}

#[test]
fn a_formula_that_overflows_in_the_warm_start_is_blamed_once_the_back_offs_are_spent() {
    let data = Synthetic::NbExp.generate(40, 1);
    let mut fit = Fit::new(custom("a*exp(b*x)", "a ~ positive"), &data).unwrap();
    // Past the hand-off (step 600 of a 1200-step warm start), before the sampler,
    // with every back-off spent.
    fit.step(800).unwrap();
    for c in &mut fit.chains {
        c.backoffs = WARM_BACKOFFS;
    }
    poison(&mut fit);
    let Err(FitError::Diverged(msg)) = fit.step(10) else { panic!("no divergence") };
    assert!(msg.contains("the noise formula a*exp(b*x): exp at column 3 gives inf (exp overflows above 709) at x = "), "{msg}");
}

#[test]
fn a_back_off_in_the_warm_start_leaves_an_overflowing_state_behind() {
    // A back-off starts the chain again from its first state at half the rate: the
    // overflowing state reached mid-way is not where it starts again.
    let data = Synthetic::NbExp.generate(40, 1);
    let mut fit = Fit::new(custom("a*exp(b*x)", "a ~ positive"), &data).unwrap();
    fit.step(800).unwrap();
    poison(&mut fit);
    fit.step(10).unwrap();
    assert_eq!(fit.steps_done(), 810);
    for c in &fit.chains {
        assert_eq!(c.backoffs, 1);
        assert!(c.params.iter().all(|p| p.is_finite()));
    }
}
