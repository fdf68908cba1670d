//! Where to measure next (issue 14), the page's part: the acquisition the user picked,
//! its curve and pick from the shown fit, Measure next (a draw from the generator's
//! truth, or the y the user measured) with a refit started from the current posterior,
//! and Auto: rounds of measure-and-refit whose learning curves (RMSE of the mean and
//! NLL against the truth, against the number of points) compare acquisitions from one
//! start. Plain state with no UI types, tested natively (`explore/tests.rs`); the panel
//! (`explore_panel`) renders it. The acquisitions themselves are the core's
//! (`summary::acquisition`), the same rows as `bayesband suggest --acquisition`.

use crate::data::Dataset;
use crate::protocol::ToWorker;
use crate::summary::acquisition::{incumbent, Acquisition, AcquisitionKind, CandidateMoments, Goal, ACQUISITIONS};

use super::settings::DataSource;
use super::state::{AppState, RunStatus};

/// Auto's rounds when the page opens, and the most it runs at once.
pub const DEFAULT_ROUNDS: usize = 10;
pub const MAX_ROUNDS: usize = 50;
/// UCB's weight of the epistemic sd when the page opens (the CLI's `--kappa` default).
pub const DEFAULT_KAPPA: f64 = 2.0;
/// The link's parameter names (the CLI's flags without the dashes).
pub const ACQUISITION_PARAM: &str = "acquisition";
pub const GOAL_PARAM: &str = "goal";
pub const KAPPA_PARAM: &str = "kappa";

/// What the user set for where to measure next, and the learning curves so far.
#[derive(Clone, Debug, PartialEq)]
pub struct Explore {
    pub kind: AcquisitionKind,
    pub goal: Goal,
    pub kappa: f64,
    /// Candidates over the whole plot grid (the data's range padded by
    /// `state::GRID_PAD` each side), not only the data's x range.
    pub beyond: bool,
    /// Auto's rounds.
    pub rounds: usize,
    /// The x suggested for data without a known truth, waiting for the y measured there.
    pub awaiting: Option<f64>,
    /// Auto while it runs.
    pub auto: Option<AutoRun>,
    /// The learning curves, all from the points of `start`.
    pub curves: Vec<LearningCurve>,
    pub start: Option<Start>,
    /// Why Measure next or Auto could not go on (shown in the panel).
    pub error: Option<String>,
}

/// The learning curves' common start: the points and where they came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Start {
    pub data: Dataset,
    pub source: DataSource,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AutoRun {
    pub kind: AcquisitionKind,
    /// Measurements still to make.
    pub left: usize,
    /// Its curve in `Explore::curves`.
    pub curve: usize,
}

/// One acquisition's learning curve: a point per finished fit.
#[derive(Clone, Debug, PartialEq)]
pub struct LearningCurve {
    pub kind: AcquisitionKind,
    pub points: Vec<CurvePoint>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    /// Points the fit saw.
    pub n: usize,
    /// RMSE of the posterior mean against the true f on the grid inside the start's x range.
    pub rmse: f64,
    /// Mean negative log likelihood of fresh draws from the truth (`AppState::evaluations`).
    pub nll: f64,
}

/// The shown fit's acquisition on the candidates and its best x.
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    pub x: f64,
    pub value: f64,
    /// (candidate x, acquisition value), ascending x.
    pub curve: Vec<(f64, f64)>,
}

impl Default for Explore {
    fn default() -> Self {
        Explore {
            kind: ACQUISITIONS[0].kind,
            goal: Goal::Max,
            kappa: DEFAULT_KAPPA,
            beyond: false,
            rounds: DEFAULT_ROUNDS,
            awaiting: None,
            auto: None,
            curves: Vec::new(),
            start: None,
            error: None,
        }
    }
}

