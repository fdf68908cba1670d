//! The chunked fit driver shared by the worker, the CLI and the tests: warm start,
//! sampler or VI, kept draws, divergence handling, snapshots.
//!
//! Per chain and gradient budget B: Adam warm start for min(max(0.1 B, 2000), 0.4 B)
//! steps (its first half fits the mean with one constant sigma, then hands that sigma
//! to the noise head or law); then the sampler, 30% burn-in and `draws` evenly spaced
//! kept draws over the rest; or VI for the rest. Chains advance in lock step.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::adam::Adam;
#[cfg(test)]
use super::method::cycle_pos;
use super::method::{At, Handoff, MethodChain};
use super::target::Target;
use crate::config::FitConfig;
use crate::data::{Dataset, Scaling};
use crate::model::{EvalOptions, Model, ModelWorkspace};
use crate::summary::Phase;

/// Why a fit cannot start or cannot go on, in words for the user.
#[derive(Clone, Debug, PartialEq)]
pub enum FitError {
    /// Unusable data or settings.
    Invalid(String),
    /// The objective or the parameters became NaN/Inf or exploded.
    Diverged(String),
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitError::Invalid(s) | FitError::Diverged(s) => f.write_str(s),
        }
    }
}
impl std::error::Error for FitError {}

/// A loss (negative log posterior per point) this far above the best seen counts as
/// exploding: an honest sampler wanders by O(1) nats per point, never by 50.
const EXPLODE_NATS_PER_POINT: f64 = 50.0;
/// A warm start whose loss explodes goes back to the start of the chunk, halves its
/// learning rate and goes on, at most this many times per chain (1e-2 -> 1.6e-4).
pub(crate) const WARM_BACKOFFS: u32 = 6;
/// At most this many (step, loss) points are kept for the trace plot.
pub(crate) const TRACE_POINTS: usize = 400;

#[derive(Clone, Debug)]
pub(crate) struct Chain {
    /// This chain's place among the fit's `config.inference.chains` (its seed stream).
    pub(crate) index: usize,
    rng: Xoshiro256PlusPlus,
    pub(crate) params: Vec<f64>,
    const_log_sigma: f64,
    adam: Adam,
    adam_sigma: Adam,
    /// The inference method's chain, from the end of the warm start on.
    pub(crate) method: Option<Box<dyn MethodChain>>,
    pub(crate) draws: Vec<Vec<f64>>,
    pub(crate) loss: f64,
    best_loss: f64,
    /// The warm start's Adam learning rate: the configured one, halved at each back-off.
    warm_lr: f64,
    /// How often this chain's warm start has backed off.
    pub(crate) backoffs: u32,
    /// Gradients the method used (the warm start's are one per unit).
    pub(crate) gradients: usize,
    /// (step, loss) of this chain at the steps of the fit's trace (see [`Fit::trace`]).
    pub(crate) trace: Vec<(usize, f64)>,
    /// A refit's previous adapted step size for this chain ([`Fit::warm_from`]).
    resume_step: Option<f64>,
    /// No draw is kept before this unit: a restarted chain's own warm-up
    /// ([`Extension::Restart`]).
    pub(crate) keep_from: usize,
    /// The unit at which this chain started again ([`Extension::Restart`]), if it did.
    pub(crate) restarted_at: Option<usize>,
}

/// The budget's phases in per-chain units of work (gradient steps for the warm start).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Schedule {
    pub budget: usize,
    pub mean_warm: usize,
    pub warm: usize,
    pub burn: usize,
    /// Per-chain unit indices after which a draw is kept (samplers), ascending.
    pub keep: Vec<usize>,
}

impl Schedule {
    pub fn new(cfg: &FitConfig) -> Schedule {
        let i = &cfg.inference;
        let b = i.budget();
        let bf = b as f64;
        let spec = i.method.spec();
        let warm = if spec.warm_start { ((i.warm_start_frac * bf).max(2000.0).min(0.4 * bf)).round() as usize } else { 0 };
        let mean_warm = if i.mean_warmup { warm / 2 } else { 0 };
        let rest = b - warm;
        let (burn, keep) = (spec.plan)(i, warm, rest);
        Schedule { budget: b, mean_warm, warm, burn, keep }
    }

    /// A refit's ([`Fit::warm_from`]): no warm start, the method from the first unit.
    pub fn refit(cfg: &FitConfig) -> Schedule {
        let i = &cfg.inference;
        let b = i.budget();
        let (burn, keep) = (i.method.spec().plan)(i, 0, b);
        Schedule { budget: b, mean_warm: 0, warm: 0, burn, keep }
    }

    pub fn phase(&self, step: usize) -> Phase {
        super::pool::phase_at(step, self.budget, (self.warm, self.warm + self.burn))
    }
}

/// A fit in progress.
pub struct Fit {
    pub config: FitConfig,
    pub model: Model,
    pub scaling: Scaling,
    /// Training data in fitting units.
    pub(crate) x: Vec<f64>,
    pub(crate) y: Vec<f64>,
    pub(crate) data: Dataset,
    pub(crate) chains: Vec<Chain>,
    pub(crate) schedule: Schedule,
    step: usize,
    /// Every step that is a multiple of `trace_stride` adds a point to each chain's trace.
    trace_stride: usize,
    error: Option<FitError>,
    /// One per chain.
    scratch: Vec<Scratch>,
    /// Threads [`Fit::step`] may run the chains on.
    threads: usize,
    pub(crate) cache: super::snapshot::DrawCache,
    /// Whether an extending fit has decided to stop drawing more.
    extend_done: bool,
    /// Why it stopped where it did, when it drew more or hit its cap (a note for the report).
    pub(crate) extend_note: Option<String>,
    /// Which chain started again and why, after an [`Extension::Restart`] (a note).
    pub(crate) restart_note: Option<String>,
    /// Some chains of a fit at the end of their budget, waiting for [`Fit::extend`].
    awaiting_extension: bool,
    /// The settings the fit was asked for: `config` but for a refit's shorter budget.
    pub(crate) origin: FitConfig,
    /// A refit from the previous fit's posterior: how many points that fit had.
    pub(crate) refit_of: Option<usize>,
    /// Each chain as it was before its first unit: where a warm start that backs off
    /// starts again (at half the rate), so the outcome does not depend on how the fit
    /// was chunked. Emptied once the warm start is over.
    warm_origins: Vec<Chain>,
}

