//! `FitConfig`: the one settings type shared by the URL, the UI, the worker and the CLI.
//!
//! Every hyper-parameter default lives here, each with the reason it was chosen
//! (most were measured in the JAX prototype, see docs/ARCHITECTURE.md §3).

use serde::{Deserialize, Serialize};

use crate::model::noise_law::{LawPreset, CUSTOM_LABEL, CUSTOM_NAME, PRESETS};

/// Which Bayesian neural network to fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// y ~ N(mu_w(x), sigma^2), sigma ~ HalfNormal(1).
    Homoskedastic,
    /// The network outputs the mean and the noise sd (softplus + floor).
    TwoHead,
    /// y ~ N(mu_w(x), sigma(x; theta)^2) with a parametric noise law.
    NoiseModel,
}

/// A registry's names for help texts and error lists: `sep` between them, `last` before the
/// last one, e.g. `join_names(&["a", "b", "c"], ", ", " or ")` = "a, b or c".
pub fn join_names(names: &[&str], sep: &str, last: &str) -> String {
    match names.split_last() {
        Some((l, rest)) if !rest.is_empty() => format!("{}{last}{l}", rest.join(sep)),
        _ => names.join(sep),
    }
}

/// The noise law of the noise-model BNN: one of the built-in presets (the rows of
/// [`crate::model::noise_law::PRESETS`]) or the user's own formula (`custom`). In the
/// settings, the URL and the CLI it is the preset's name or `custom`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NoiseLawKind(usize);

impl NoiseLawKind {
    /// The user's formula (`ModelConfig::noise_formula`).
    pub const CUSTOM: NoiseLawKind = NoiseLawKind(PRESETS.len());

    /// The built-in laws, in the registry's order.
    pub fn presets() -> impl Iterator<Item = NoiseLawKind> {
        (0..PRESETS.len()).map(NoiseLawKind)
    }
    /// Every choice of the page's picker: the presets, then the custom formula.
    pub fn all() -> impl Iterator<Item = NoiseLawKind> {
        (0..=PRESETS.len()).map(NoiseLawKind)
    }
    /// The preset's registry row (None for the custom formula).
    pub fn preset(self) -> Option<&'static LawPreset> {
        PRESETS.get(self.0)
    }
    pub fn is_custom(self) -> bool {
        self.0 >= PRESETS.len()
    }
    /// The short name used by the CLI (`noise:NAME`), the URL and the settings file.
    pub fn name(self) -> &'static str {
        self.preset().map_or(CUSTOM_NAME, |p| p.name)
    }
    /// The page's picker label.
    pub fn label(self) -> &'static str {
        self.preset().map_or(CUSTOM_LABEL, |p| p.label)
    }
    pub fn from_name(s: &str) -> Option<Self> {
        Self::all().find(|k| k.name() == s)
    }
    /// A preset by name, for tests and examples (panics on an unknown name).
    pub fn named(s: &str) -> Self {
        Self::from_name(s).unwrap_or_else(|| panic!("no noise law '{s}'"))
    }
    /// The names for help texts and error lists in the registry's order, e.g.
    /// `names(", ", " or ")` = "constant, linear, ..., signal or custom".
    pub fn names(sep: &str, last: &str) -> String {
        join_names(&Self::all().map(|k| k.name()).collect::<Vec<_>>(), sep, last)
    }
}

impl Serialize for NoiseLawKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for NoiseLawKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NoiseLawKind::from_name(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown noise law '{s}': use {}", NoiseLawKind::names(", ", " or ")))
        })
    }
}

/// The network's hidden-layer activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Tanh,
    Silu,
    Relu,
}

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Silu => "silu",
            Activation::Relu => "relu",
        }
    }
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "tanh" => Some(Activation::Tanh),
            "silu" => Some(Activation::Silu),
            "relu" => Some(Activation::Relu),
            _ => None,
        }
    }
}

/// The inference method. Everything about one method is its row of [`METHODS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Mean-field variational inference (Bayes by Backprop, local reparameterisation).
    Vi,
    /// Stochastic-gradient Langevin dynamics (Welling & Teh 2011).
    Sgld,
    /// RMSprop-preconditioned SGLD (Li et al. 2016): the fast approximate sampler.
    Psgld,
    /// The No-U-Turn Sampler (nuts-rs), NeuroBayes's own: the default, and at
    /// NeuroBayes's budget the reference.
    Nuts,
}

/// The live-editable setting of a method (the one a running fit picks up).
#[derive(Clone, Copy, Debug)]
pub struct RateSetting {
    /// Its name in the settings JSON and the URL.
    pub key: &'static str,
    /// In words, for messages ("the step size 2e-3 is too large").
    pub label: &'static str,
    /// The page's field (its id in `ui::method_panel`).
    pub field: &'static str,
    pub get: fn(&InferenceConfig) -> f64,
    pub set: fn(&mut InferenceConfig, f64),
}

