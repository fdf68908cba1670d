//! Compare (issue 12 §1): keep the finished fit as fit A, train fit B on the same data,
//! show both; the one-click scenarios built on it; which bands the plots show (§4).
//! Plain state and transitions, no web types: tested natively (`compare/tests.rs`).

use crate::config::{FitConfig, Method, ModelKind, NoiseLawKind};
use crate::data::{Dataset, Synthetic};
use crate::protocol::{Frame, ToWorker};
use crate::summary::compare::{verdict, FitScore};
use crate::summary::metrics::GridMetrics;

use super::settings::{parse_query, DataSource};
use super::state::{AppState, Evaluation, RunStatus};

/// The URL parameter of a scenario link: `?compare=why-heteroskedastic`.
pub const SCENARIO_PARAM: &str = "compare";

/// A finished fit kept for comparison: its settings, the data it saw, its bands and scores.
#[derive(Clone, Debug, PartialEq)]
pub struct KeptFit {
    pub config: FitConfig,
    pub data: Dataset,
    pub held: Vec<bool>,
    /// Its finished frame (bands, sigma(x), draws, elapsed time).
    pub frame: Frame,
    /// As `AppState::evaluations` gave them when it was kept.
    pub evaluations: Vec<Evaluation>,
    /// Against the truth on the grid, for synthetic data.
    pub metrics: Option<GridMetrics>,
}

/// How the two main plots are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One plot each, on the same axes (side by side on wide screens, stacked on narrow).
    Apart,
    /// Both fits on one plot.
    Overlay,
}

/// A comparison in progress: fit A kept; fit B is the page's current fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub a: KeptFit,
    pub layout: Layout,
}

/// The bands of the main plot the legend switches on and off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    Total,
    Aleatoric,
    Epistemic,
}

/// What the main plots draw (the legend's toggles and "Posterior draws").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shown {
    pub total: bool,
    pub aleatoric: bool,
    pub epistemic: bool,
    /// Thin lines: the mean functions of some kept draws (VI: samples from q).
    pub draws: bool,
}

impl Default for Shown {
    fn default() -> Self {
        Shown { total: true, aleatoric: true, epistemic: true, draws: false }
    }
}

impl Shown {
    pub fn band(&self, b: Band) -> bool {
        match b {
            Band::Total => self.total,
            Band::Aleatoric => self.aleatoric,
            Band::Epistemic => self.epistemic,
        }
    }
}

/// The compare actions (one `Action::Compare` variant of the page's actions).
#[derive(Clone, Debug, PartialEq)]
pub enum CompareAction {
    /// Keep the finished fit as fit A; the next Train makes fit B.
    Keep,
    End,
    SetLayout(Layout),
    ToggleBand(Band),
    ToggleDraws,
    /// Train the open scenario's fit A (then B follows by itself).
    RunScenario,
    /// Fit A of a scenario has finished: keep it and train fit B (dispatched by the page
    /// when it sees [`Stage::ReadyForB`]).
    Continue,
}

/// Where a scenario's run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Opened (by its link), not run yet.
    Ready,
    TrainingA,
    ReadyForB,
    TrainingB,
    Done,
}

/// A scenario opened by its link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActiveScenario {
    pub scenario: &'static Scenario,
    pub stage: Stage,
}

/// A one-click comparison: data, fit A, fit B, and what to watch.
#[derive(Debug)]
pub struct Scenario {
    /// The value of `compare=` in its link.
    pub id: &'static str,
    pub title: &'static str,
    /// What to watch, one sentence.
    pub watch: &'static str,
    pub data: fn() -> (DataSource, Dataset),
    pub a: fn() -> FitConfig,
    pub b: fn() -> FitConfig,
}

fn generated(g: Synthetic) -> (DataSource, Dataset) {
    let source = DataSource::Generated { generator: g, n: g.default_n(), seed: 1 };
    let data = g.generate(g.default_n(), 1);
    (source, data)
}

fn notebook(g: Synthetic) -> (DataSource, Dataset) {
    let data = crate::data::synthetic::notebook_preset(g).expect("the notebook data exist");
    (DataSource::Notebook { generator: g }, data)
}

/// The x range left empty between the two clusters of the VI scenario.
pub const CLUSTER_GAP: (f64, f64) = (-0.8, 0.8);

/// Two clusters of points with an empty stretch between them: the constant-noise data
/// (200 points, seed 1) without those in [`CLUSTER_GAP`]. The truth stays known.
pub fn clusters() -> (DataSource, Dataset) {
    let g = Synthetic::Homoskedastic;
    let d = g.generate(200, 1);
    let keep: Vec<bool> = d.x.iter().map(|&x| !(CLUSTER_GAP.0..=CLUSTER_GAP.1).contains(&x)).collect();
    let (kept, _) = d.split_by(&keep.iter().map(|k| !k).collect::<Vec<_>>());
    (DataSource::Custom { name: "two clusters (constant noise, a gap in the middle)".into() }, kept)
}

