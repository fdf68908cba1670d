use super::*;
use crate::protocol::{Frame, FromWorker};
use crate::summary::PredictiveSummary;
use crate::ui::state::Action;

/// A finished frame of the state's current run on its grid: the true mean, an
/// epistemic sd peaked at `peak` and a flat noise sd.
fn finished(s: &AppState, peak: f64) -> Action {
    let x = s.grid.clone();
    let truth = s.fitted.as_ref().and_then(|f| f.data.truth);
    let mean: Vec<f64> = x.iter().map(|&v| truth.map_or(0.0, |t| t.f(v))).collect();
    let sd_e: Vec<f64> = x.iter().map(|&v| 0.01 + 0.3 * (-(v - peak).powi(2) / 0.01).exp()).collect();
    let n = x.len();
    let sd_a = vec![0.1; n];
    let sd_t: Vec<f64> = sd_e.iter().map(|e| (e * e + 0.01).sqrt()).collect();
    let summary = PredictiveSummary {
        x,
        mean,
        sd_epistemic: sd_e,
        sd_aleatoric: sd_a.clone(),
        sd_total: sd_t,
        sigma_mean: sd_a.clone(),
        sigma_lo: sd_a.clone(),
        sigma_hi: sd_a,
    };
    Action::Worker(FromWorker::Finished(Frame { running: false, ..Frame::placeholder(s.run, summary) }))
}

fn trained(peak: f64) -> AppState {
    let mut s = AppState::default();
    assert!(s.data.truth.is_some(), "the first-visit data are generated, with a known truth");
    s.apply(Action::Train);
    let f = finished(&s, peak);
    s.apply(f);
    assert_eq!(s.status, RunStatus::Finished);
    s
}

fn mid(s: &AppState) -> f64 {
    let (lo, hi) = s.data.x_range();
    0.5 * (lo + hi)
}

fn start_of(msgs: &[ToWorker]) -> Option<(u32, bool, usize)> {
    msgs.iter().find_map(|m| match m {
        ToWorker::Start { run, warm, data, .. } => Some((*run, *warm, data.len())),
        _ => None,
    })
}

#[test]
fn the_suggestion_is_the_largest_epistemic_sd_inside_the_data_and_beyond_when_asked() {
    let s0 = AppState::default();
    let (lo, hi) = s0.data.x_range();
    let s = trained(0.5 * (lo + hi));
    let sg = s.suggestion().expect("a finished fit suggests");
    let step = s.grid[1] - s.grid[0];
    assert!((sg.x - mid(&s)).abs() <= step, "{} vs {}", sg.x, mid(&s));
    assert!(sg.curve.iter().all(|&(x, v)| x >= lo && x <= hi && v.is_finite()));
    // A peak past the data's end: only reachable with `beyond`.
    let mut s = trained(hi + 0.06 * (hi - lo));
    assert!(s.suggestion().unwrap().x <= hi);
    s.apply(Action::Explore(ExploreAction::SetBeyond(true)));
    assert!(s.suggestion().unwrap().x > hi);
    // Total variance sees the same flat noise: the same pick; random does not follow the peak.
    s.apply(Action::Explore(ExploreAction::SetBeyond(false)));
    s.apply(Action::Explore(ExploreAction::SetKind(AcquisitionKind::Total)));
    assert!(s.suggestion().unwrap().x <= hi);
    // No suggestion without a fit of these data.
    assert_eq!(AppState::default().suggestion(), None);
}

#[test]
fn measure_next_draws_from_the_truth_at_the_suggestion_and_refits_warm() {
    let mut s = trained(0.0);
    let n = s.data.len();
    let x = s.suggestion().unwrap().x;
    let msgs = s.apply(Action::Explore(ExploreAction::MeasureNext));
    assert_eq!(s.data.len(), n + 1);
    assert_eq!(*s.data.x.last().unwrap(), x);
    let y = *s.data.y.last().unwrap();
    let t = s.data.truth.unwrap();
    // A draw from the truth: within 6 sd of f(x).
    assert!((y - t.f(x)).abs() < 6.0 * t.sigma(x), "y {y} at x {x}");
    let (run, warm, len) = start_of(&msgs).expect("a refit starts");
    assert!(warm && len == n + 1 && run == s.run);
    assert_eq!(s.status, RunStatus::Running);
    // The same round from the same start measures the same noise.
    let mut again = trained(0.0);
    again.apply(Action::Explore(ExploreAction::MeasureNext));
    assert_eq!(again.data.y.last(), s.data.y.last());
    // Before a fit finishes, there is nothing to measure from.
    let mut idle = AppState::default();
    assert!(idle.apply(Action::Explore(ExploreAction::MeasureNext)).is_empty());
    assert!(idle.explore.error.as_deref().unwrap().starts_with("Train first"));
}