/// What a method's units of work are, and so what its budget counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Units {
    /// Gradient steps: the budget is `steps` (warm start included).
    Steps,
    /// Draws of a sampler whose draws take a variable number of gradients: the budget
    /// is `warmup + draws` per chain; `steps` is not used.
    Draws,
}

/// What a method keeps for the bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keeps {
    /// Posterior draws from its chains (R-hat compares the chains).
    Draws,
    /// A variational posterior q, sampled `draws` times per chain for the bands.
    SamplesFromQ,
}

/// One inference method: its names, words, settings, live rate and schedule, and
/// the constructor of its chains. Adding a method is its file in `infer/`, one row here
/// and its settings in [`InferenceConfig`].
pub struct MethodSpec {
    pub method: Method,
    /// The CLI's `--method`, the URL's and the settings file's name.
    pub name: &'static str,
    /// The page's picker label.
    pub label: &'static str,
    /// A short name for the status line and plot titles.
    pub short: &'static str,
    /// One line for the page's help under the picker.
    pub description: &'static str,
    /// The live-editable setting; `None` when nothing applies live (NUTS adapts its
    /// step size itself).
    pub rate: Option<RateSetting>,
    /// The page's hint under the rate's field.
    pub rate_hint: &'static str,
    /// Draws kept per chain by default (the CLI's `--method` without `--draws`).
    pub default_draws: usize,
    pub units: Units,
    /// Whether large data sets may be subsampled (minibatches); NUTS needs exact gradients.
    pub minibatch: bool,
    pub keeps: Keeps,
    /// Whether the Adam warm start runs first.
    pub warm_start: bool,
    /// Whether the budget may grow past the planned draws while the chains disagree
    /// (`InferenceConfig::extend`): a method that keeps every draw after its warm-up.
    pub extends: bool,
    /// The page's fields of this method's own settings (ids of `ui::method_panel`).
    pub settings: &'static [&'static str],
    /// How to give the method more time, for the reliability warnings ("...; train
    /// longer (more Steps) or run more Chains"), naming the page's field.
    pub longer: &'static str,
    /// What the loss is called on the page.
    pub loss_name: &'static str,
    /// (burn-in units, kept units) given the warm start's length and the units after it.
    pub plan: fn(&InferenceConfig, usize, usize) -> (usize, Vec<usize>),
    /// The KL weight when the method's posterior is tempered by the settings.
    pub tempered: fn(&InferenceConfig) -> Option<f64>,
    /// A chain of the method, from the warm start's end state.
    pub start: fn(&crate::infer::method::Handoff) -> Box<dyn crate::infer::method::MethodChain>,
}

fn get_step_size(i: &InferenceConfig) -> f64 {
    i.step_size
}
fn set_step_size(i: &mut InferenceConfig, v: f64) {
    i.step_size = v;
}
const STEP_SIZE: RateSetting =
    RateSetting { key: "step_size", label: "step size", field: "step-size", get: get_step_size, set: set_step_size };

/// The methods, in the order of the [`Method`] variants (checked by a test).
pub const METHODS: [MethodSpec; 4] = [
    MethodSpec {
        method: Method::Vi,
        name: "vi",
        label: "VI (mean-field)",
        short: "VI",
        description: "Fits a factorised Gaussian to the posterior (Bayes by Backprop). About twice the time of pSGLD, with narrower bands; a KL weight below 1 tempers the posterior.",
        rate: Some(RateSetting {
            key: "vi_lr",
            label: "learning rate",
            field: "learning-rate",
            get: |i| i.vi_lr,
            set: |i, v| i.vi_lr = v,
        }),
        rate_hint: "Adam, cosine-decayed; changes apply live",
        default_draws: 100,
        units: Units::Steps,
        minibatch: true,
        keeps: Keeps::SamplesFromQ,
        warm_start: true,
        extends: false,
        settings: &["learning-rate", "kl-weight"],
        longer: "train longer (more Steps)",
        loss_name: "−ELBO/N",
        plan: crate::infer::method::no_draws,
        tempered: |i| (i.kl_weight < 1.0).then_some(i.kl_weight),
        start: crate::infer::vi::ViChain::start,
    },
    MethodSpec {
        method: Method::Sgld,
        name: "sgld",
        label: "SGLD (Langevin)",
        short: "SGLD",
        description: "Plain stochastic-gradient Langevin dynamics with a decaying step a(b+t)^−0.55.",
        rate: Some(RateSetting {
            key: "sgld_step_size",
            label: "step size",
            field: "step-size",
            get: |i| i.sgld_step_size,
            set: |i, v| i.sgld_step_size = v,
        }),
        rate_hint: "initial a·b^−0.55; changes apply live",
        default_draws: 100,
        units: Units::Steps,
        minibatch: true,
        keeps: Keeps::Draws,
        warm_start: true,
        extends: false,
        settings: &["step-size", "burn-in"],
        longer: "train longer (more Steps)",
        loss_name: "loss",
        plan: crate::infer::method::sampler_plan,
        tempered: |_| None,
        start: crate::infer::sgld::SgldChain::start,
    },
    MethodSpec {
        method: Method::Psgld,
        name: "psgld",
        label: "pSGLD (fast, approximate)",
        short: "pSGLD",
        description: "Samples the posterior with RMSprop-preconditioned Langevin dynamics after an Adam warm start: fast, approximate (its chains mix slowly on small data; the warnings say when).",
        rate: Some(STEP_SIZE),
        rate_hint: "pSGLD ε; changes apply live",
        default_draws: 100,
        units: Units::Steps,
        minibatch: true,
        keeps: Keeps::Draws,
        warm_start: true,
        extends: false,
        settings: &["step-size", "burn-in"],
        longer: "train longer (more Steps)",
        loss_name: "loss",
        plan: crate::infer::method::sampler_plan,
        tempered: |_| None,
        start: crate::infer::psgld::PsgldChain::start,
    },
    MethodSpec {
        method: Method::Nuts,
        name: "nuts",
        label: "NUTS (No-U-Turn, the default)",
        short: "NUTS",
        description: "The No-U-Turn Sampler that NeuroBayes uses, with its own step-size and mass-matrix adaptation during the warm-up draws and exact full-batch gradients. While its chains still disagree it draws more, within a budget. With 1000 warm-up + 1000 draws and depth 10 (NeuroBayes's settings) it is the reference.",
        rate: None,
        rate_hint: "",
        default_draws: 150,
        units: Units::Draws,
        minibatch: false,
        keeps: Keeps::Draws,
        warm_start: false,
        extends: true,
        settings: &["warmup", "target-accept", "max-depth"],
        longer: "draw more (more Draws kept / chain)",
        loss_name: "loss",
        plan: crate::infer::nuts::plan,
        tempered: |_| None,
        start: crate::infer::nuts::NutsMethod::start,
    },
];