/// A scenario's fit of `kind` by pSGLD, named here rather than taken from the default
/// method, so that a scenario link keeps its meaning (and its speed) when the default
/// changes.
fn model(kind: ModelKind) -> FitConfig {
    let mut c = FitConfig::default();
    c.model.kind = kind;
    with_method(c, Method::Psgld)
}

fn with_method(mut c: FitConfig, m: Method) -> FitConfig {
    c.inference.method = m;
    c.inference.draws = m.spec().default_draws;
    c
}

/// NUTS in the "Fast vs reference" scenario: 500 warm-up and 500 kept draws per chain
/// (NeuroBayes's 1000 + 1000 take minutes in a page).
pub const SCENARIO_NUTS_DRAWS: usize = 500;

pub static SCENARIOS: [Scenario; 4] = [
    Scenario {
        id: "why-heteroskedastic",
        title: "Why heteroskedastic?",
        watch: "A (homoskedastic) has one noise level for all x: its band is too wide at the edges and too narrow over the noise bump; B (two-head) learns σ(x), and its band follows the data.",
        data: || generated(Synthetic::Bump),
        a: || model(ModelKind::Homoskedastic),
        b: || model(ModelKind::TwoHead),
    },
    Scenario {
        id: "domain-knowledge",
        title: "Domain knowledge on small data",
        watch: "On 40 points the two-head network (A) must learn σ(x) from little evidence; B knows the noise grows as a·exp(b·x) and only infers a and b: watch σ(x) and the band at the right edge.",
        data: || notebook(Synthetic::NbExp),
        a: || model(ModelKind::TwoHead),
        b: || {
            let mut c = model(ModelKind::NoiseModel);
            c.model.noise_law = NoiseLawKind::named("exponential");
            c
        },
    },
    Scenario {
        id: "fast-vs-reference",
        title: "Fast vs reference",
        watch: "pSGLD (A) takes seconds; NUTS (B), NeuroBayes's sampler, takes far longer (500 warm-up and 500 draws per chain here): compare the bands and the fit time.",
        data: || notebook(Synthetic::NbExp),
        a: || model(ModelKind::TwoHead),
        b: || {
            let mut c = with_method(model(ModelKind::TwoHead), Method::Nuts);
            c.inference.warmup = SCENARIO_NUTS_DRAWS;
            c.inference.draws = SCENARIO_NUTS_DRAWS;
            c
        },
    },
    Scenario {
        id: "vi-between-clusters",
        title: "VI is overconfident between clusters",
        watch: "Between the two clusters there are no data: the sampler (A) widens its epistemic band there, mean-field VI (B) hardly does. Switch on Posterior draws to see the functions spread.",
        data: clusters,
        a: || model(ModelKind::TwoHead),
        b: || with_method(model(ModelKind::TwoHead), Method::Vi),
    },
];

/// Scenarios are one each: the same id is the same scenario.
impl PartialEq for Scenario {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Scenario {}

pub fn scenario(id: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.id == id)
}

/// The link of a scenario, relative to the page (`?compare=...`).
pub fn scenario_href(s: &Scenario) -> String {
    format!("?{SCENARIO_PARAM}={}", s.id)
}

/// One row of the "Comparison" table: a name and A's and B's values as text.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub key: &'static str,
    pub name: &'static str,
    pub a: String,
    pub b: String,
}

/// The comparison's table and verdict, from fit A and the page's finished fit B.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// What the metrics are computed on ("fresh draws from the truth", "held-out points").
    pub on: &'static str,
    pub rows: Vec<Row>,
    pub verdict: String,
}

/// The held-out metric rows of the page's "Held-out" table, with their names there.
pub const METRIC_ROWS: [(&str, &str); 10] = [
    ("nll", "NLL"),
    ("crps", "CRPS"),
    ("rmse", "RMSE"),
    ("coverage95", "Coverage (95%)"),
    ("sharpness", "Sharpness (RMS sd)"),
    ("mace", "MACE"),
    ("rmsce", "RMSCE"),
    ("miscalibration_area", "Miscalibration area"),
    ("check", "Check score"),
    ("interval", "Interval score"),
];

/// The evaluation a comparison reads: against the truth when known, else held-out points.
fn chosen(e: &[Evaluation]) -> Option<&Evaluation> {
    e.iter().find(|e| e.label == "fresh draws from the truth").or_else(|| e.first())
}