/// Every change the panel makes.
#[derive(Clone, Debug, PartialEq)]
pub enum ExploreAction {
    SetKind(AcquisitionKind),
    SetGoal(Goal),
    SetKappa(f64),
    SetBeyond(bool),
    SetRounds(usize),
    /// Measure at the suggestion: from the truth when the data have one, else ask for y.
    MeasureNext,
    /// The y measured at the awaited x.
    AddMeasured(f64),
    CancelMeasured,
    /// Auto's rounds from the learning curves' start (the current points for the first).
    Auto,
    StopAuto,
    ClearCurves,
}

impl Goal {
    pub fn name(self) -> &'static str {
        match self {
            Goal::Max => "max",
            Goal::Min => "min",
        }
    }
}

impl Explore {
    /// The acquisition's link parameters that differ from the page's defaults.
    pub fn query_params(&self) -> Vec<(&'static str, String)> {
        let d = Explore::default();
        let mut out = Vec::new();
        if self.kind != d.kind {
            out.push((ACQUISITION_PARAM, self.kind.name().to_string()));
        }
        if self.goal != d.goal {
            out.push((GOAL_PARAM, self.goal.name().to_string()));
        }
        if self.kappa != d.kappa {
            out.push((KAPPA_PARAM, self.kappa.to_string()));
        }
        out
    }

    /// Read the acquisition's parameters from a link; a bad value is named (and the
    /// page's default kept for it).
    pub fn apply_query(&mut self, pairs: &[(String, String)]) -> Option<String> {
        let mut problems = Vec::new();
        for (k, v) in pairs {
            match k.as_str() {
                ACQUISITION_PARAM => match AcquisitionKind::from_name(v) {
                    Some(kind) => self.kind = kind,
                    None => problems.push(format!("acquisition '{v}' (use {})", AcquisitionKind::names(", ", " or "))),
                },
                GOAL_PARAM => match Goal::from_name(v) {
                    Some(g) => self.goal = g,
                    None => problems.push(format!("goal '{v}' (use max or min)")),
                },
                KAPPA_PARAM => match v.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 => self.kappa = x,
                    _ => problems.push(format!("kappa '{v}' (a number >= 0)")),
                },
                _ => {}
            }
        }
        (!problems.is_empty()).then(|| format!("The link's {} could not be used; the default is shown.", problems.join(" and ")))
    }
}

/// The y of a measurement at `x` from the truth: the same for the same round from the
/// same start (the round is the number of points), whichever acquisition chose x.
fn measurement_seed(fit_seed: u64, n: usize) -> u64 {
    fit_seed ^ 0x6D65_6173_7572_6521u64.wrapping_mul(n as u64 + 1)
}

impl AppState {
    /// The acquisition on the candidates from the shown fit (of the current data), and
    /// its best x. Candidates: the fit's grid inside the data's x range (the whole
    /// grid with `beyond`). None without such a fit or when its bands are not finite.
    pub fn suggestion(&self) -> Option<Suggestion> {
        let f = self.current_frame()?;
        let fitted = self.fitted.as_ref()?;
        let s = &f.snapshot.summary;
        let (lo, hi) = fitted.data.x_range();
        let e = &self.explore;
        let idx: Vec<usize> = (0..s.x.len())
            .filter(|&i| e.beyond || (s.x[i] >= lo && s.x[i] <= hi))
            .filter(|&i| [s.mean[i], s.sd_epistemic[i], s.sd_aleatoric[i]].iter().all(|v| v.is_finite()))
            .collect();
        if idx.is_empty() || idx.len() < s.x.len().min(2) {
            return None;
        }
        let pick = |v: &[f64]| -> Vec<f64> { idx.iter().map(|&i| v[i]).collect() };
        let x = pick(&s.x);
        let m = CandidateMoments::from_marginals(&x, &pick(&s.mean), &pick(&s.sd_epistemic), &pick(&s.sd_aleatoric));
        // EI's incumbent: the posterior mean at the data's x, read off the grid.
        let at_data = fitted.data.x.iter().map(|&xi| interpolate(&s.x, &s.mean, xi));
        let acq = Acquisition {
            kind: e.kind,
            goal: e.goal,
            kappa: e.kappa,
            best: incumbent(e.goal, at_data),
            seed: measurement_seed(fitted.config.inference.seed, fitted.data.len()),
        };
        let scores = m.score(&acq);
        let (bx, bv) = *m.suggest(&acq, 1).first()?;
        if !bv.is_finite() && acq.kind != AcquisitionKind::InfoGain {
            return None;
        }
        Some(Suggestion { x: bx, value: bv, curve: x.into_iter().zip(scores).collect() })
    }