#[test]
fn for_data_without_a_truth_the_user_types_the_y_they_measured() {
    let mut s = AppState::default();
    s.apply(Action::LoadCsv { name: "mine.csv".into(), text: "x,y\n0,1\n1,2\n2,1.5\n3,2.5\n4,2\n5,3\n6,2.2\n7,3.1\n8,2.9\n9,3.3\n".into(), control: crate::ui::state::DataControl::Upload });
    s.settings.config.inference.holdout_frac = 0.0;
    assert!(s.data.truth.is_none());
    s.apply(Action::Train);
    let f = finished(&s, 4.0);
    s.apply(f);
    let x = s.suggestion().unwrap().x;
    assert!(s.apply(Action::Explore(ExploreAction::MeasureNext)).is_empty());
    assert_eq!(s.explore.awaiting, Some(x));
    assert!(s.apply(Action::Explore(ExploreAction::AddMeasured(f64::NAN))).is_empty());
    assert_eq!(s.data.len(), 10);
    let msgs = s.apply(Action::Explore(ExploreAction::AddMeasured(2.75)));
    assert_eq!((s.data.x[10], s.data.y[10]), (x, 2.75));
    assert_eq!(start_of(&msgs).map(|m| (m.1, m.2)), Some((true, 11)));
    assert_eq!(s.explore.awaiting, None);
    // Auto needs a truth to measure from.
    let f = finished(&s, 4.0);
    s.apply(f);
    assert!(s.apply(Action::Explore(ExploreAction::Auto)).is_empty());
    assert!(s.explore.error.as_deref().unwrap().contains("truth"));
}

#[test]
fn auto_runs_its_rounds_and_a_second_acquisition_starts_from_the_same_points() {
    let mut s = trained(0.0);
    let start = s.data.clone();
    s.apply(Action::Explore(ExploreAction::SetRounds(3)));
    let msgs = s.apply(Action::Explore(ExploreAction::Auto));
    // The finished fit of the start is the curve's first point; the first measurement follows.
    assert_eq!(start_of(&msgs).map(|m| (m.1, m.2)), Some((true, start.len() + 1)));
    for round in 0..3 {
        assert!(s.explore.auto.is_some(), "round {round}");
        let f = finished(&s, 0.3 * round as f64);
        let msgs = s.apply(f);
        if round < 2 {
            assert_eq!(start_of(&msgs).map(|m| m.2), Some(start.len() + round + 2));
        } else {
            assert!(start_of(&msgs).is_none(), "no fourth measurement");
        }
    }
    assert_eq!(s.explore.auto, None);
    let c = &s.explore.curves[0];
    assert_eq!(c.kind, AcquisitionKind::Epistemic);
    let ns: Vec<usize> = c.points.iter().map(|p| p.n).collect();
    assert_eq!(ns, (0..4).map(|k| start.len() + k).collect::<Vec<_>>());
    // The fits' mean is the truth: RMSE 0; the NLL is finite.
    assert!(c.points.iter().all(|p| p.rmse < 1e-9 && p.nll.is_finite()));

    // Random from the same start: the data go back to the start's points, fitted afresh.
    s.apply(Action::Explore(ExploreAction::SetKind(AcquisitionKind::Random)));
    let msgs = s.apply(Action::Explore(ExploreAction::Auto));
    assert_eq!(s.data, start);
    assert_eq!(start_of(&msgs).map(|m| (m.1, m.2)), Some((false, start.len())));
    let f = finished(&s, 0.0);
    s.apply(f);
    assert_eq!(s.explore.curves.len(), 2);
    assert_eq!(s.explore.curves[1].points[0].n, start.len());
    // The user taking over (Train) stops Auto; the curves stay.
    s.apply(Action::Train);
    assert_eq!(s.explore.auto, None);
    assert_eq!(s.explore.curves.len(), 2);
    s.apply(Action::Explore(ExploreAction::ClearCurves));
    assert!(s.explore.curves.is_empty() && s.explore.start.is_none());
}

#[test]
fn a_failed_fit_stops_auto_and_says_so() {
    let mut s = trained(0.0);
    s.apply(Action::Explore(ExploreAction::Auto));
    let run = s.run;
    s.apply(Action::Worker(FromWorker::Error { run, message: "diverged".into() }));
    assert_eq!(s.explore.auto, None);
    assert!(s.explore.error.as_deref().unwrap().starts_with("Auto stopped"));
}

#[test]
fn the_acquisition_travels_in_the_link_and_a_bad_one_is_named() {
    let mut s = AppState::default();
    assert!(!s.query().contains("acquisition="), "the default is not spelled out");
    s.apply(Action::Explore(ExploreAction::SetKind(AcquisitionKind::Ucb)));
    s.apply(Action::Explore(ExploreAction::SetGoal(Goal::Min)));
    s.apply(Action::Explore(ExploreAction::SetKappa(1.5)));
    let q = s.query();
    assert!(q.contains("acquisition=ucb") && q.contains("goal=min") && q.contains("kappa=1.5"), "{q}");
    let (back, problem) = AppState::load(None, &q);
    assert_eq!(problem, None);
    assert_eq!((back.explore.kind, back.explore.goal, back.explore.kappa), (AcquisitionKind::Ucb, Goal::Min, 1.5));
    let (back, problem) = AppState::load(None, "acquisition=nope&kappa=-1");
    assert_eq!(back.explore.kind, AcquisitionKind::Epistemic);
    let p = problem.unwrap();
    assert!(p.contains("acquisition 'nope'") && p.contains("kappa '-1'"), "{p}");
}