/// What decides whether an extending fit draws more at the end of its budget.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExtendSpec {
    /// The configured draws per chain (`InferenceConfig::draws`).
    pub planned: usize,
    /// Draws per chain at the end of the budget, extensions included.
    pub drawn: usize,
    /// `InferenceConfig::extend_cap` of the fit's points.
    pub gradients_cap: usize,
    /// A stuck chain's fresh warm-up when it starts again ([`Extension::Restart`]).
    #[serde(default)]
    pub restart_warmup: usize,
    /// Whether the fit has restarted its stuck chains (once per fit).
    #[serde(default)]
    pub restarted: bool,
}

/// A chain whose kept draws diverge this often has a step size (and mass matrix) that
/// do not fit where it is: it has stopped exploring. Measured on the 36 default fits of
/// `benches/warnings.sh` (2026-12-07): at the first extend decision 5 chains, all of
/// noise-law fits, had diverged on 167-300 of their 300 draws (before this rule they
/// went on so: 448 of 450, 450 of 450); no other chain reached half.
pub const STUCK_DIVERGENCE_SHARE: f64 = 0.5;
/// ...and at least this many times (a few divergences in a short fit are no pattern).
pub const STUCK_DIVERGENCES: usize = 20;

/// A chain that has stopped exploring: its index, its divergences and kept draws.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stuck {
    pub index: usize,
    pub divergences: usize,
    pub kept: usize,
}

/// The chains among `figures` whose kept draws diverge at least [`STUCK_DIVERGENCE_SHARE`]
/// of the time (and [`STUCK_DIVERGENCES`] times).
pub fn stuck_chains(figures: &[&super::pool::ChainFigures]) -> Vec<Stuck> {
    figures
        .iter()
        .filter_map(|f| {
            let divergences = f.method.as_ref()?.divergences?;
            let kept = f.kept;
            (divergences >= STUCK_DIVERGENCES && divergences as f64 >= STUCK_DIVERGENCE_SHARE * kept as f64)
                .then_some(Stuck { index: f.index, divergences, kept })
        })
        .collect()
}

/// An extend decision at the end of a budget.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Extension {
    /// Draw this many more units per chain.
    More(usize),
    /// Stop here, with the note saying why when the fit drew more or hit its cap.
    Done(Option<String>),
    /// Chains `chains` have stopped exploring (their draws nearly all diverge): each
    /// drops its kept draws and starts again from where it is with a fresh warm-up;
    /// every chain does `add` more units (the others keep drawing). `note` says so.
    Restart { chains: Vec<usize>, add: usize, note: String },
}

impl ExtendSpec {
    /// The decision for chains whose pooled draws are `reliable` (earn no reliability
    /// warning) at the end of a budget of `budget` units, the chain that used most
    /// gradients having used `used`, `stuck` the chains that stopped exploring
    /// ([`stuck_chains`]). Unreliable draws with a stuck chain restart it, once per fit
    /// and within twice the cap: its fresh warm-up and the planned draws after it.
    pub fn decide(&self, reliable: bool, used: usize, budget: usize, stuck: &[Stuck]) -> Extension {
        let (planned, drawn) = (self.planned, self.drawn);
        if reliable {
            return Extension::Done(if self.restarted {
                Some("after the restart the chains agreed".to_string())
            } else {
                (drawn > planned).then(|| {
                    format!("the chains disagreed after the planned {planned} draws, so each drew more: they agreed after {drawn}")
                })
            });
        }
        let per_unit = used as f64 / budget.max(1) as f64;
        let restart = self.restart_warmup + planned;
        if !self.restarted && !stuck.is_empty() && used as f64 + per_unit * restart as f64 <= 2.0 * self.gradients_cap as f64 {
            let which: Vec<String> = stuck
                .iter()
                .map(|s| format!("chain {} diverged on {} of its {} draws", s.index + 1, s.divergences, s.kept))
                .collect();
            let (them, its, step) = if stuck.len() == 1 { ("it", "its", "step") } else { ("they", "their", "steps") };
            return Extension::Restart {
                chains: stuck.iter().map(|s| s.index).collect(),
                add: restart,
                note: format!(
                    "{}: {its} adapted {step} did not fit where {them} went, so {them} started again from there with \
                     a fresh warm-up of {} draws, {its} earlier draws dropped",
                    which.join(", "),
                    self.restart_warmup
                ),
            };
        }
        let add = (planned / 2).max(1);
        if used as f64 + per_unit * add as f64 > self.gradients_cap as f64 {
            let after = if self.restarted { "the restart".to_string() } else { format!("{drawn} draws each") };
            return Extension::Done(Some(format!(
                "the chains still disagreed after {after} ({used} gradients per chain): the fit stopped there, \
                 the most it extends by itself; the warnings say what to do"
            )));
        }
        Extension::More(add)
    }