    pub(super) fn explore_action(&mut self, a: ExploreAction) -> Vec<ToWorker> {
        let e = &mut self.explore;
        match a {
            ExploreAction::SetKind(k) => e.kind = k,
            ExploreAction::SetGoal(g) => e.goal = g,
            ExploreAction::SetKappa(k) => {
                if k.is_finite() && k >= 0.0 {
                    e.kappa = k;
                }
            }
            ExploreAction::SetBeyond(b) => e.beyond = b,
            ExploreAction::SetRounds(r) => e.rounds = r.clamp(1, MAX_ROUNDS),
            ExploreAction::MeasureNext => return self.measure_next(),
            ExploreAction::AddMeasured(y) => {
                let Some(x) = self.explore.awaiting else { return vec![] };
                if !y.is_finite() {
                    self.explore.error = Some("Type the y you measured as a number.".into());
                    return vec![];
                }
                self.explore.awaiting = None;
                return self.add_and_refit(x, y);
            }
            ExploreAction::CancelMeasured => e.awaiting = None,
            ExploreAction::Auto => return self.start_auto(),
            ExploreAction::StopAuto => e.auto = None,
            ExploreAction::ClearCurves => {
                e.curves.clear();
                e.start = None;
                e.auto = None;
            }
        }
        vec![]
    }

    fn measure_next(&mut self) -> Vec<ToWorker> {
        self.explore.error = None;
        let Some(sg) = self.suggestion().filter(|_| self.status == RunStatus::Finished) else {
            self.explore.error = Some("Train first: the next x comes from a finished fit of these data.".into());
            return vec![];
        };
        match self.measure_from_truth(sg.x) {
            Some(y) => self.add_and_refit(sg.x, y),
            None => {
                self.explore.awaiting = Some(sg.x);
                vec![]
            }
        }
    }

    /// A measurement at `x` drawn from the data's truth (None without one): the same
    /// noise for the same round from the same start ([`measurement_seed`]).
    fn measure_from_truth(&self, x: f64) -> Option<f64> {
        let t = self.data.truth?;
        let seed = measurement_seed(self.settings.config.inference.seed, self.data.len());
        t.fresh_draws(&[x], 1, seed).1.first().copied()
    }

    /// Add the measured point and fit again, starting from the current posterior.
    fn add_and_refit(&mut self, x: f64, y: f64) -> Vec<ToWorker> {
        let keep_auto = self.explore.auto.take();
        let mut msgs = self.apply(super::state::Action::AddPoint { x, y });
        self.explore.auto = keep_auto;
        msgs.extend(self.refit());
        msgs
    }

    /// Train, from the posterior of the fit the workers hold when it is of these
    /// settings (`Fit::warm_from`; the frames say whether it was).
    fn refit(&mut self) -> Vec<ToWorker> {
        let mut msgs = self.train();
        for m in &mut msgs {
            if let ToWorker::Start { warm, .. } = m {
                *warm = true;
            }
        }
        msgs
    }