/// The budget of a refit started from the previous fit's posterior after new points
/// (the page's Measure next, `infer::Fit::warm_from`): each chain starts at its last
/// draw with the previous fit's standardisation, so it needs no warm start and a short
/// warm-up. Issue 14's target: at most a third of a fresh default fit's time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RefitBudget {
    /// NUTS: warm-up and kept draws per chain (at most the configured ones); the step
    /// size adaptation starts from the previous fit's adapted step size.
    pub nuts_warmup: usize,
    pub nuts_draws: usize,
    /// The step methods (pSGLD, SGLD, VI): this fraction of their steps, with no warm start.
    pub steps_frac: f64,
}

/// NUTS 20 + 50 draws, a refit's draws costing what the fresh fit's do: about a third of
/// v=5's 100 + 150 at depth 9 (30 + 70 was a third of v=4's 300 + 300 at depth 7).
pub const REFIT: RefitBudget = RefitBudget { nuts_warmup: 20, nuts_draws: 50, steps_frac: 0.25 };

impl InferenceConfig {
    /// The gradients per chain an extending fit on `n` points stays within:
    /// `extend_gradients` x clamp(330 / (N + 180), 1, 1.5), so up to 1.5 times the
    /// setting on fewer than 150 points.
    ///
    /// A gradient is cheap on few points, and NeuroBayes's time does not shrink as fast:
    /// its ~2 million gradients cost about 60 + 0.32 N CPU-s (72-76 at N = 40, 105-111 at
    /// 150, 118-126 at 200; `benches/reference`), so 1/20 of it is 3 + 0.016 N, while a
    /// default NUTS fit here costs about 2 x (6 + 0.09 N) CPU-us per gradient of a chain
    /// (both chains; AMD EPYC, 2026-12-03: 1.9 CPU-s for 98,000 at N = 40, 3.1-4.8 for
    /// 100,000 at 150). 1.5 x 100,000 at N <= 40 is 3.0 CPU-s of the 3.6 allowed, and
    /// about 2.4 of 2.45 at N = 20; from N = 150 the cap is `extend_gradients` itself.
    /// Measured: the nb_exp exponential law, which warned on every seed at 100,000 (R-hat
    /// 1.06-1.09, the fit stopping at its cap after 200 draws), agreed after 300 draws
    /// with 122,000 gradients per chain (R-hat 1.006-1.035, 2.2-2.3 CPU-s).
    pub fn extend_cap(&self, n: usize) -> usize {
        let f = (330.0 / (n as f64 + 180.0)).clamp(1.0, 1.5);
        (self.extend_gradients as f64 * f).round() as usize
    }

    /// The fresh warm-up of a chain that starts again because its draws nearly all
    /// diverge (`infer::fit::Extension::Restart`): half the warm-up, at least 50. From
    /// the stuck chains' own positions on the reference sets (2026-12-07), 150 draws
    /// gave 6-17 divergences in the 300 after them (the stuck runs: 221-448) and noise
    /// parameters agreeing with the other chain's (R-hat 1.00-1.03).
    pub fn restart_warmup(&self) -> usize {
        (self.warmup / 2).max(50)
    }

