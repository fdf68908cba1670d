//! The seam between the fit driver and the inference methods, in the manner of
//! nuts-rs's `Chain`: each method is one file implementing [`MethodChain`] and one
//! row of [`crate::config::METHODS`] (name, words, settings, live rate, schedule plan,
//! constructor). The driver (`fit.rs`) never matches on the method.
//!
//! Progress is counted in the method's units of work: one gradient step for pSGLD,
//! SGLD and VI; one draw for a sampler such as NUTS, whose draws use a variable number
//! of gradients (reported separately by [`Moved::gradients`]).

use rand_xoshiro::Xoshiro256PlusPlus;

use super::adam::Adam;
use super::mala::MalaMonitor;
use super::target::Target;
use crate::config::InferenceConfig;
use crate::summary::MethodDiagnostics;

/// The state the optional Adam warm start ends in, from which a method starts.
pub struct Handoff<'a> {
    /// The warm start's end point (the initial draw when the method has no warm start).
    pub params: &'a [f64],
    /// The warm start's optimiser (its second moments precondition pSGLD).
    pub adam: &'a Adam,
    pub inf: &'a InferenceConfig,
    /// Number of training points.
    pub n: usize,
    /// A refit's previous fit's adapted step size for this chain (NUTS starts its
    /// adaptation there); None for a fresh fit.
    pub resume_step: Option<f64>,
}

/// Where in the fit one unit of work falls.
pub struct At<'a> {
    /// Unit index in the whole fit (warm start included), for messages.
    pub t: usize,
    /// Unit index since the method started (0 at the first unit after the warm start).
    pub ts: usize,
    /// The method's units in all (the budget after the warm start).
    pub units: usize,
    /// Units of burn-in (or warmup) after the warm start.
    pub burn: usize,
    /// The settings, with the live rate as it is now.
    pub inf: &'a InferenceConfig,
}

/// What one unit of work did.
pub struct Moved {
    /// The objective per data point: negative log posterior, or negative ELBO (VI).
    pub loss: f64,
    /// Gradient evaluations it took.
    pub gradients: usize,
}

/// One chain of an inference method after the warm start.
/// `Send + Sync`: a fit may run its chains on threads of their own ([`super::Fit::set_threads`]).
pub trait MethodChain: std::fmt::Debug + Send + Sync {
    /// A boxed copy (the driver saves chains to restore them after a divergence).
    fn box_clone(&self) -> Box<dyn MethodChain>;
    /// Advance by one unit of work. `params` is the chain's current point (the
    /// method writes its new position there; VI its variational mean). The driver
    /// keeps `params` as a draw where the row's plan says so.
    fn advance(&mut self, params: &mut [f64], rng: &mut Xoshiro256PlusPlus, target: &mut Target, at: &At) -> Moved;
    /// The MALA acceptance monitor of a Langevin sampler (its step-size diagnostic).
    fn mala(&self) -> Option<&MalaMonitor> {
        None
    }
    /// The method's own diagnostics for this chain.
    fn diagnostics(&self) -> MethodDiagnostics {
        MethodDiagnostics::default()
    }
    /// A draw from the variational posterior q (methods that keep no draws).
    fn sample_q(&self, _rng: &mut Xoshiro256PlusPlus) -> Option<Vec<f64>> {
        None
    }
    /// Means and sds of the variational posterior q.
    fn q_moments(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        None
    }
    /// A fresh chain of the method that starts again from the chain's current point
    /// with a warm-up of `warmup` units of its own (adaptation from scratch), for a
    /// chain whose adapted settings do not fit where it is (`Extension::Restart`);
    /// None for a method that cannot.
    fn restart(&self, _warmup: usize) -> Option<Box<dyn MethodChain>> {
        None
    }
}

impl Clone for Box<dyn MethodChain> {
    fn clone(&self) -> Self {
        self.box_clone()
    }
}

/// The cyclical step-size factor (Zhang et al. 2020) at sampler step `ts`: 1 without cycles.
pub fn cyclical_factor(inf: &InferenceConfig, ts: usize, units: usize) -> f64 {
    if inf.cycles > 0 {
        0.5 * ((std::f64::consts::PI * cycle_pos(ts, units, inf.cycles)).cos() + 1.0)
    } else {
        1.0
    }
}

/// Cycle length and position of sampler step t (0-based after the warm start).
pub(crate) fn cycle_pos(t: usize, rest: usize, cycles: usize) -> f64 {
    let len = rest.div_ceil(cycles).max(1);
    (t % len) as f64 / len as f64
}

/// Burn-in and kept units of a stochastic-gradient sampler: `burn_in_frac` of the units
/// discarded, then `draws` evenly spaced; with cycles, draws from the second halves.
/// Kept indices are units of the whole fit (`warm` + index after the warm start).
pub fn sampler_plan(inf: &InferenceConfig, warm: usize, rest: usize) -> (usize, Vec<usize>) {
    if inf.cycles > 0 {
        return (0, cyclical_keep(warm, rest, inf.cycles, inf.draws));
    }
    let burn = (inf.burn_in_frac * rest as f64).round() as usize;
    let s = rest - burn;
    let d = inf.draws.min(s);
    let keep = (0..d).map(|j| warm + burn + ((j + 1) * s) / d - 1).collect();
    (burn, keep)
}

/// A method that keeps no draws (its posterior is sampled when the bands are made).
pub fn no_draws(_inf: &InferenceConfig, _warm: usize, _rest: usize) -> (usize, Vec<usize>) {
    (0, vec![])
}

/// Cyclical SG-MCMC (Zhang et al. 2020): the first half of each cycle explores, draws
/// come from the second half, evenly spaced over all second halves.
fn cyclical_keep(warm: usize, rest: usize, cycles: usize, draws: usize) -> Vec<usize> {
    let len = rest.div_ceil(cycles).max(1);
    let half = len / 2;
    // Candidate steps: t with t % len >= half, t < rest.
    let count = |upto: usize| -> usize { (upto / len) * (len - half) + (upto % len).saturating_sub(half) };
    let total = count(rest);
    let d = draws.min(total);
    (0..d)
        .map(|j| {
            let k = ((j + 1) * total) / d - 1; // k-th candidate (0-based)
            let (c, r) = (k / (len - half), k % (len - half));
            warm + c * len + half + r
        })
        .collect()
}