    /// [`ExtendSpec::decide`] from the chains' figures (a fit's own, or the pool's of
    /// chains run apart): the most gradients a chain used, and the stuck chains.
    pub fn decide_for(&self, reliable: bool, figures: &[&super::pool::ChainFigures], budget: usize) -> Extension {
        let used = figures.iter().map(|f| f.gradients).max().unwrap_or(0);
        self.decide(reliable, used, budget, &stuck_chains(figures))
    }
}

impl Fit {
    /// Check the data and the settings, standardise, initialise every chain.
    pub fn new(config: FitConfig, data: &Dataset) -> Result<Fit, FitError> {
        let all: Vec<usize> = (0..config.inference.chains).collect();
        Fit::new_chains(config, data, &all)
    }

    /// Chains `chains` (ascending indices below `config.inference.chains`) of the fit
    /// [`Fit::new`] makes, alone: each with exactly the seed stream, and so the draws,
    /// losses and diagnostics, it has in the whole fit when stepped in the same chunks
    /// (`tests/threads.rs`). The page runs a fit's chains on several workers this way
    /// and pools what they post ([`super::pool`]).
    pub fn new_chains(config: FitConfig, data: &Dataset, chains: &[usize]) -> Result<Fit, FitError> {
        Fit::build(config, data, chains, None)
    }

    /// A refit of `prev`'s settings on `data` (typically its points and a few more: the
    /// page's Measure next) started from `prev`'s posterior: the same chains, each
    /// starting at its last kept draw with its own random stream going on, `prev`'s
    /// standardisation (so the weights mean what they meant), no warm start, and the
    /// shorter budget of [`crate::config::REFIT`] (NUTS: its step-size adaptation
    /// starts from the previous adapted step size). Chains of a fit run apart refit
    /// apart bit for bit as the whole fit's chains do (`tests/refit.rs`).
    pub fn warm_from(prev: &Fit, data: &Dataset) -> Result<Fit, FitError> {
        if let Some(e) = &prev.error {
            return Err(FitError::Invalid(format!("the previous fit failed ({e}): fit afresh")));
        }
        let origin = prev.origin.clone();
        let mut config = origin.clone();
        config.inference = config.inference.for_refit();
        let mut fit = Fit::build(config, data, &prev.chain_indices(), Some(prev.scaling.clone()))?;
        if fit.model.dim() != prev.model.dim() {
            return Err(FitError::Invalid("the refit's network differs from the previous fit's: fit afresh".into()));
        }
        fit.schedule = Schedule::refit(&fit.config);
        for (c, p) in fit.chains.iter_mut().zip(&prev.chains) {
            c.params = p.draws.last().cloned().unwrap_or_else(|| p.params.clone());
            c.rng = p.rng.clone();
            c.adam = p.adam.clone();
            c.resume_step = p.method.as_ref().and_then(|m| m.diagnostics().adapted_step_size);
        }
        fit.warm_origins = fit.chains.clone();
        fit.origin = origin;
        fit.refit_of = Some(prev.data.len());
        Ok(fit)
    }

    /// Whether this fit is a refit from a previous fit's posterior ([`Fit::warm_from`]).
    pub fn is_refit(&self) -> bool {
        self.refit_of.is_some()
    }

    /// The settings the fit was started with (a refit's shorter budget aside).
    pub fn origin(&self) -> &FitConfig {
        &self.origin
    }

    fn build(config: FitConfig, data: &Dataset, chains: &[usize], keep_scaling: Option<Scaling>) -> Result<Fit, FitError> {
        let k = config.inference.chains;
        if chains.is_empty() || chains.windows(2).any(|w| w[0] >= w[1]) || chains.iter().any(|&c| c >= k) {
            return Err(FitError::Invalid(format!("chains {chains:?} are not ascending chains of a {k}-chain fit")));
        }
        config.validate().map_err(|e| FitError::Invalid(e.0))?;
        data.check_fit().map_err(|e| FitError::Invalid(e.to_string()))?;
        if config.model.raw_scale {
            Scaling::check_raw(data, config.model.prior_scale).map_err(FitError::Invalid)?;
        }
        let scaling = keep_scaling.unwrap_or_else(|| Scaling::fit(data, config.model.raw_scale));
        let x: Vec<f64> = data.x.iter().map(|&v| scaling.x_to_std(v)).collect();
        let y: Vec<f64> = data.y.iter().map(|&v| scaling.y_to_std(v)).collect();
        if x.iter().chain(&y).any(|v| !v.is_finite()) {
            return Err(FitError::Invalid("the data cannot be standardised (values too large)".into()));
        }
        // All y equal: no spread to scale the noise by; use the fitting unit.
        let y_spread = match sd(&y) {
            s if s > 0.0 => s,
            _ => 1.0,
        };
        let model = Model::try_new(&config.model, &x, &scaling, y_spread).map_err(FitError::Invalid)?;
        model.check_noise(&x, &y).map_err(FitError::Invalid)?;
        let schedule = Schedule::new(&config);
        let mut base = Xoshiro256PlusPlus::seed_from_u64(config.inference.seed);
        let wanted = chains;
        let mut chains = Vec::with_capacity(wanted.len());
        for index in 0..k {
            let mut rng = base.clone();
            base.jump();
            if wanted.binary_search(&index).is_err() {
                continue;
            }
            let params = model.init(&mut rng);
            let d = model.dim();
            chains.push(Chain {
                index,
                rng,
                params,
                // The warm-up sigma starts at half the y spread: a mean that has not
                // been fitted yet explains nothing.
                const_log_sigma: (0.5 * y_spread).ln(),
                adam: Adam::new(d),
                adam_sigma: Adam::new(1),
                method: None,
                draws: Vec::new(),
                loss: f64::NAN,
                best_loss: f64::INFINITY,
                warm_lr: config.inference.warm_start_lr,
                backoffs: 0,
                gradients: 0,
                trace: Vec::new(),
                resume_step: None,
                keep_from: 0,
                restarted_at: None,
            });
        }
        let d = model.dim();
        let scratch = vec![Scratch { grad: vec![0.0; d], ..Scratch::default() }; chains.len()];
        Ok(Fit {
            origin: config.clone(),
            refit_of: None,
            config,
            model,
            scaling,
            x,
            y,
            data: data.clone(),
            schedule,
            step: 0,
            trace_stride: 1,
            error: None,
            scratch,
            threads: 1,
            cache: Default::default(),
            extend_done: false,
            extend_note: None,
            restart_note: None,
            awaiting_extension: false,
            warm_origins: chains.clone(),
            chains,
        })
    }