    /// The settings of a refit from the previous posterior ([`REFIT`]).
    pub fn for_refit(&self) -> InferenceConfig {
        let mut i = self.clone();
        match i.method.spec().units {
            Units::Draws => {
                i.warmup = i.warmup.min(REFIT.nuts_warmup);
                i.draws = i.draws.min(REFIT.nuts_draws);
            }
            Units::Steps => i.steps = ((i.steps as f64 * REFIT.steps_frac).round() as usize).max(100),
        }
        i
    }

    /// The budget per chain in the method's units: gradient steps, or NUTS's draws.
    pub fn budget(&self) -> usize {
        match self.method.spec().units {
            Units::Steps => self.steps,
            Units::Draws => self.warmup + self.draws,
        }
    }

    /// A budget in gradient steps given without a method (the CLI's `--steps`, `steps=`
    /// in a link) is a step sampler's budget, honoured exactly: when the method counts
    /// draws (NUTS, the default), it becomes [`STEP_BUDGET_METHOD`] with that method's
    /// default draws if the draws were the old method's default. Returns whether it
    /// switched (the CLI says so in a note).
    pub fn method_for_step_budget(&mut self) -> bool {
        if self.method.spec().units == Units::Steps {
            return false;
        }
        if self.draws == self.method.spec().default_draws {
            self.draws = STEP_BUDGET_METHOD.spec().default_draws;
        }
        self.method = STEP_BUDGET_METHOD;
        true
    }
}

/// The method a step budget without a method means: pSGLD, the default before NUTS was
/// (so `--steps 20000` and old `steps=` links mean what they always did).
pub const STEP_BUDGET_METHOD: Method = Method::Psgld;

impl Method {
    /// Every method, in the page's picker order.
    pub const ALL: [Method; 4] = [Method::Nuts, Method::Psgld, Method::Sgld, Method::Vi];

    /// The method's row of [`METHODS`].
    pub fn spec(self) -> &'static MethodSpec {
        &METHODS[self as usize]
    }
    pub fn name(self) -> &'static str {
        self.spec().name
    }
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == s)
    }
    /// The names for help texts and error lists in the registry's order, e.g.
    /// `names(", ", " or ")` = "vi, sgld, psgld or nuts".
    pub fn names(sep: &str, last: &str) -> String {
        join_names(&METHODS.iter().map(|m| m.name).collect::<Vec<_>>(), sep, last)
    }
}

/// The model: network shape, likelihood and priors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelConfig {
    pub kind: ModelKind,
    /// Only read when `kind == NoiseModel`: a preset's name or `custom`.
    pub noise_law: NoiseLawKind,
    /// The custom law (`noise_law` = custom): sigma(x; theta) in data units, e.g.
    /// `a*exp(b*x)` (docs/ARCHITECTURE.md §2). Empty by default.
    pub noise_formula: String,
    /// Priors of the law's parameters in data units, e.g. `a~lognormal(-2,1); b~normal(0,1)`:
    /// they replace the preset's (or, for a custom formula, the default: real, scaled to
    /// the data by the parameter's units) for the parameters they name. Empty by default.
    pub noise_priors: String,
    /// Hidden widths; NeuroBayes's example architecture by default. Empty = linear model.
    pub hidden: Vec<usize>,
    pub activation: Activation,
    /// Prior sd of every weight and bias (NeuroBayes: N(0, 1)).
    pub prior_scale: f64,
    /// Fit on the data as given instead of z-scores (what NeuroBayes does).
    pub raw_scale: bool,
    /// Two-head noise floor, as a fraction of the y scale: keeps the likelihood
    /// from collapsing onto a single point.
    pub sigma_floor: f64,
    /// Test-only: a known, fixed noise sd (standardised units) for the homoskedastic
    /// model, which makes a network without hidden layers Bayesian linear regression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_sigma: Option<f64>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            kind: ModelKind::TwoHead,
            noise_law: NoiseLawKind::named("exponential"),
            noise_formula: String::new(),
            noise_priors: String::new(),
            hidden: vec![32, 16, 8],
            activation: Activation::Tanh,
            prior_scale: 1.0,
            raw_scale: false,
            sigma_floor: 1e-3,
            fixed_sigma: None,
        }
    }
}