    fn start_auto(&mut self) -> Vec<ToWorker> {
        self.explore.error = None;
        self.explore.awaiting = None;
        if self.data.truth.is_none() {
            self.explore.error = Some(
                "Auto needs data whose truth is known (a generated or built-in data set) to measure from and score against; \
                 for your own data, use Measure next and type what you measured."
                    .into(),
            );
            return vec![];
        }
        if self.explore.start.is_none() {
            self.explore.curves.clear();
            self.explore.start = Some(Start { data: self.data.clone(), source: self.settings.source.clone() });
        }
        let start = self.explore.start.clone().expect("set above");
        let kind = self.explore.kind;
        self.explore.curves.push(LearningCurve { kind, points: Vec::new() });
        let run = AutoRun { kind, left: self.explore.rounds, curve: self.explore.curves.len() - 1 };
        let fitted_on_start = self.status == RunStatus::Finished
            && self.data == start.data
            && self.fitted.as_ref().is_some_and(|f| f.data == start.data && f.config == self.settings.config);
        self.explore.auto = Some(run);
        if fitted_on_start {
            return self.auto_round();
        }
        // Back to the start's points, then a fresh fit of them.
        if self.data != start.data {
            self.data = start.data.clone();
            self.settings.source = start.source.clone();
            self.table = None;
            self.end_compare_on_new_data();
            self.fitted = None;
            self.frame = None;
            self.stale = false;
        }
        let msgs = self.train();
        if self.status != RunStatus::Running {
            self.explore.auto = None;
        }
        msgs
    }

    /// A fit of Auto's finished: score it on its curve, then measure the next point or stop.
    fn auto_round(&mut self) -> Vec<ToWorker> {
        let Some(run) = self.explore.auto else { return vec![] };
        if let Some(p) = self.curve_point() {
            if let Some(c) = self.explore.curves.get_mut(run.curve) {
                c.points.push(p);
            }
        }
        if run.left == 0 {
            self.explore.auto = None;
            return vec![];
        }
        let Some(sg) = self.suggestion() else {
            self.explore.auto = None;
            self.explore.error = Some("Auto stopped: the fit gave no acquisition to pick from.".into());
            return vec![];
        };
        let Some(y) = self.measure_from_truth(sg.x) else {
            self.explore.auto = None;
            return vec![];
        };
        self.explore.auto = Some(AutoRun { left: run.left - 1, ..run });
        self.add_and_refit(sg.x, y)
    }

    /// The finished fit's point on a learning curve (needs the truth).
    fn curve_point(&self) -> Option<CurvePoint> {
        let f = self.current_frame()?;
        let fitted = self.fitted.as_ref()?;
        let t = fitted.data.truth?;
        let (lo, hi) = self.explore.start.as_ref().map_or(fitted.data.x_range(), |s| s.data.x_range());
        let s = &f.snapshot.summary;
        let inside: Vec<usize> = (0..s.x.len()).filter(|&i| s.x[i] >= lo && s.x[i] <= hi).collect();
        if inside.is_empty() {
            return None;
        }
        let sse: f64 = inside.iter().map(|&i| (s.mean[i] - t.f(s.x[i])).powi(2)).sum();
        let rmse = (sse / inside.len() as f64).sqrt();
        let nll = self.evaluations().iter().find(|e| e.label == "fresh draws from the truth").map_or(f64::NAN, |e| e.metrics.nll);
        (rmse.is_finite() && nll.is_finite()).then_some(CurvePoint { n: fitted.data.len(), rmse, nll })
    }

    /// After every action: a finished fit moves Auto on; anything the user does to the
    /// fit or the data (but changing the acquisition) stops it.
    pub(super) fn explore_after(&mut self, finished_now: bool, by_user: bool) -> Vec<ToWorker> {
        if by_user {
            self.explore.auto = None;
            return vec![];
        }
        if finished_now && self.explore.auto.is_some() {
            return self.auto_round();
        }
        if self.status == RunStatus::Failed && self.explore.auto.is_some() {
            self.explore.auto = None;
            self.explore.error = Some("Auto stopped: the last fit failed (see the message above).".into());
        }
        vec![]
    }
}

/// Linear interpolation of (xs, ys) at x (xs ascending; clamped at the ends).
fn interpolate(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    match xs.iter().position(|&v| v >= x) {
        None => *ys.last().unwrap_or(&f64::NAN),
        Some(0) => ys[0],
        Some(i) => {
            let t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
            ys[i - 1] + t * (ys[i] - ys[i - 1])
        }
    }
}

#[cfg(test)]
mod tests;