    pub fn steps_done(&self) -> usize {
        self.step
    }
    pub fn total_steps(&self) -> usize {
        self.schedule.budget
    }
    pub fn is_finished(&self) -> bool {
        self.step >= self.schedule.budget && !self.awaiting_extension
    }
    pub fn phase(&self) -> Phase {
        self.schedule.phase(self.step)
    }
    /// The error that stopped the fit, if any.
    pub fn error(&self) -> Option<&FitError> {
        self.error.as_ref()
    }
    /// Change the method's live-editable rate (its row's `rate`: the samplers' step
    /// size, VI's learning rate) while running; non-positive or non-finite values are
    /// ignored.
    pub fn set_rate(&mut self, v: f64) {
        if v.is_finite() && v > 0.0 {
            if let Some(rate) = &self.config.inference.method.spec().rate {
                (rate.set)(&mut self.config.inference, v);
            }
        }
    }
    /// The method's live-editable rate as it is now (`None`: the method has none).
    pub fn rate(&self) -> Option<f64> {
        self.config.inference.method.spec().rate.as_ref().map(|r| (r.get)(&self.config.inference))
    }
    /// Gradient evaluations per chain so far (mean over chains), warm start included.
    pub fn gradients(&self) -> usize {
        let warm = self.step.min(self.schedule.warm);
        let method = self.chains.iter().map(|c| c.gradients).sum::<usize>() / self.chains.len().max(1);
        warm + method
    }
    /// The method's own diagnostics, pooled over chains.
    pub fn method_diagnostics(&self) -> crate::summary::MethodDiagnostics {
        let v: Vec<_> = self.chains.iter().filter_map(|c| c.method.as_ref().map(|m| m.diagnostics())).collect();
        let mut d = crate::summary::MethodDiagnostics::pool(&v);
        for x in &mut d.divergence_x {
            *x = self.scaling.x_from_std(*x);
        }
        d
    }
    /// Each chain's warm-start learning rate: the configured one unless the warm start
    /// backed off (halved it after its loss exploded).
    pub fn warm_start_rates(&self) -> Vec<f64> {
        self.chains.iter().map(|c| c.warm_lr).collect()
    }
    /// Mean loss over chains (negative log posterior or negative ELBO per point).
    pub fn loss(&self) -> f64 {
        self.chains.iter().map(|c| c.loss).sum::<f64>() / self.chains.len() as f64
    }
    /// Mean MALA acceptance probability of the sampler's moves so far (full-batch
    /// samplers only; pSGLD from the end of burn-in), averaged over chains.
    pub fn mala_acceptance(&self) -> Option<f64> {
        let v: Vec<f64> = self
            .chains
            .iter()
            .filter_map(|c| c.method.as_ref().and_then(|m| m.mala()))
            .filter(|m| m.moves >= 100)
            .map(|m| m.mean_accept)
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }
    pub fn draws_kept(&self) -> usize {
        self.chains.iter().map(|c| c.draws.len()).sum()
    }
    pub fn data(&self) -> &Dataset {
        &self.data
    }
    /// The kept posterior draws of every chain, pooled, as flat parameter vectors in
    /// fitting units (network weights, then the noise parameters).
    pub fn draws(&self) -> Vec<Vec<f64>> {
        self.chains.iter().flat_map(|c| c.draws.iter().cloned()).collect()
    }
    /// VI only: the means and sds of chain `ci`'s variational posterior.
    pub fn variational_posterior(&self, ci: usize) -> Option<(Vec<f64>, Vec<f64>)> {
        self.chains.get(ci)?.method.as_ref()?.q_moments()
    }