/// Settings of the inference method. One struct for all methods so that the UI can
/// keep a user's choices when switching method; each method reads its own fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InferenceConfig {
    pub method: Method,
    /// Gradient budget per chain, warm start included, of the methods that count steps
    /// (pSGLD, SGLD, VI; prototype: 20k reaches NeuroBayes's quality on the reference
    /// data). NUTS does not use it: see [`InferenceConfig::method_for_step_budget`].
    pub steps: usize,
    /// Independent chains, pooled (2: the seed spread of the NLL at N = 40 was 0.03-0.08).
    pub chains: usize,
    pub seed: u64,
    /// Warm start (Adam on the log posterior) as a fraction of the budget; the
    /// actual count is clamped to min(max(frac·B, 2000), 0.4·B): fewer than
    /// ~1000-2000 steps left N = 40-50 fits unconverged.
    pub warm_start_frac: f64,
    pub warm_start_lr: f64,
    /// First half of the warm start fits the mean with one constant sigma, then hands
    /// it to the noise head/law: otherwise the noise soaks up the signal.
    pub mean_warmup: bool,
    /// pSGLD's step size eps. 2e-4, measured on the reference data with 6 seeds
    /// each: at N = 40 the chains leave the warm-start mode for a long transient in
    /// which the mean fits worse, and a smaller step keeps a 20k budget inside it for
    /// less (mean NLL, nb_exp exponential law: 5e-4 -0.055, 2e-4 -0.109, 1e-4 -0.141;
    /// two-head: -0.010, -0.088, -0.105); at N = 150-200 the three were within 0.02,
    /// with 1e-4 the worst on bump.
    pub step_size: f64,
    /// SGLD's initial step per data point (eps_0 = sgld_step_size / N), a setting of
    /// its own: at pSGLD's 2e-4 plain SGLD barely moves (MALA acceptance 0.99). Measured
    /// with the CLI's defaults otherwise, seed 0, NLL_exact on the reference sets (nb_exp
    /// law / two-head, nb_step two-head, bump law / two-head): 2e-4 -0.177 / -0.146,
    /// 0.115, -0.808 / -0.790; 5e-4 nb_step two-head 0.094, bump -0.819 / -0.798;
    /// 1e-3 -0.130 / -0.129, 0.062, -0.829 / -0.812; 2e-3 diverged on 3 of 6 fits
    /// (nb_exp law, both bump models) and 5e-3 on 5 of 6. 5e-4: most of 1e-3's gain on
    /// the larger sets with a factor 4 to the step at which fits diverge.
    pub sgld_step_size: f64,
    /// pSGLD RMSprop decay and damping (Li et al. 2016).
    pub psgld_alpha: f64,
    pub psgld_lambda: f64,
    /// Freeze the pSGLD preconditioner when burn-in ends. A preconditioner that keeps
    /// adapting to recent gradients moves the chain slowly exactly where gradients are
    /// large (far from the mode), which over-disperses the draws (1.8x the variance of
    /// a conjugate posterior in our test); frozen, pSGLD is plain SGLD with a constant
    /// diagonal preconditioner and has the right stationary distribution.
    pub psgld_freeze: bool,
    /// SGLD polynomial decay offset b in a(b+t)^-0.55.
    pub sgld_decay_offset: f64,
    /// Cyclical step size (Zhang et al. 2020): number of cycles over the sampling phase; 0 = off.
    pub cycles: usize,
    /// Fraction of the post-warm-start budget discarded as burn-in.
    pub burn_in_frac: f64,
    /// Draws kept per chain, evenly spaced over the sampling phase (NUTS: every draw
    /// after its warm-up). The default is the default method's (NUTS, 150; the
    /// others 100: [`MethodSpec::default_draws`]); NeuroBayes draws 1000.
    pub draws: usize,
    /// NUTS: warm-up draws per chain (step size and mass matrix adapt; none is kept).
    /// 100 (NeuroBayes: 1000): see `max_depth` for what was measured.
    pub warmup: usize,
    /// NUTS: target mean acceptance probability of the step-size adaptation.
    pub target_accept: f64,
    /// NUTS: maximum tree depth (at most 2^max_depth - 1 leapfrog steps per draw).
    /// 9 (NeuroBayes: 10), with 100 warm-up + 150 draws (v=5 links; issue 11, session 14),
    /// chosen by the noise parameters' bulk ESS and the fidelity table at the same
    /// gradients as v=4's 300 + 300 at depth 7 (Intel Xeon, 2 cores, 2026-12-07): the
    /// 12 noise-law fits of the reference sets (seeds 0-2) reach a smallest ESS of 12-485
    /// (median 178) against 6-162 (median 55), divergent draws 6-76 per fit against 25-196,
    /// and `benches/fidelity.sh 0` has a mean |Δmean| / sd_total of 0.026 against 0.032,
    /// epistemic sd ratios 0.026 from 1 on average against 0.040, theta overlap 0.87
    /// against 0.82. The trees reach depth 9 on most draws (the references at depth 10:
    /// 85-95%, whose draws are nearly independent: ESS 1934-3925 of 4000): a longer
    /// trajectory moves the slow directions much further per gradient.
    /// `benches/warnings.sh` over seeds 0-5: 8 of 72 fits warn (v=4's: 9), 5 of 24 noise-law
    /// fits keep an R-hat > 1.05 (v=4's: 7), bump's law most (ESS 12-175 there); with
    /// session 15's mass-matrix windows (`infer::nuts::short_warmup_window`) 6 of 72 and 1
    /// of 24 (bump's law ESS 74-154 over seeds 0-8). 1.7-5.6 CPU-s a fit. v=4 (session 11) had chosen 300 + 300 at depth 7 over v=3's 200 + 200 at
    /// depth 8 by the warning count (2 of 36 against 5 of 36 on the AMD EPYC); tried, not kept
    /// then: depth 10 with 200 + 100 (6-7 CPU-s at N = 40), 1000 Adam steps before the warm-up.
    /// Tried, not kept now: depth 10 with 100 + 60 (bump's law ESS 26-70 at 5.0-5.5 CPU-s, too
    /// slow for N = 200), depth 9 with 150 + 100, depth 8 with 150 + 250 (bump's law R-hat up
    /// to 1.56), nuts-rs's low-rank mass matrix (8x the CPU: its adaptation's eigen-solves).
    pub max_depth: usize,
    /// A method that [`MethodSpec::extends`] (NUTS): while the kept draws would earn a
    /// reliability warning (noise-parameter R-hat, chains that part, a loss still
    /// moving), draw `draws / 2` more per chain at a time while a chain's gradients
    /// stay within `extend_gradients`; the fit says why it stopped. On by default; off,
    /// or when the CLI is given `--draws` (an explicit budget is honoured exactly):
    /// exactly `warmup + draws`.
    pub extend: bool,
    /// Gradient evaluations per chain an extending fit stays within (warm-up included),
    /// on 150 points or more; fewer points get up to 1.5 times it ([`Self::extend_cap`]).
    /// 100,000: a default fit's CPU time then stays within 1/20 of NeuroBayes's on the
    /// reference sets (a NUTS gradient cost ~11 us at N = 40, ~25 us at 150 and ~31 us
    /// at 500 on the 2-core reference machine; NeuroBayes took 72-126 CPU-s there).
    pub extend_gradients: usize,
    /// VI: Adam learning rate, cosine-decayed to `vi_lr_final`.
    pub vi_lr: f64,
    pub vi_lr_final: f64,
    /// VI: initial posterior sd of every parameter.
    pub vi_init_sd: f64,
    /// VI: final KL weight; below 1 the posterior is tempered (said so in the UI).
    /// 0.1: with the full weight mean-field VI pruned the network to the prior.
    pub kl_weight: f64,
    /// VI: fraction of the budget over which the KL weight ramps up from 0.
    pub kl_ramp_frac: f64,
    /// Two-head only: beta-NLL (Seitzer et al. 2022), 0 = plain NLL.
    pub beta_nll: f64,
    /// Above this many points the gradient uses minibatches scaled by N/B.
    pub minibatch_above: usize,
    pub batch_size: usize,
    /// Share of the data held out of the fit to score it (0 = none), chosen at random
    /// by `seed` (`data::split`): the page's "Hold out (%)", the CLI's --holdout-frac.
    pub holdout_frac: f64,
}

