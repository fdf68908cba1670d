//! NUTS, the reference sampler (issue 10): pymc-devs' `nuts-rs` (multinomial NUTS with a
//! diagonal mass matrix and dual-averaging step size, both adapted during the warm-up)
//! over the model's full-batch log posterior, with the fast (f32) gradient the other
//! samplers use.
//!
//! Settings have NeuroBayes's (NumPyro's) meaning and defaults: 1000 warm-up draws, 1000
//! kept draws per chain, target acceptance 0.8, maximum tree depth 10. Each chain has its
//! own explicitly seeded generator (nothing reads OS entropy), so a seed gives the same
//! draws natively and in wasm, however the draws are chunked.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use nuts_rs::rand::rngs::ChaCha8Rng;
use nuts_rs::rand::SeedableRng;
use nuts_rs::{Chain, CpuLogpFunc, CpuMath, CpuMathError, DiagNutsSettings, HasDims, LogpError, Settings};

use crate::model::{EvalOptions, Model, ModelWorkspace};

/// What divergences mean, where in x they happened (when the data's x range is given
/// and they could be located) and what to change, for the page and the CLI; `None`
/// without any. Divergences are a diagnostic, not a failure: the draws are still usable.
pub fn divergence_note(d: &crate::summary::MethodDiagnostics, x_range: Option<(f64, f64)>) -> Option<String> {
    let divergences = d.divergences.filter(|&n| n > 0)?;
    let at = x_range
        .and_then(|(lo, hi)| crate::summary::diagnostics::divergence_where(&d.divergence_x, lo, hi))
        .map_or(String::new(), |w| format!(" ({w})"));
    // A chain that holds most of them (of 10 or more) may be stuck where its step could
    // not follow.
    let most = d.chain_divergences.iter().copied().max().unwrap_or(0);
    let one = if d.chain_divergences.len() >= 2 && divergences >= 10 && most as f64 > 0.6 * divergences as f64 {
        format!(", {most} of them in one chain")
    } else {
        String::new()
    };
    Some(format!(
        "{divergences} NUTS trajectories diverged{at}{one}: the sampler met curvature its adapted step could not follow, \
         so the posterior there may be under-explored. The draws are kept; to reduce divergences raise the \
         target acceptance (e.g. 0.9 or 0.95: smaller steps) or lower the prior scale."
    ))
}

/// NUTS's own settings (the model and the data come from the fit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NutsOptions {
    /// Warm-up (tuning) draws per chain: step size and mass matrix adapt, nothing is kept.
    pub warmup: usize,
    /// Kept draws per chain after the warm-up.
    pub draws: usize,
    /// Target mean acceptance probability of the step-size adaptation.
    pub target_accept: f64,
    /// Maximum tree depth: at most 2^max_depth - 1 leapfrog steps per draw.
    pub max_depth: u64,
    /// Where the step-size adaptation starts (None: `nuts-rs`'s default); a refit
    /// starts from the previous fit's adapted step size.
    pub initial_step: Option<f64>,
}

impl Default for NutsOptions {
    fn default() -> Self {
        NutsOptions { warmup: 1000, draws: 1000, target_accept: 0.8, max_depth: 10, initial_step: None }
    }
}

impl NutsOptions {
    /// Why these settings cannot run, in words for the user.
    pub fn validate(&self) -> Result<(), String> {
        if self.draws == 0 {
            return Err("NUTS needs at least 1 kept draw (--draws)".into());
        }
        if !(self.target_accept > 0.0 && self.target_accept < 1.0) {
            return Err(format!("the target acceptance must lie strictly between 0 and 1, got {}", self.target_accept));
        }
        if !(1..=15).contains(&self.max_depth) {
            return Err(format!("the maximum tree depth must be 1 to 15, got {}", self.max_depth));
        }
        Ok(())
    }