    /// Advance every chain by up to `n` gradient steps, on up to [`Fit::set_threads`]
    /// threads (the chains are independent, so the result is the same on any number).
    /// On divergence the fit goes back to its state before this call and returns an
    /// error saying what to change.
    pub fn step(&mut self, n: usize) -> Result<(), FitError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let n = n.min(self.schedule.budget - self.step);
        if n == 0 {
            return Ok(());
        }
        let saved: Vec<(Chain, usize)> =
            self.chains.iter().map(|c| (Chain { draws: Vec::new(), ..c.clone() }, c.draws.len())).collect();
        let start = self.step;
        let shared = Shared {
            model: &self.model,
            x: &self.x,
            y: &self.y,
            config: &self.config,
            schedule: &self.schedule,
            trace_stride: self.trace_stride,
        };
        let failed =
            run_chains(&shared, &mut self.chains, &mut self.scratch, &self.warm_origins, start, n, self.threads);
        if let Some(e) = failed {
            for (c, (s, kept)) in self.chains.iter_mut().zip(saved) {
                let draws = std::mem::take(&mut c.draws);
                *c = s;
                c.draws = draws;
                c.draws.truncate(kept);
            }
            self.error = Some(e.clone());
            return Err(e);
        }
        self.step = start + n;
        if self.step >= self.schedule.warm {
            self.warm_origins = Vec::new();
        }
        // Each chain's trace holds its loss after every step that is a multiple of the
        // stride (`run_chain`); thinned to every other point (the multiples of twice the
        // stride) while too long, it is the same however the steps were chunked.
        while self.chains.first().is_some_and(|c| c.trace.len() > TRACE_POINTS) {
            for c in &mut self.chains {
                c.trace = c.trace.iter().step_by(2).copied().collect();
            }
            self.trace_stride *= 2;
        }
        if self.step == self.schedule.budget {
            self.maybe_extend();
        }
        Ok(())
    }

    /// At the end of the budget of a fit that may extend (`InferenceConfig::extend`):
    /// while the kept draws would earn a reliability warning, draw `draws / 2` more
    /// per chain, as long as the chain that used most gradients stays within
    /// `extend_gradients` (judged by its gradients per draw so far). Checked only at
    /// these fixed points, so the result does not depend on how the fit was chunked or
    /// threaded. The warnings need every chain (R-hat across them): a fit of some
    /// chains of a fit ([`Fit::new_chains`]) waits at the end of its budget for the
    /// decision of whoever pools all of them ([`super::pool::Pool::extension`]), given
    /// with [`Fit::extend`].
    fn maybe_extend(&mut self) {
        if !self.may_extend() {
            return;
        }
        if self.chains.len() < self.config.inference.chains {
            self.awaiting_extension = true;
            return;
        }
        let (warnings, figures) = self.unreliable_now();
        let figures: Vec<&super::pool::ChainFigures> = figures.iter().collect();
        let e = self.extend_spec().expect("the fit may extend").decide_for(warnings.is_empty(), &figures, self.schedule.budget);
        self.extend(&e);
    }

    /// Whether the fit extends at the end of its budget if its draws are unreliable:
    /// it may (`InferenceConfig::extend`, a method that [`MethodSpec::extends`]) and
    /// has not decided to stop.
    ///
    /// [`MethodSpec::extends`]: crate::config::MethodSpec::extends
    fn may_extend(&self) -> bool {
        let inf = &self.config.inference;
        inf.extend && inf.method.spec().extends && !self.extend_done
    }

    /// What the extend decision reads of the fit's settings and schedule, while it may
    /// still extend (in [`Fit::pool_spec`], for deciding apart from the chains).
    pub(crate) fn extend_spec(&self) -> Option<ExtendSpec> {
        let inf = &self.config.inference;
        // The method keeps every draw after its warm-up: the kept units are the draws.
        self.may_extend().then(|| ExtendSpec {
            planned: inf.draws,
            drawn: self.schedule.keep.len(),
            gradients_cap: inf.extend_cap(self.x.len()),
            restart_warmup: inf.restart_warmup(),
            restarted: self.restart_note.is_some(),
        })
    }

    /// Whether the fit (some chains of a fit) is at the end of its budget waiting for
    /// the decision whether to draw more ([`Fit::extend`]); it is not finished then.
    pub fn awaiting_extension(&self) -> bool {
        self.awaiting_extension
    }

    /// Apply an extend decision at the end of the budget (the fit's own, or the one
    /// made for all chains by [`super::pool::Pool::extension`]): draw `add` more units
    /// per chain, or stop, with the note saying why there (if any). Ignored unless the
    /// fit is at the end of its budget and may extend.
    pub fn extend(&mut self, e: &Extension) {
        if self.step != self.schedule.budget || !self.may_extend() {
            return;
        }
        self.awaiting_extension = false;
        match e {
            Extension::More(add) => {
                let end = self.schedule.budget;
                self.schedule.keep.extend(end..end + add);
                self.schedule.budget += add;
            }
            Extension::Done(note) => {
                self.extend_done = true;
                self.extend_note = note.clone();
            }
            Extension::Restart { chains, add, note } => {
                let warmup = self.config.inference.restart_warmup();
                for (ci, c) in self.chains.iter_mut().enumerate() {
                    if !chains.contains(&c.index) {
                        continue;
                    }
                    let Some(m) = c.method.as_ref().and_then(|m| m.restart(warmup)) else { continue };
                    c.method = Some(m);
                    c.draws.clear();
                    c.keep_from = self.step + warmup;
                    c.restarted_at = Some(self.step);
                    c.best_loss = f64::INFINITY;
                    if let Some(p) = self.cache.per_chain.get_mut(ci) {
                        p.clear();
                    }
                }
                let end = self.schedule.budget;
                self.schedule.keep.extend(end..end + add);
                self.schedule.budget += add;
                self.restart_note = Some(note.clone());
            }
        }
    }

    /// (step, loss) pairs, the loss averaged over the chains, thinned to at most
    /// `TRACE_POINTS`: the loss after every step that is a multiple of the trace
    /// stride, the stride doubled (every second point dropped) whenever there are too
    /// many; the same however [`Fit::step`] was chunked.
    pub fn trace(&self) -> Vec<(usize, f64)> {
        let t: Vec<&[(usize, f64)]> = self.chains.iter().map(|c| c.trace.as_slice()).collect();
        super::pool::pool_traces(&t)
    }

    /// The indices of this fit's chains among the `config.inference.chains` of the
    /// whole fit (all of them unless made by [`Fit::new_chains`]).
    pub fn chain_indices(&self) -> Vec<usize> {
        self.chains.iter().map(|c| c.index).collect()
    }

    /// Run the chains on up to `threads` threads in [`Fit::step`] (1: one after the
    /// other, the default; the page's worker has no threads and ignores this).
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }
}