impl Default for InferenceConfig {
    fn default() -> Self {
        InferenceConfig {
            method: Method::Nuts,
            steps: 20_000,
            chains: 2,
            seed: 0,
            warm_start_frac: 0.1,
            warm_start_lr: 1e-2,
            mean_warmup: true,
            step_size: 2e-4,
            sgld_step_size: 5e-4,
            psgld_alpha: 0.99,
            psgld_lambda: 1e-5,
            psgld_freeze: true,
            sgld_decay_offset: 1000.0,
            cycles: 0,
            burn_in_frac: 0.3,
            draws: 150,
            warmup: 100,
            target_accept: 0.8,
            max_depth: 9,
            extend: true,
            extend_gradients: 100_000,
            vi_lr: 1e-3,
            vi_lr_final: 1e-4,
            vi_init_sd: 1e-3,
            kl_weight: 0.1,
            kl_ramp_frac: 0.3,
            beta_nll: 0.0,
            minibatch_above: 1000,
            batch_size: 256,
            holdout_frac: 0.0,
        }
    }
}

/// Everything that defines a fit apart from the data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FitConfig {
    pub model: ModelConfig,
    pub inference: InferenceConfig,
}

/// A setting that cannot be used, with a message for the user.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ConfigError {}

/// Largest hidden width accepted: beyond this a browser tab would crawl.
pub const MAX_WIDTH: usize = 512;
pub const MAX_LAYERS: usize = 6;
pub const MAX_STEPS: usize = 10_000_000;
pub const MAX_CHAINS: usize = 8;

