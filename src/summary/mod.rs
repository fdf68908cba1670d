//! Predictive summary: bands on an x grid, noise-law parameters, convergence
//! diagnostics, metrics against a known truth and calibration on observed points.

pub mod acquisition;
pub mod bands;
pub mod calibration;
pub mod compare;
pub mod diagnostics;
pub mod metrics;

use serde::{Deserialize, Serialize};

pub use bands::PredictiveSummary;
pub use diagnostics::{ess, split_rhat, MethodDiagnostics};
pub use calibration::Calibration;
pub use metrics::{GridMetrics, HeldOutMetrics};

/// Which stage a fit is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Adam on the log posterior (the first half with one constant sigma when the
    /// mean-only warm-up is on).
    WarmStart,
    /// Sampler running, draws discarded.
    BurnIn,
    /// Sampler running, draws kept (VI: optimising the variational posterior).
    Sampling,
    Finished,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::WarmStart => "warm start",
            Phase::BurnIn => "burn-in",
            Phase::Sampling => "sampling",
            Phase::Finished => "finished",
        }
    }
}

/// A noise-law parameter (or the homoskedastic sigma) in data units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamSummary {
    pub name: String,
    pub mean: f64,
    /// 2.5% and 97.5% posterior quantiles.
    pub lo: f64,
    pub hi: f64,
    /// Split R-hat over the pooled chains (None until there are enough draws).
    pub rhat: Option<f64>,
    /// Bulk ESS over the pooled chains (None for samples from q and with too few draws).
    pub ess: Option<f64>,
}

/// Progress figures and the predictive summary of a fit at one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Gradient steps done per chain, and the budget per chain.
    pub step: usize,
    pub total_steps: usize,
    pub phase: Phase,
    /// Where the warm start and the burn-in (NUTS: its warm-up) end, in the units of
    /// `step`: the loss plot marks the phases.
    #[serde(default)]
    pub phase_ends: (usize, usize),
    /// The current objective: negative log posterior (samplers) or negative ELBO (VI),
    /// per data point, averaged over chains.
    pub loss: f64,
    /// (step, loss) pairs, thinned to at most a few hundred points.
    pub trace: Vec<(usize, f64)>,
    /// Posterior draws kept so far, all chains together.
    pub draws_kept: usize,
    /// Largest split R-hat over the noise parameters and the mean at a few x.
    pub rhat_max: Option<f64>,
    pub summary: PredictiveSummary,
    pub params: Vec<ParamSummary>,
    /// Mean Metropolis acceptance the sampler's moves would have had as MALA
    /// proposals: a step-size diagnostic (low = step too large).
    #[serde(default)]
    pub mala_accept: Option<f64>,
    /// Things the user should know (R-hat > 1.05, a step size too large, ...).
    pub warnings: Vec<String>,
    /// Gradient evaluations per chain so far (`step` counts the method's units of work).
    #[serde(default)]
    pub gradients: usize,
    /// Parameter vectors sampled from a variational posterior q for the bands (VI);
    /// 0 for samplers, whose draws are `draws_kept`.
    #[serde(default)]
    pub samples_from_q: usize,
    /// The method's own diagnostics (e.g. NUTS's divergences and tree depth).
    #[serde(default)]
    pub method: MethodDiagnostics,
    /// Facts about the fit that are not problems (e.g. that VI is tempered).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The fit is a refit started from the previous fit's posterior (`Fit::warm_from`).
    #[serde(default)]
    pub warm: bool,
    /// The mean functions mu(x) on the grid (data units) of up to
    /// [`bands::FUNCTION_DRAWS`] posterior draws (VI: samples from q), spread evenly over
    /// the pooled draws (`bands::spread_picks`): the plot's thin posterior-draw lines.
    #[serde(default)]
    pub function_draws: Vec<Vec<f64>>,
    /// Finished fits of chains to compare: the narrowest chain's epistemic band as a
    /// share of the pooled one's, averaged over the data's x range
    /// (`diagnostics::chain_band`; a stuck chain is far below 1).
    #[serde(default)]
    pub chain_band: Option<f64>,
    /// Chains that started again with a fresh warm-up (a stuck NUTS chain,
    /// `infer::fit::Extension::Restart`): (chain index, the unit it started again at,
    /// the unit its warm-up ended at); the loss plot marks them.
    #[serde(default)]
    pub restarts: Vec<(usize, usize, usize)>,
}