/// What every chain of a fit reads and none writes (shared by the chains' threads).
struct Shared<'a> {
    model: &'a Model,
    /// Training data in fitting units.
    x: &'a [f64],
    y: &'a [f64],
    config: &'a FitConfig,
    schedule: &'a Schedule,
    /// Every step `t` with `t % trace_stride == 0` adds the chain's loss after it to its trace.
    trace_stride: usize,
}

/// One chain's working memory: gradient, model workspace, minibatch.
#[derive(Clone, Debug, Default)]
struct Scratch {
    ws: ModelWorkspace,
    grad: Vec<f64>,
    batch: Vec<usize>,
    bx: Vec<f64>,
    by: Vec<f64>,
    /// A noise law's parameters before the current step (a divergence is blamed on the
    /// formula when it is not finite there).
    noise_before: Vec<f64>,
}

/// Advance each chain by `n` units from unit `start`, on up to `threads` threads; the
/// first chain's error (by index) if any failed, with the chains left as they stopped.
fn run_chains(
    sh: &Shared,
    chains: &mut [Chain],
    scratch: &mut [Scratch],
    origins: &[Chain],
    start: usize,
    n: usize,
    threads: usize,
) -> Option<FitError> {
    let origin = |i: usize| origins.get(i);
    #[cfg(not(target_arch = "wasm32"))]
    if threads > 1 && chains.len() > 1 {
        let per = chains.len().div_ceil(threads);
        return std::thread::scope(|s| {
            let jobs: Vec<_> = chains
                .chunks_mut(per)
                .zip(scratch.chunks_mut(per))
                .enumerate()
                .map(|(j, (cs, ss))| {
                    s.spawn(move || {
                        let mut out = None;
                        for (i, (c, scr)) in cs.iter_mut().zip(ss).enumerate() {
                            if let Err(e) = run_chain(sh, c, scr, origin(j * per + i), start, n) {
                                out = Some(e);
                                break;
                            }
                        }
                        out
                    })
                })
                .collect();
            let results: Vec<Option<FitError>> =
                jobs.into_iter().map(|j| j.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect();
            results.into_iter().flatten().next()
        });
    }
    let _ = threads;
    for (i, (c, scr)) in chains.iter_mut().zip(scratch.iter_mut()).enumerate() {
        if let Err(e) = run_chain(sh, c, scr, origin(i), start, n) {
            return Some(e);
        }
    }
    None
}

/// Advance one chain from unit `start` to `start + n`. A warm start whose loss
/// explodes starts again from the chain's state before its first unit (`origin`) at
/// half the rate, up to `WARM_BACKOFFS` times, and runs on to `start + n`: the same
/// units in whatever chunks the fit is stepped. Any other failure is returned.
fn run_chain(
    sh: &Shared,
    c: &mut Chain,
    scr: &mut Scratch,
    origin: Option<&Chain>,
    start: usize,
    n: usize,
) -> Result<(), FitError> {
    let warm = sh.schedule.warm;
    let end = start + n;
    let mut t = start;
    while t < end {
        let Err(e) = advance(sh, c, scr, t) else {
            if t % sh.trace_stride == 0 {
                c.trace.push((t + 1, c.loss));
            }
            t += 1;
            continue;
        };
        match origin {
            Some(o) if t < warm && c.backoffs < WARM_BACKOFFS => {
                let (lr, b) = (0.5 * c.warm_lr, c.backoffs + 1);
                // Its trace starts again with it, at the steps the other chains' have.
                *c = Chain { warm_lr: lr, backoffs: b, trace: Vec::new(), ..o.clone() };
                t = 0;
            }
            _ => return Err(e),
        }
    }
    Ok(())
}

/// Pick the batch for one step: everything, or a random minibatch (scale N/B).
fn pick_batch(sh: &Shared, chain: &mut Chain, scr: &mut Scratch) -> f64 {
    let n = sh.x.len();
    let inf = &sh.config.inference;
    if n <= inf.minibatch_above || !inf.method.spec().minibatch {
        return 1.0;
    }
    let b = inf.batch_size.min(n);
    if scr.batch.len() != n {
        scr.batch = (0..n).collect();
    }
    let (chosen, _) = scr.batch.partial_shuffle(&mut chain.rng, b);
    scr.bx.clear();
    scr.by.clear();
    for &i in chosen.iter() {
        scr.bx.push(sh.x[i]);
        scr.by.push(sh.y[i]);
    }
    n as f64 / b as f64
}

/// One unit of work of a chain at per-chain unit `t`; the method's chain starts
/// where the warm start ends (at once when the method has none).
fn advance(sh: &Shared, chain: &mut Chain, scr: &mut Scratch, t: usize) -> Result<(), FitError> {
    unit(sh, chain, scr, t)?;
    if t + 1 == sh.schedule.warm {
        start_method(sh, chain);
    }
    Ok(())
}

fn start_method(sh: &Shared, chain: &mut Chain) {
    let inf = &sh.config.inference;
    let h = Handoff { params: &chain.params, adam: &chain.adam, inf, n: sh.x.len(), resume_step: chain.resume_step };
    chain.method = Some((inf.method.spec().start)(&h));
    // The method's loss (VI: the negative ELBO) is a new baseline.
    chain.best_loss = f64::INFINITY;
}

fn unit(sh: &Shared, chain: &mut Chain, scr: &mut Scratch, t: usize) -> Result<(), FitError> {
    let scale = pick_batch(sh, chain, scr);
    let sched = sh.schedule;
    let (mean_warm, warm) = (sched.mean_warm, sched.warm);
    let full = scale == 1.0;
    let n = sh.x.len() as f64;
    let inf = &sh.config.inference;
    let model = sh.model;
    let Scratch { ws, grad, bx, by, noise_before, .. } = scr;
    if grad.len() != model.dim() {
        grad.resize(model.dim(), 0.0);
    }
    let (x, y) = if full { (sh.x, sh.y) } else { (&bx[..], &by[..]) };
    noise_before.clear();
    if matches!(model.noise, crate::model::Noise::Law(_)) {
        noise_before.extend_from_slice(model.noise_params(&chain.params));
    }

    if t < warm {
        if t == mean_warm && mean_warm > 0 {
            model.hand_off_sigma(&mut chain.params, chain.const_log_sigma.exp());
            chain.adam.restart(|i| model.is_noise_param(i));
            // The objective changes (the model's own noise and its prior): a loss
            // above the mean-only phase's best is no explosion.
            chain.best_loss = f64::INFINITY;
        }
        let mean_only = t < mean_warm;
        let opts = EvalOptions { const_log_sigma: mean_only.then_some(chain.const_log_sigma), beta_nll: inf.beta_nll };
        let e = model.log_posterior(&chain.params, x, y, scale, &opts, ws, grad);
        if mean_only {
            for (i, g) in grad.iter_mut().enumerate() {
                if model.is_noise_param(i) {
                    *g = 0.0;
                }
            }
            let mut s = [chain.const_log_sigma];
            chain.adam_sigma.ascend(&mut s, &[e.d_const_log_sigma], chain.warm_lr);
            chain.const_log_sigma = s[0];
        }
        chain.adam.ascend(&mut chain.params, grad, chain.warm_lr);
        chain.loss = -e.log_post / n;
        check_warm(chain, t, inf.warm_start_lr, sh.config.model.raw_scale)
            .map_err(|e| blame_formula(e, model, &chain.params, noise_before, x, t))?;
        return Ok(());
    }

    if chain.method.is_none() {
        let h = Handoff { params: &chain.params, adam: &chain.adam, inf, n: sh.x.len(), resume_step: chain.resume_step };
        chain.method = Some((inf.method.spec().start)(&h));
        chain.best_loss = f64::INFINITY;
    }
    let at = At { t, ts: t - warm, units: sched.budget - warm, burn: sched.burn, inf };
    let mut target = Target { model, x, y, scale, n: sh.x.len(), ws };
    let method = chain.method.as_mut().expect("the method's chain was just started");
    let moved = method.advance(&mut chain.params, &mut chain.rng, &mut target, &at);
    chain.loss = moved.loss;
    chain.gradients += moved.gradients;
    // A method without a live rate (NUTS adapts its step) blames the prior scale:
    // wide priors are what lets a network's weights run off.
    let (what, value, default) = match &inf.method.spec().rate {
        Some(rate) => (rate.label, (rate.get)(inf), (rate.get)(&FitConfig::default().inference)),
        None => ("prior scale", sh.config.model.prior_scale, crate::config::ModelConfig::default().prior_scale),
    };
    check(chain, t, what, value, default).map_err(|e| blame_formula(e, model, &chain.params, noise_before, x, t))?;
    if t >= chain.keep_from && sched.keep.binary_search(&t).is_ok() {
        chain.draws.push(chain.params.clone());
    }
    Ok(())
}

/// Whether the last step diverged: NaN/Inf anywhere, or a loss far above the best
/// seen since the objective last changed. Says how; otherwise records the loss.
fn diverged(chain: &mut Chain) -> Option<&'static str> {
    if chain.params.iter().any(|v| !v.is_finite()) || !chain.loss.is_finite() {
        return Some("became NaN/Inf");
    }
    if chain.loss > chain.best_loss + EXPLODE_NATS_PER_POINT {
        return Some("exploded");
    }
    chain.best_loss = chain.best_loss.min(chain.loss);
    None
}