impl FitConfig {
    /// Check every setting; the message names the setting and the accepted range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let m = &self.model;
        let i = &self.inference;
        let err = |s: String| Err(ConfigError(s));
        if m.hidden.len() > MAX_LAYERS {
            return err(format!("at most {MAX_LAYERS} hidden layers are supported (got {})", m.hidden.len()));
        }
        if let Some(w) = m.hidden.iter().find(|&&w| w == 0 || w > MAX_WIDTH) {
            return err(format!("hidden widths must be between 1 and {MAX_WIDTH} (got {w})"));
        }
        if !(m.prior_scale.is_finite() && m.prior_scale >= 1e-3 && m.prior_scale <= 100.0) {
            return err(format!("prior scale must be between 0.001 and 100 (got {})", m.prior_scale));
        }
        if !(m.sigma_floor.is_finite() && m.sigma_floor >= 0.0 && m.sigma_floor < 1.0) {
            return err(format!("sigma floor must be in [0, 1) (got {})", m.sigma_floor));
        }
        // The law's formula and priors: in full when the noise model uses them, their
        // syntax otherwise (a link or a file never carries a broken one).
        if m.kind == ModelKind::NoiseModel {
            crate::model::noise_law::parse_law(m).map_err(ConfigError)?;
        } else {
            if !m.noise_formula.trim().is_empty() {
                crate::model::formula::Formula::parse(&m.noise_formula)
                    .map_err(|e| ConfigError(format!("noise formula: {e} (got '{}')", m.noise_formula)))?;
            }
            crate::model::formula::priors::parse(&m.noise_priors)
                .map_err(|e| ConfigError(format!("noise priors: {e} (got '{}')", m.noise_priors)))?;
        }
        if let Some(s) = m.fixed_sigma {
            if !(s.is_finite() && s > 0.0) {
                return err(format!("fixed sigma must be positive (got {s})"));
            }
        }
        if i.steps == 0 || i.steps > MAX_STEPS {
            return err(format!("steps must be between 1 and {MAX_STEPS} (got {})", i.steps));
        }
        if i.chains == 0 || i.chains > MAX_CHAINS {
            return err(format!("chains must be between 1 and {MAX_CHAINS} (got {})", i.chains));
        }
        if i.seed > (1u64 << 53) {
            return err(format!(
                "seed must be at most 2^53 = 9007199254740992 so that it survives a URL and JavaScript (got {})",
                i.seed
            ));
        }
        let pos = |name: &str, v: f64, max: f64| -> Result<(), ConfigError> {
            if v.is_finite() && v > 0.0 && v <= max {
                Ok(())
            } else {
                Err(ConfigError(format!("{name} must be positive and at most {max} (got {v})")))
            }
        };
        pos("step size", i.step_size, 1.0)?;
        pos("SGLD step size", i.sgld_step_size, 1.0)?;
        pos("warm-start learning rate", i.warm_start_lr, 1.0)?;
        pos("VI learning rate", i.vi_lr, 1.0)?;
        pos("VI final learning rate", i.vi_lr_final, 1.0)?;
        pos("VI initial sd", i.vi_init_sd, 10.0)?;
        pos("pSGLD lambda", i.psgld_lambda, 1.0)?;
        pos("SGLD decay offset", i.sgld_decay_offset, 1e9)?;
        if !(i.psgld_alpha > 0.0 && i.psgld_alpha < 1.0) {
            return err(format!("pSGLD alpha must be in (0, 1) (got {})", i.psgld_alpha));
        }
        let frac = |name: &str, v: f64| -> Result<(), ConfigError> {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(ConfigError(format!("{name} must be in [0, 1) (got {v})")))
            }
        };
        frac("warm-start fraction", i.warm_start_frac)?;
        frac("burn-in fraction", i.burn_in_frac)?;
        frac("KL ramp fraction", i.kl_ramp_frac)?;
        frac("hold-out fraction", i.holdout_frac)?;
        if !(i.kl_weight.is_finite() && i.kl_weight >= 0.0 && i.kl_weight <= 1.0) {
            return err(format!("KL weight must be in [0, 1] (got {})", i.kl_weight));
        }
        if !(0.0..=1.0).contains(&i.beta_nll) {
            return err(format!("beta-NLL must be in [0, 1] (got {})", i.beta_nll));
        }
        if i.draws == 0 || i.draws > 10_000 {
            return err(format!("draws per chain must be between 1 and 10000 (got {})", i.draws));
        }
        if i.warmup > MAX_STEPS {
            return err(format!("warm-up draws must be at most {MAX_STEPS} (got {})", i.warmup));
        }
        if !(i.target_accept > 0.0 && i.target_accept < 1.0) {
            return err(format!("target acceptance must be between 0 and 1, exclusive (got {})", i.target_accept));
        }
        if !(1..=15).contains(&i.max_depth) {
            return err(format!("max tree depth must be between 1 and 15 (got {})", i.max_depth));
        }
        if i.batch_size == 0 {
            return err("batch size must be at least 1".into());
        }
        if i.cycles > 1000 {
            return err(format!("at most 1000 step-size cycles (got {})", i.cycles));
        }
        Ok(())
    }

    /// The CLI's model name: `homoskedastic`, `two-head` or `noise:LAW`.
    pub fn model_name(&self) -> String {
        match self.model.kind {
            ModelKind::Homoskedastic => "homoskedastic".into(),
            ModelKind::TwoHead => "two-head".into(),
            ModelKind::NoiseModel => format!("noise:{}", self.model.noise_law.name()),
        }
    }

    /// Set the model from a CLI model name.
    pub fn set_model_name(&mut self, name: &str) -> Result<(), ConfigError> {
        match name {
            "homoskedastic" => self.model.kind = ModelKind::Homoskedastic,
            "two-head" => self.model.kind = ModelKind::TwoHead,
            _ => {
                let law = name.strip_prefix("noise:").and_then(NoiseLawKind::from_name).ok_or_else(|| {
                    ConfigError(format!(
                        "unknown model '{name}': use homoskedastic, two-head or noise:LAW with LAW one of {}",
                        NoiseLawKind::names(", ", ", ")
                    ))
                })?;
                self.model.kind = ModelKind::NoiseModel;
                self.model.noise_law = law;
            }
        }
        Ok(())
    }
}