    fn settings(&self, seed: u64) -> DiagNutsSettings {
        let mut s = DiagNutsSettings::default();
        s.num_tune = self.warmup as u64;
        s.num_draws = self.draws as u64;
        s.maxdepth = self.max_depth;
        s.seed = seed;
        s.num_chains = 1;
        s.store_divergences = true;
        s.adapt_options.step_size_settings.target_accept = self.target_accept;
        if let Some(step) = self.initial_step.filter(|v| v.is_finite() && *v > 0.0) {
            s.adapt_options.step_size_settings.initial_step = step;
        }
        if let Some(w) = short_warmup_window(self.warmup) {
            s.adapt_options.mass_matrix_switch_freq = w;
            s.adapt_options.mass_matrix_window_growth = 1.0;
        }
        s
    }
}

/// The main-phase mass-matrix window for a warm-up shorter than NumPyro's 1000 draws:
/// 30% of the warm-up (at least 10), of constant size; `None` (nuts-rs's own 80 draws,
/// then 1.5x each) from 1000 on, so the references at NeuroBayes's settings are
/// unchanged.
///
/// nuts-rs's main phase runs from 30% to 85% of the warm-up and starts a window only if
/// the next one still fits before the final step-size window, so below ~360 warm-up
/// draws its 80-draw windows never switch: the last mass matrix then rests on every draw
/// since the last early-phase window, from when the chain was still leaving its starting
/// point (the window size also decides when the step-size adaptation moves to its final
/// estimator). Measured on
/// the bump law (N = 200, 100 warm-up + 150 draws at depth 9, seeds 0-8, Intel Xeon,
/// 2026-12-07): the smallest noise-parameter ESS had median 42 (12-175) and 4 of 9
/// fits had an R-hat over 1.05 with the 80-draw window; 130 (74-154) and none with
/// windows of 30 at the same CPU time (3.9-4.5 s). Windows of 20 (growth 1.5) gave
/// 34-134; windows of 40 never switch at 100 draws and gave 12-269 (3 of 9 over 1.05).
pub fn short_warmup_window(warmup: usize) -> Option<u64> {
    (warmup < 1000).then(|| ((0.3 * warmup as f64).round() as u64).max(10))
}

/// The log posterior over the full batch as `nuts-rs` sees it; counts its gradients.
#[derive(Debug)]
pub struct Density {
    model: Model,
    x: Vec<f64>,
    y: Vec<f64>,
    ws: ModelWorkspace,
    /// Gradient evaluations so far (shared with the chain, which cannot reach inside
    /// `nuts-rs`'s copy of the density).
    gradients: Arc<AtomicU64>,
}

impl Clone for Density {
    fn clone(&self) -> Density {
        Density::new(self.model.clone(), self.x.clone(), self.y.clone())
    }
}

impl Density {
    pub fn new(model: Model, x: Vec<f64>, y: Vec<f64>) -> Density {
        Density { model, x, y, ws: ModelWorkspace::default(), gradients: Arc::new(AtomicU64::new(0)) }
    }
    /// Gradient evaluations so far.
    pub fn gradients(&self) -> u64 {
        self.gradients.load(Ordering::Relaxed)
    }

    /// The training x whose likelihood term changed most between two parameter vectors
    /// (the two ends of a diverging leapfrog step): where in x the divergence happened.
    fn largest_change_x(&mut self, a: &[f64], b: &[f64]) -> Option<f64> {
        let n = self.x.len();
        let (mut mu, mut sd) = (vec![0.0; n], vec![0.0; n]);
        let mut terms = |p: &[f64]| -> Vec<f64> {
            self.model.predict(p, &self.x, &mut self.ws, &mut mu, &mut sd);
            (0..n).map(|i| -sd[i].ln() - 0.5 * ((self.y[i] - mu[i]) / sd[i]).powi(2)).collect()
        };
        let (ta, tb) = (terms(a), terms(b));
        let best = (0..n)
            .map(|i| ((ta[i] - tb[i]).abs(), i))
            .filter(|(d, _)| !d.is_nan())
            .fold(None, |m: Option<(f64, usize)>, v| if m.is_none_or(|m| v.0 > m.0) { Some(v) } else { m })?;
        Some(self.x[best.1])
    }
}