/// Divergence test in the warm start. `Fit::step` backs off (half the rate, from the
/// chain's first state) up to `WARM_BACKOFFS` times; this message is for when that did not help.
fn check_warm(chain: &mut Chain, t: usize, configured_lr: f64, raw: bool) -> Result<(), FitError> {
    let Some(how) = diverged(chain) else { return Ok(()) };
    let advice = if raw {
        "The data are fitted in their own units (raw scale), where the default priors and rates \
         do not suit them: fit them standardised (drop --raw, or untick \"raw scale\")."
    } else {
        "Try the default settings, or check the data for values far outside the others."
    };
    Err(FitError::Diverged(format!(
        "training diverged at step {} of the warm start (the loss {how}), also after halving its \
         learning rate {} times (from {} to {}). {advice} The last good state is kept.",
        t + 1,
        chain.backoffs,
        short(configured_lr),
        short(chain.warm_lr),
    )))
}

/// Divergence test after a sampler or VI step: says which setting to lower, and to
/// what: the default when the setting is above it (measured to work on the reference
/// data), else a tenth of it.
fn check(chain: &mut Chain, t: usize, what: &str, value: f64, default: f64) -> Result<(), FitError> {
    let Some(how) = diverged(chain) else { return Ok(()) };
    let advice = if value > default * (1.0 + 1e-9) {
        format!("try {} (the default)", short(default))
    } else if what == "step size" {
        format!(
            "try {} or smaller (with SGLD, or pSGLD, whose preconditioner scales the steps to the posterior)",
            short(value / 10.0)
        )
    } else {
        format!("try {} or smaller", short(value / 10.0))
    };
    Err(FitError::Diverged(format!(
        "training diverged at step {} (the loss {how}): the {what} {} is too large; {advice}. \
         The last good state is kept.",
        t + 1,
        short(value),
    )))
}