/// Parse `32,16,8` (or an empty string for no hidden layer).
pub fn parse_hidden(s: &str) -> Result<Vec<usize>, ConfigError> {
    let s = s.trim();
    if s.is_empty() || s == "none" {
        return Ok(vec![]);
    }
    s.split(',')
        .map(|p| {
            p.trim()
                .parse::<usize>()
                .map_err(|_| ConfigError(format!("hidden widths must be whole numbers separated by commas, like 32,16,8 (got '{s}')")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extend_cap_gives_small_data_up_to_half_again_and_large_data_the_setting() {
        let mut i = FitConfig::default().inference;
        assert_eq!(i.extend_cap(20), 150_000);
        assert_eq!(i.extend_cap(40), 150_000);
        assert_eq!(i.extend_cap(100), 117_857);
        for n in [150, 200, 500, 5000] {
            assert_eq!(i.extend_cap(n), 100_000, "N = {n}");
        }
        let caps: Vec<usize> = (1..400).map(|n| i.extend_cap(n)).collect();
        assert!(caps.windows(2).all(|w| w[0] >= w[1]), "the cap never grows with N");
        i.extend_gradients = 3000;
        assert_eq!((i.extend_cap(10), i.extend_cap(300)), (4500, 3000));
    }

    #[test]
    fn default_config_is_valid_and_round_trips_through_json() {
        let c = FitConfig::default();
        c.validate().unwrap();
        let s = serde_json::to_string(&c).unwrap();
        let back: FitConfig = serde_json::from_str(&s).unwrap();
        assert_eq!(c, back);
    }

    #[test]
    fn partial_json_fills_in_defaults() {
        let c: FitConfig = serde_json::from_str(r#"{"inference":{"steps":500}}"#).unwrap();
        assert_eq!(c.inference.steps, 500);
        assert_eq!(c.inference.chains, 2);
        assert_eq!(c.model.hidden, vec![32, 16, 8]);
    }

    #[test]
    fn model_names_round_trip() {
        let mut c = FitConfig::default();
        for name in ["homoskedastic", "two-head", "noise:constant", "noise:linear", "noise:exponential",
            "noise:logquad", "noise:step", "noise:bump", "noise:signal", "noise:custom"] {
            c.set_model_name(name).unwrap();
            assert_eq!(c.model_name(), name);
        }
        assert_eq!(
            c.set_model_name("noise:cubic").unwrap_err().0,
            "unknown model 'noise:cubic': use homoskedastic, two-head or noise:LAW with LAW one of constant, linear, \
             exponential, logquad, step, bump, signal, custom"
        );
    }

    #[test]
    fn bad_settings_are_refused_with_a_message() {
        let mut c = FitConfig::default();
        c.model.hidden = vec![32, 0];
        assert!(c.validate().unwrap_err().0.contains("hidden widths"));
        let mut c = FitConfig::default();
        c.inference.step_size = -1.0;
        assert!(c.validate().unwrap_err().0.contains("step size"));
        let mut c = FitConfig::default();
        c.inference.steps = 0;
        c.inference.method_for_step_budget(); // a step budget: pSGLD
        assert!(c.validate().is_err());
        let mut c = FitConfig::default();
        c.inference.seed = (1u64 << 53) + 1;
        assert!(c.validate().is_err());
        let mut c = FitConfig::default();
        c.model.prior_scale = 0.0;
        assert!(c.validate().is_err());
        c.model.prior_scale = 1e9;
        assert!(c.validate().is_err());
    }

    #[test]
    fn every_method_is_its_own_row_of_the_registry() {
        for (i, spec) in METHODS.iter().enumerate() {
            assert_eq!(spec.method as usize, i, "{} is out of order", spec.name);
            assert_eq!(spec.method.spec().name, spec.name);
            assert_eq!(Method::from_name(spec.name), Some(spec.method));
        }
        assert_eq!(Method::ALL.len(), METHODS.len());
        assert!(Method::ALL.iter().all(|m| METHODS.iter().any(|s| s.method == *m)));
        assert_eq!(Method::from_name("nope"), None);
        assert_eq!(Method::names(", ", " or "), "vi, sgld, psgld or nuts");
        assert_eq!(Method::names(", ", ", "), "vi, sgld, psgld, nuts");
    }

    #[test]
    fn hidden_widths_parse() {
        assert_eq!(parse_hidden("32,16,8").unwrap(), vec![32, 16, 8]);
        assert_eq!(parse_hidden("").unwrap(), Vec::<usize>::new());
        assert!(parse_hidden("32,x").is_err());
    }
}