/// A non-finite log posterior: `nuts-rs` counts it as a divergence and goes on.
#[derive(Debug)]
pub struct NonFinite;
impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the log posterior is not finite here")
    }
}
impl std::error::Error for NonFinite {}
impl LogpError for NonFinite {
    fn is_recoverable(&self) -> bool {
        true
    }
}

impl HasDims for Density {
    fn dim_sizes(&self) -> HashMap<String, u64> {
        let d = self.model.dim() as u64;
        HashMap::from([("unconstrained_parameter".to_string(), d), ("expanded_parameter".to_string(), 0)])
    }
}

impl CpuLogpFunc for Density {
    type LogpError = NonFinite;
    type FlowParameters = ();
    type ExpandedVector = Vec<f64>;

    fn dim(&self) -> usize {
        self.model.dim()
    }

    fn logp(&mut self, position: &[f64], gradient: &mut [f64]) -> Result<f64, NonFinite> {
        self.gradients.fetch_add(1, Ordering::Relaxed);
        let e = self.model.log_posterior(position, &self.x, &self.y, 1.0, &EvalOptions::default(), &mut self.ws, gradient);
        if e.log_post.is_finite() && gradient.iter().all(|g| g.is_finite()) {
            Ok(e.log_post)
        } else {
            Err(NonFinite)
        }
    }

    fn expand_vector<R: nuts_rs::rand::Rng + ?Sized>(&mut self, _rng: &mut R, _p: &[f64]) -> Result<Vec<f64>, CpuMathError> {
        // The draw itself is the parameter vector; nothing to expand.
        Ok(Vec::new())
    }
}

/// What one NUTS draw reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DrawInfo {
    /// A warm-up draw (adaptation on; not kept).
    pub warmup: bool,
    pub diverging: bool,
    /// Where in x a divergence happened (the training point whose likelihood term changed
    /// most across the diverging step), when it can be told.
    pub divergence_x: Option<f64>,
    pub depth: u64,
    pub max_depth_reached: bool,
    /// The step size this draw used.
    pub step_size: f64,
    /// Gradient evaluations of this draw.
    pub gradients: u64,
    /// The log posterior at the draw.
    pub log_post: f64,
}

type Inner = <DiagNutsSettings as Settings>::Chain<CpuMath<Density>>;

/// One NUTS chain, advanced a few draws at a time.
pub struct NutsChain {
    inner: Inner,
    /// A copy of the density, to locate divergences in x; its counter is the chain's.
    probe: Density,
    options: NutsOptions,
    done: usize,
    /// The last draw's position.
    position: Vec<f64>,
    pub stats: ChainStats,
}

impl fmt::Debug for NutsChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NutsChain").field("options", &self.options).field("done", &self.done).finish_non_exhaustive()
    }
}

/// Running totals of one chain's draws (kept draws and warm-up apart).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChainStats {
    /// Divergences after the warm-up (the ones that matter) and during it.
    pub divergences: usize,
    pub warmup_divergences: usize,
    /// x of each post-warm-up divergence, where it could be told.
    pub divergence_x: Vec<f64>,
    /// Sum of tree depths and the count at the maximum depth, over kept draws.
    pub depth_sum: u64,
    pub at_max_depth: usize,
    pub kept: usize,
    /// Gradient evaluations, warm-up included (and the initial point's).
    pub gradients: u64,
    /// The step size of the last draw (after the warm-up: the adapted one).
    pub step_size: f64,
}

impl ChainStats {
    pub fn mean_depth(&self) -> f64 {
        self.depth_sum as f64 / self.kept.max(1) as f64
    }
    pub fn share_at_max_depth(&self) -> f64 {
        self.at_max_depth as f64 / self.kept.max(1) as f64
    }
}