/// A divergence where the noise formula is not finite (or its slope is not) at the
/// law's parameters before the step (`before`; the weights after it) is the formula's
/// doing, not the step size's: say so instead.
fn blame_formula(e: FitError, model: &Model, p: &[f64], before: &[f64], x: &[f64], t: usize) -> FitError {
    if before.is_empty() {
        return e;
    }
    let mut p = p.to_vec();
    let nd = p.len() - before.len();
    p[nd..].copy_from_slice(before);
    match model.noise_fault(&p, x) {
        Some(w) => FitError::Diverged(format!(
            "training diverged at step {}: {w}. Change the noise formula or narrow its priors. The last good state is kept.",
            t + 1
        )),
        None => e,
    }
}

/// A number in two significant digits, e.g. 6e-4 or 2.5e-3.
fn short(v: f64) -> String {
    let s = format!("{v:.1e}");
    s.replace(".0e", "e")
}

/// Population standard deviation.
fn sd(v: &[f64]) -> f64 {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / v.len() as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_follows_the_measured_defaults() {
        let mut c = FitConfig::default();
        c.inference.method_for_step_budget(); // pSGLD's schedule (NUTS's: tests/nuts.rs)
        let s = Schedule::new(&c);
        assert_eq!((s.warm, s.mean_warm), (2000, 1000));
        assert_eq!(s.burn, 5400);
        assert_eq!(s.keep.len(), 100);
        assert_eq!(*s.keep.last().unwrap(), 19_999);
        assert!(s.keep[0] >= 7400);
        assert!(s.keep.windows(2).all(|w| w[1] - w[0] == 126));
    }

    #[test]
    fn cyclical_draws_come_from_second_halves_of_cycles() {
        let mut c = FitConfig::default();
        c.inference.method_for_step_budget(); // pSGLD's
        c.inference.cycles = 4;
        let s = Schedule::new(&c);
        let rest = c.inference.steps - s.warm;
        assert_eq!(s.keep.len(), 100);
        for &k in &s.keep {
            assert!(cycle_pos(k - s.warm, rest, 4) >= 0.5);
        }
    }

    fn figures(index: usize, divergences: usize, kept: usize) -> super::super::pool::ChainFigures {
        super::super::pool::ChainFigures {
            index,
            step: 0,
            loss: 0.0,
            trace: vec![],
            gradients: 0,
            method: Some(crate::summary::MethodDiagnostics { divergences: Some(divergences), ..Default::default() }),
            mala: None,
            kept,
            keep_from: 0,
            restarted_at: None,
            error: None,
        }
    }

    #[test]
    fn a_chain_is_stuck_when_half_its_kept_draws_and_at_least_20_diverge() {
        let f = [figures(0, 150, 300), figures(1, 149, 300), figures(2, 19, 20), figures(3, 20, 40), figures(4, 0, 0)];
        let stuck = stuck_chains(&f.iter().collect::<Vec<_>>());
        let at: Vec<usize> = stuck.iter().map(|s| s.index).collect();
        assert_eq!(at, vec![0, 3]);
        assert_eq!(stuck[0], Stuck { index: 0, divergences: 150, kept: 300 });
    }

    #[test]
    fn unreliable_draws_with_a_stuck_chain_restart_it_once_within_twice_the_cap() {
        let spec = ExtendSpec { planned: 300, drawn: 300, gradients_cap: 100_000, restart_warmup: 150, restarted: false };
        let stuck = [Stuck { index: 1, divergences: 290, kept: 300 }];
        // 100 gradients per unit over 600 units: the restart's 450 units take 45,000.
        match spec.decide(false, 60_000, 600, &stuck) {
            Extension::Restart { chains, add, note } => {
                assert_eq!((chains, add), (vec![1], 450));
                assert!(note.starts_with("chain 2 diverged on 290 of its 300 draws: its adapted step"), "{note}");
            }
            e => panic!("{e:?}"),
        }
        // Not when the draws are reliable, nor without a stuck chain: as before.
        assert_eq!(spec.decide(true, 60_000, 600, &stuck), Extension::Done(None));
        assert_eq!(spec.decide(false, 60_000, 600, &[]), Extension::More(150));
        // Not beyond twice the cap (the extend cap stops the fit then).
        assert!(matches!(spec.decide(false, 160_000, 600, &stuck), Extension::Done(Some(_))));
        // Once per fit: then the cap decides, and the notes say after what.
        let after = ExtendSpec { restarted: true, drawn: 750, ..spec };
        assert_eq!(after.decide(false, 60_000, 1050, &stuck), Extension::More(150));
        let Extension::Done(Some(n)) = after.decide(false, 110_000, 1050, &stuck) else { panic!() };
        assert!(n.starts_with("the chains still disagreed after the restart (110000 gradients"), "{n}");
        assert_eq!(after.decide(true, 110_000, 1050, &[]), Extension::Done(Some("after the restart the chains agreed".into())));
    }

    #[test]
    fn small_budgets_still_give_a_valid_schedule() {
        let mut c = FitConfig::default();
        c.inference.steps = 50;
        c.inference.method_for_step_budget(); // a step budget: pSGLD
        let s = Schedule::new(&c);
        assert!(s.warm <= 20 && s.keep.len() <= 100 && s.keep.iter().all(|&k| k < 50));
    }
}