impl AppState {
    /// The comparison's fit A when the page's fit B has finished: the table and verdict.
    pub fn compare_report(&self) -> Option<Report> {
        let c = self.compare.as_ref()?;
        let eb = self.evaluations();
        let b_eval = chosen(&eb);
        let a_eval = b_eval.and_then(|b| c.a.evaluations.iter().find(|e| e.label == b.label)).or_else(|| chosen(&c.a.evaluations));
        let fb = self.current_frame().filter(|_| self.status == RunStatus::Finished)?;
        let fmt = super::state::fmt;
        let text = |e: Option<&Evaluation>, key: &str| -> String {
            e.and_then(|e| e.metrics.pairs().iter().find(|(k, _)| *k == key).map(|p| fmt(p.1))).unwrap_or_else(|| "n/a".into())
        };
        let mut rows = vec![
            Row { key: "model", name: "Model", a: c.a.config.model_name(), b: self.fitted.as_ref().map(|f| f.config.model_name()).unwrap_or_default() },
            Row {
                key: "method",
                name: "Method",
                a: c.a.config.inference.method.spec().short.to_string(),
                b: self.fitted.as_ref().map(|f| f.config.inference.method.spec().short.to_string()).unwrap_or_default(),
            },
        ];
        for (key, name) in METRIC_ROWS {
            rows.push(Row { key, name, a: text(a_eval, key), b: text(b_eval, key) });
        }
        let mb = self.metrics();
        let grid = |m: &Option<GridMetrics>, f: fn(&GridMetrics) -> f64| m.as_ref().map(|m| fmt(f(m))).unwrap_or_else(|| "n/a".into());
        if c.a.metrics.is_some() || mb.is_some() {
            rows.push(Row { key: "rmse_mean", name: "RMSE of the mean vs true f", a: grid(&c.a.metrics, |m| m.rmse_mean), b: grid(&mb, |m| m.rmse_mean) });
            rows.push(Row { key: "rmse_noise", name: "RMSE of σ vs true σ", a: grid(&c.a.metrics, |m| m.rmse_noise), b: grid(&mb, |m| m.rmse_noise) });
        }
        rows.push(Row {
            key: "fit_time",
            name: "Fit time",
            a: super::state::duration(c.a.frame.elapsed_ms),
            b: super::state::duration(fb.elapsed_ms),
        });
        let on = b_eval.map(|e| e.label).unwrap_or("held-out points");
        let verdict = match (a_eval, b_eval) {
            (Some(a), Some(b)) if a.label == b.label => {
                let noise = self.region_noise(&c.a, b);
                verdict(
                    &FitScore { name: "A", metrics: &a.metrics, regions: &a.calibration.regions },
                    &FitScore { name: "B", metrics: &b.metrics, regions: &b.calibration.regions },
                    &noise,
                    on,
                )
            }
            _ => "No verdict: these data have no known truth and no held-out points (set Hold out (%) above 0 and train both fits again).".into(),
        };
        Some(Report { on, rows, verdict })
    }