impl NutsChain {
    /// A chain of `model` on the full batch (x, y) in fitting units, started at `start`;
    /// chain `index` of a fit seeded with `seed`.
    pub fn new(
        model: Model,
        x: Vec<f64>,
        y: Vec<f64>,
        options: NutsOptions,
        start: &[f64],
        seed: u64,
        index: u64,
    ) -> Result<NutsChain, String> {
        options.validate()?;
        let settings = options.settings(seed);
        // One stream per (seed, chain): ChaCha's stream id keeps chains independent.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index);
        let density = Density::new(model, x, y);
        let mut probe = density.clone();
        probe.gradients = density.gradients.clone();
        let mut inner = settings.new_chain(index, CpuMath::new(density), &mut rng).map_err(|e| format!("NUTS settings: {e}"))?;
        inner.set_position(start).map_err(|e| format!("NUTS cannot start here: {e}"))?;
        let mut chain = NutsChain { inner, probe, options, done: 0, position: start.to_vec(), stats: ChainStats::default() };
        chain.stats.gradients = chain.probe.gradients();
        Ok(chain)
    }

    pub fn options(&self) -> &NutsOptions {
        &self.options
    }
    /// Draws done so far, warm-up included.
    pub fn draws_done(&self) -> usize {
        self.done
    }
    pub fn total_draws(&self) -> usize {
        self.options.warmup + self.options.draws
    }
    pub fn is_finished(&self) -> bool {
        self.done >= self.total_draws()
    }
    pub fn in_warmup(&self) -> bool {
        self.done < self.options.warmup
    }
    /// The current position (the last draw).
    pub fn position(&self) -> &[f64] {
        &self.position
    }

    /// One draw: its position (kept when `!info.warmup`) and what it reports.
    pub fn draw(&mut self) -> Result<(Vec<f64>, DrawInfo), String> {
        let warmup = self.in_warmup();
        let before = self.probe.gradients();
        let (pos, _, stats, progress) = self.inner.expanded_draw().map_err(|e| format!("NUTS stopped: {e}"))?;
        let pos = pos.to_vec();
        let after = self.probe.gradients();
        let div = &stats.divergence;
        let divergence_x = match (progress.diverging, &div.divergence_start, &div.divergence_end) {
            (true, Some(a), Some(b)) => self.probe.largest_change_x(a, b),
            _ => None,
        };
        let info = DrawInfo {
            warmup,
            diverging: progress.diverging,
            divergence_x,
            depth: stats.depth,
            max_depth_reached: stats.maxdepth_reached,
            step_size: progress.step_size,
            gradients: after - before,
            log_post: stats.point.logp,
        };
        let s = &mut self.stats;
        s.gradients = after;
        s.step_size = info.step_size;
        if warmup {
            s.warmup_divergences += info.diverging as usize;
        } else {
            s.kept += 1;
            s.depth_sum += info.depth;
            s.at_max_depth += info.max_depth_reached as usize;
            if info.diverging {
                s.divergences += 1;
                s.divergence_x.extend(info.divergence_x);
            }
        }
        self.done += 1;
        self.position.clone_from(&pos);
        Ok((pos, info))
    }
}

// ---------------------------------------------------------------------------
// NUTS behind the inference seam: one unit of work is one draw.
// ---------------------------------------------------------------------------

use std::sync::{Mutex, MutexGuard};

use rand::RngCore;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::method::{At, Handoff, MethodChain, Moved};
use super::target::Target;
use crate::config::InferenceConfig;
use crate::summary::MethodDiagnostics;

impl NutsOptions {
    /// NUTS's settings from the fit's.
    pub fn from_config(i: &InferenceConfig) -> NutsOptions {
        NutsOptions { warmup: i.warmup, draws: i.draws, target_accept: i.target_accept, max_depth: i.max_depth as u64, initial_step: None }
    }
}