    /// The noise sd in each x-region of `e`: the truth's mean over the grid x in the
    /// region when known, else the mean of both fits' σ(x) there.
    fn region_noise(&self, a: &KeptFit, e: &Evaluation) -> Vec<f64> {
        let regions = &e.calibration.regions;
        let grid = &a.frame.snapshot.summary.x;
        let truth = a.data.truth_sigma(grid);
        let b = self.current_frame().map(|f| &f.snapshot.summary);
        regions
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let last = k + 1 == regions.len();
                let idx: Vec<usize> = (0..grid.len()).filter(|&i| grid[i] >= r.x_lo && (grid[i] < r.x_hi || (last && grid[i] <= r.x_hi))).collect();
                if idx.is_empty() {
                    return f64::NAN;
                }
                let mean = |v: &[f64]| idx.iter().map(|&i| v.get(i).copied().unwrap_or(f64::NAN)).sum::<f64>() / idx.len() as f64;
                match (&truth, b) {
                    (Some(t), _) => mean(t),
                    (None, Some(b)) if b.x == *grid => 0.5 * (mean(&a.frame.snapshot.summary.sigma_mean) + mean(&b.sigma_mean)),
                    _ => mean(&a.frame.snapshot.summary.sigma_mean),
                }
            })
            .collect()
    }

    /// Whether "Compare" can keep the shown fit as fit A now.
    pub fn can_compare(&self) -> bool {
        self.status == RunStatus::Finished && self.current_frame().is_some() && self.fitted.is_some()
    }

    /// The link of the page: the settings, and the open scenario.
    pub fn query(&self) -> String {
        let mut q = self.settings.to_query();
        for (k, v) in self.explore.query_params() {
            q += &format!("&{k}={v}");
        }
        match &self.scenario {
            Some(s) => format!("{q}&{SCENARIO_PARAM}={}", s.scenario.id),
            None => q,
        }
    }

    /// A link naming a scenario opens it: its data and fit A's settings (over whatever
    /// else the link says). Returns a message for a scenario this page does not know.
    pub fn open_scenario_from_query(&mut self, query: &str) -> Option<String> {
        let id = parse_query(query).into_iter().rev().find(|(k, _)| k == SCENARIO_PARAM)?.1;
        let Some(sc) = scenario(&id) else {
            let known: Vec<&str> = SCENARIOS.iter().map(|s| s.id).collect();
            return Some(format!("There is no comparison scenario '{id}' (there are {}).", crate::config::join_names(&known, ", ", " and ")));
        };
        self.open_scenario(sc);
        None
    }

    fn open_scenario(&mut self, sc: &'static Scenario) {
        let (source, data) = (sc.data)();
        self.settings.source = source;
        self.settings.config = (sc.a)();
        self.data = data;
        self.table = None;
        self.compare = None;
        self.scenario = Some(ActiveScenario { scenario: sc, stage: Stage::Ready });
    }

    /// A change of the data ends the comparison and the scenario: both fits belong to
    /// the old data. (Called by `apply` when an action changed the points.)
    pub(super) fn end_compare_on_new_data(&mut self) {
        self.compare = None;
        self.scenario = None;
    }

    /// After every action: a scenario's fit that finished moves the scenario on.
    pub(super) fn scenario_progress(&mut self) {
        let Some(sc) = &mut self.scenario else { return };
        sc.stage = match (sc.stage, self.status) {
            (Stage::TrainingA, RunStatus::Finished) => Stage::ReadyForB,
            (Stage::TrainingB, RunStatus::Finished) => Stage::Done,
            (Stage::TrainingA | Stage::TrainingB, RunStatus::Failed | RunStatus::Idle) => Stage::Ready,
            (s, _) => s,
        };
    }

    pub(super) fn compare_action(&mut self, a: CompareAction) -> Vec<ToWorker> {
        match a {
            CompareAction::Keep => {
                self.keep_as_a();
            }
            CompareAction::End => {
                self.compare = None;
                self.scenario = None;
            }
            CompareAction::SetLayout(l) => {
                if let Some(c) = &mut self.compare {
                    c.layout = l;
                }
            }
            CompareAction::ToggleBand(b) => {
                let s = &mut self.shown;
                match b {
                    Band::Total => s.total = !s.total,
                    Band::Aleatoric => s.aleatoric = !s.aleatoric,
                    Band::Epistemic => s.epistemic = !s.epistemic,
                }
            }
            CompareAction::ToggleDraws => self.shown.draws = !self.shown.draws,
            CompareAction::RunScenario => {
                let Some(sc) = self.scenario.map(|s| s.scenario) else { return vec![] };
                let stop = if self.is_active() { vec![ToWorker::Stop] } else { vec![] };
                self.open_scenario(sc);
                let msgs = self.train();
                if self.status == RunStatus::Running {
                    self.scenario = Some(ActiveScenario { scenario: sc, stage: Stage::TrainingA });
                }
                return stop.into_iter().chain(msgs).collect();
            }
            CompareAction::Continue => {
                let Some(sc) = self.scenario.filter(|s| s.stage == Stage::ReadyForB).map(|s| s.scenario) else { return vec![] };
                // Once only: whatever happens next, the page does not ask again.
                self.scenario = Some(ActiveScenario { scenario: sc, stage: Stage::Ready });
                if !self.keep_as_a() {
                    return vec![];
                }
                self.settings.config = (sc.b)();
                let msgs = self.train();
                if self.status == RunStatus::Running {
                    self.scenario = Some(ActiveScenario { scenario: sc, stage: Stage::TrainingB });
                }
                return msgs;
            }
        }
        vec![]
    }

    /// The finished fit becomes fit A (replacing an earlier A); the page's fit is
    /// cleared for B. Nothing happens without a finished fit of the current data.
    fn keep_as_a(&mut self) -> bool {
        if !self.can_compare() {
            return false;
        }
        let (Some(frame), Some(fitted)) = (self.frame.clone(), self.fitted.clone()) else { return false };
        let kept = KeptFit {
            evaluations: self.evaluations(),
            metrics: self.metrics(),
            config: fitted.config,
            data: fitted.data,
            held: fitted.held,
            frame,
        };
        let layout = self.compare.as_ref().map_or(Layout::Apart, |c| c.layout);
        self.compare = Some(Comparison { a: kept, layout });
        self.frame = None;
        self.fitted = None;
        self.status = RunStatus::Idle;
        self.run += 1;
        true
    }
}

#[cfg(test)]
mod tests;