/// Burn-in and kept units of NUTS: the warm-up draws, then every draw.
pub fn plan(i: &InferenceConfig, warm: usize, _rest: usize) -> (usize, Vec<usize>) {
    (i.warmup, (warm + i.warmup..warm + i.warmup + i.draws).collect())
}

/// One fit chain's NUTS. The `nuts-rs` chain starts at the first draw (it needs the
/// full-batch target, which the seam hands to `advance`), seeded from the fit chain's
/// generator.
///
/// Copies share the `nuts-rs` chain (it cannot be cloned): the driver copies chains only
/// to restore them when a unit makes the loss non-finite or explode, and a NUTS draw is
/// always a finite point whose log posterior the sampler accepted (a diverging
/// trajectory is cut off inside the draw and counted, not returned), so that restore
/// never has to rewind NUTS.
#[derive(Clone, Debug)]
pub struct NutsMethod {
    chain: Arc<Mutex<Option<NutsChain>>>,
    /// The step size the adaptation starts from (a refit's previous one).
    initial_step: Option<f64>,
    /// Why the chain could not start, if it could not.
    failed: Option<String>,
    /// The warm-up of a restarted chain ([`MethodChain::restart`]); None: the fit's.
    warmup: Option<usize>,
}

impl NutsMethod {
    pub fn start(h: &Handoff) -> Box<dyn MethodChain> {
        Box::new(NutsMethod { chain: Arc::new(Mutex::new(None)), initial_step: h.resume_step, failed: None, warmup: None })
    }
    /// The chain's running totals, once it has started.
    pub fn stats(&self) -> Option<ChainStats> {
        lock(&self.chain).as_ref().map(|c| c.stats.clone())
    }
}

/// The shared chain (a panic mid-draw ends the fit, so a poisoned lock is never gone on with).
fn lock(m: &Mutex<Option<NutsChain>>) -> MutexGuard<'_, Option<NutsChain>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// SAFETY: `nuts-rs` keeps its pool of trajectory states in `Rc`s, which is why its chain is
// not `Send`. Every clone of those `Rc`s lives inside the chain (its sampler state and state
// storage); `NutsChain::draw` copies out what it returns (the position as a `Vec`, numbers
// for `DrawInfo`), so no `Rc` leaves it. A `NutsChain` is only ever reached through the
// `Mutex` of its `NutsMethod`, so all its reference counts are touched by one thread at a
// time, with the lock ordering the accesses: moving it whole to another thread (the fit's
// chain threads, `Fit::set_threads`) is sound.
unsafe impl Send for NutsChain {}

impl MethodChain for NutsMethod {
    fn box_clone(&self) -> Box<dyn MethodChain> {
        Box::new(self.clone())
    }

    fn advance(&mut self, params: &mut [f64], rng: &mut Xoshiro256PlusPlus, target: &mut Target, at: &At) -> Moved {
        let n = target.n as f64;
        let nan = Moved { loss: f64::NAN, gradients: 0 };
        let shared = Arc::clone(&self.chain);
        let mut slot = lock(&shared);
        if slot.is_none() {
            debug_assert!(target.full_batch(), "NUTS needs the full batch (its row says minibatch: false)");
            let seed = rng.next_u64();
            let mut opts = NutsOptions { initial_step: self.initial_step, ..NutsOptions::from_config(at.inf) };
            opts.warmup = self.warmup.unwrap_or(opts.warmup);
            match NutsChain::new(target.model.clone(), target.x.to_vec(), target.y.to_vec(), opts, params, seed, 0) {
                Ok(c) => *slot = Some(c),
                Err(e) => {
                    self.failed = Some(e);
                    return nan;
                }
            }
        }
        let chain = slot.as_mut().expect("started above");
        let before = chain.stats.gradients;
        match chain.draw() {
            Ok((p, info)) => {
                params.copy_from_slice(&p);
                Moved { loss: -info.log_post / n, gradients: (chain.stats.gradients - before) as usize }
            }
            Err(e) => {
                self.failed = Some(e);
                nan
            }
        }
    }

    /// A new `nuts-rs` chain from the current point: step size and mass matrix adapt
    /// afresh over `warmup` draws (the stuck chain's adapted ones are what failed).
    fn restart(&self, warmup: usize) -> Option<Box<dyn MethodChain>> {
        Some(Box::new(NutsMethod { chain: Arc::new(Mutex::new(None)), initial_step: None, failed: None, warmup: Some(warmup) }))
    }

    fn diagnostics(&self) -> MethodDiagnostics {
        let Some(s) = self.stats() else { return MethodDiagnostics { divergences: Some(0), ..Default::default() } };
        MethodDiagnostics {
            divergences: Some(s.divergences),
            mean_tree_depth: (s.kept > 0).then(|| s.mean_depth()),
            max_depth_share: (s.kept > 0).then(|| s.share_at_max_depth()),
            adapted_step_size: (s.step_size > 0.0).then_some(s.step_size),
            // In fitting units here; the fit maps them to data units.
            divergence_x: s.divergence_x,
            // Per chain: the pooled figure lists the chains' counts.
            chain_divergences: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{divergence_note, NutsOptions};
    use crate::summary::MethodDiagnostics;

    #[test]
    fn short_warmups_get_mass_matrix_windows_that_fit_and_numpyros_settings_keep_nuts_rs_defaults() {
        let at = |warmup| NutsOptions { warmup, ..NutsOptions::default() }.settings(1).adapt_options;
        let default = nuts_rs::DiagNutsSettings::default().adapt_options;
        let (a, d) = (at(1000), default);
        assert_eq!((a.mass_matrix_switch_freq, a.mass_matrix_window_growth), (d.mass_matrix_switch_freq, d.mass_matrix_window_growth));
        let short = at(100);
        assert_eq!((short.mass_matrix_switch_freq, short.mass_matrix_window_growth), (30, 1.0));
        // A window fits in the main phase (30% to 85% of the warm-up in nuts-rs); the
        // default's does not.
        let (main_start, main_end) = (0.3 * 100.0, 0.85 * 100.0);
        assert!(main_start + short.mass_matrix_switch_freq as f64 <= main_end);
        assert!(main_start + d.mass_matrix_switch_freq as f64 > main_end);
        assert_eq!(at(20).mass_matrix_switch_freq, 10, "a refit's 20 draws: the smallest window");
    }

    #[test]
    fn the_divergence_note_says_where_and_names_a_chain_that_holds_most_of_them() {
        assert_eq!(divergence_note(&MethodDiagnostics { divergences: Some(0), ..Default::default() }, None), None);
        let d = MethodDiagnostics::pool(&[
            MethodDiagnostics { divergences: Some(3), divergence_x: vec![0.1, 0.2, 0.3], ..Default::default() },
            MethodDiagnostics { divergences: Some(27), divergence_x: vec![0.2; 27], ..Default::default() },
        ]);
        let n = divergence_note(&d, Some((0.0, 4.0))).unwrap();
        assert!(n.starts_with("30 NUTS trajectories diverged (100% of them at x between 0 and 1)"), "{n}");
        assert!(n.contains(", 27 of them in one chain:"), "{n}");
        // Shared evenly, or too few to tell, no chain is named.
        let even = MethodDiagnostics::pool(&[
            MethodDiagnostics { divergences: Some(15), ..Default::default() },
            MethodDiagnostics { divergences: Some(15), ..Default::default() },
        ]);
        assert!(!divergence_note(&even, None).unwrap().contains("one chain"));
        let few = MethodDiagnostics::pool(&[
            MethodDiagnostics { divergences: Some(0), ..Default::default() },
            MethodDiagnostics { divergences: Some(9), ..Default::default() },
        ]);
        assert!(!divergence_note(&few, None).unwrap().contains("one chain"));
    }
}
