use super::*;
use crate::protocol::FromWorker;
use crate::summary::PredictiveSummary;
use crate::ui::state::{Action, DataControl};

/// A finished frame on the state's grid: the true mean, with the true noise sd (`exact`)
/// or one constant sd, the mean of the true sd over the grid (a homoskedastic answer).
fn finished(s: &AppState, exact: bool, elapsed_ms: f64) -> FromWorker {
    let t = s.data.truth.expect("synthetic data");
    let grid = s.grid.clone();
    let sigma: Vec<f64> = grid.iter().map(|&x| t.sigma(x)).collect();
    let flat = sigma.iter().sum::<f64>() / sigma.len() as f64;
    let sd = if exact { sigma.clone() } else { vec![flat; grid.len()] };
    let summary = PredictiveSummary {
        mean: grid.iter().map(|&x| t.f(x)).collect(),
        sd_epistemic: vec![0.0; grid.len()],
        sd_aleatoric: sd.clone(),
        sd_total: sd.clone(),
        sigma_mean: sd.clone(),
        sigma_lo: sd.clone(),
        sigma_hi: sd,
        x: grid,
    };
    let f = Frame { running: false, elapsed_ms, ..Frame::placeholder(s.run, summary) };
    FromWorker::Finished(f)
}

fn keep() -> Action {
    Action::Compare(CompareAction::Keep)
}

#[test]
fn compare_keeps_fit_a_and_the_next_train_makes_fit_b() {
    let mut s = AppState::default();
    assert!(!s.can_compare());
    assert!(s.apply(keep()).is_empty());
    assert!(s.compare.is_none(), "nothing to keep before a fit has finished");
    let mut c = s.settings.config.clone();
    c.model.kind = ModelKind::Homoskedastic;
    s.apply(Action::SetConfig(c));
    s.apply(Action::Train);
    let run_a = s.run;
    s.apply(Action::Worker(finished(&s, false, 2000.0)));
    assert!(s.can_compare());
    s.apply(keep());
    let cmp = s.compare.as_ref().expect("fit A kept");
    assert_eq!(cmp.a.config.model.kind, ModelKind::Homoskedastic);
    assert_eq!(cmp.a.frame.elapsed_ms, 2000.0);
    assert_eq!(cmp.a.evaluations.len(), 1);
    assert!(cmp.a.metrics.is_some());
    assert_eq!(cmp.layout, Layout::Apart);
    // The page's fit is cleared for B; A's late messages do not come back as B.
    assert_eq!(s.status, RunStatus::Idle);
    assert!(s.frame.is_none() && s.fitted.is_none());
    assert!(s.compare_report().is_none(), "no report before B has finished");
    let mut c = s.settings.config.clone();
    c.model.kind = ModelKind::TwoHead;
    s.apply(Action::SetConfig(c));
    let msgs = s.apply(Action::Train);
    assert!(matches!(&msgs[..], [ToWorker::Start { config, .. }] if config.model.kind == ModelKind::TwoHead));
    let late = Frame { run: run_a, ..Frame::placeholder(run_a, PredictiveSummary::default()) };
    s.apply(Action::Worker(FromWorker::Finished(late)));
    assert_eq!(s.status, RunStatus::Running);
    s.apply(Action::Worker(finished(&s, true, 3000.0)));
    let r = s.compare_report().expect("both fits finished");
    assert_eq!(r.on, "fresh draws from the truth");
    let row = |k: &str| r.rows.iter().find(|x| x.key == k).unwrap_or_else(|| panic!("row {k}")).clone();
    assert_eq!((row("model").a.as_str(), row("model").b.as_str()), ("homoskedastic", "two-head"));
    assert_eq!((row("fit_time").a.as_str(), row("fit_time").b.as_str()), ("2.0 s", "3.0 s"));
    for (k, _) in METRIC_ROWS {
        assert!(row(k).a != "n/a" && row(k).b != "n/a", "{k}: {:?}", row(k));
    }
    // The numbers are the fits' own evaluations.
    let a_nll = s.compare.as_ref().unwrap().a.evaluations[0].metrics.nll;
    assert_eq!(row("nll").a, crate::ui::state::fmt(a_nll));
    assert_eq!(row("nll").b, crate::ui::state::fmt(s.evaluations()[0].metrics.nll));
    // The true noise as the band covers about 95% everywhere; the constant band covers
    // more at the edges (low noise) than over the bump (high noise).
    assert!(r.verdict.starts_with("B's 95% band covers 9"), "{}", r.verdict);
    assert!(r.verdict.contains("A's covers 100% where the noise is low and"), "{}", r.verdict);
    assert!(r.verdict.contains("B has the lower NLL"), "{}", r.verdict);
    // The project file carries both fits' settings.
    let p: crate::ui::state::Project = serde_json::from_str(&s.project_json()).unwrap();
    assert_eq!(p.fit_a.unwrap().model.kind, ModelKind::Homoskedastic);
    assert_eq!(p.settings.config.model.kind, ModelKind::TwoHead);
    s.apply(Action::Compare(CompareAction::SetLayout(Layout::Overlay)));
    assert_eq!(s.compare.as_ref().unwrap().layout, Layout::Overlay);
    s.apply(Action::Compare(CompareAction::End));
    assert!(s.compare.is_none());
    let p: crate::ui::state::Project = serde_json::from_str(&s.project_json()).unwrap();
    assert!(p.fit_a.is_none());
}

#[test]
fn changing_the_data_ends_the_comparison() {
    for change in [
        Action::SetN(60),
        Action::Regenerate,
        Action::AddPoint { x: 0.1, y: 0.2 },
        Action::LoadCsv { name: "a.csv".into(), text: "1,2\n2,3\n3,1\n4,4\n".into(), control: DataControl::Paste },
        Action::SelectDataset("linear".into()),
    ] {
        let mut s = AppState::default();
        s.apply(Action::Train);
        s.apply(Action::Worker(finished(&s, true, 1.0)));
        s.apply(keep());
        s.apply(Action::Train);
        assert!(s.compare.is_some());
        s.apply(change.clone());
        assert!(s.compare.is_none(), "{change:?} ends the comparison");
    }
    // What leaves the points as they are does not.
    let mut s = AppState::default();
    s.apply(Action::Train);
    s.apply(Action::Worker(finished(&s, true, 1.0)));
    s.apply(keep());
    s.apply(Action::SelectDataset("bump".into()));
    s.apply(Action::SetN(150));
    s.apply(Action::Reset);
    assert!(s.compare.is_some());
}

#[test]
fn a_scenario_link_opens_its_data_and_fit_a_and_runs_a_then_b() {
    let (mut s, problem) = AppState::load(None, "compare=why-heteroskedastic");
    assert_eq!(problem, None);
    let sc = s.scenario.expect("scenario opened");
    assert_eq!((sc.scenario.id, sc.stage), ("why-heteroskedastic", Stage::Ready));
    assert_eq!(s.settings.config.model.kind, ModelKind::Homoskedastic);
    assert_eq!(s.data, Synthetic::Bump.generate(150, 1));
    assert!(s.query().ends_with("&compare=why-heteroskedastic"), "{}", s.query());
    // The page's own link reopens it.
    let (again, _) = AppState::load(None, &s.query());
    assert_eq!(again.scenario.map(|x| x.scenario.id), Some("why-heteroskedastic"));
    let msgs = s.apply(Action::Compare(CompareAction::RunScenario));
    assert!(matches!(&msgs[..], [ToWorker::Start { config, .. }] if config.model.kind == ModelKind::Homoskedastic));
    assert_eq!(s.scenario.unwrap().stage, Stage::TrainingA);
    s.apply(Action::Worker(finished(&s, false, 1500.0)));
    assert_eq!(s.scenario.unwrap().stage, Stage::ReadyForB);
    let msgs = s.apply(Action::Compare(CompareAction::Continue));
    assert!(matches!(&msgs[..], [ToWorker::Start { config, .. }] if config.model.kind == ModelKind::TwoHead));
    assert_eq!(s.scenario.unwrap().stage, Stage::TrainingB);
    assert_eq!(s.compare.as_ref().unwrap().a.config.model.kind, ModelKind::Homoskedastic);
    // Asked twice, it starts nothing more.
    assert!(s.apply(Action::Compare(CompareAction::Continue)).is_empty());
    s.apply(Action::Worker(finished(&s, true, 1500.0)));
    assert_eq!(s.scenario.unwrap().stage, Stage::Done);
    let r = s.compare_report().unwrap();
    assert!(r.verdict.contains("A's covers 100% where the noise is low"), "{}", r.verdict);
    // A data change ends the scenario too.
    s.apply(Action::SetN(100));
    assert!(s.scenario.is_none() && s.compare.is_none());
    assert!(!s.query().contains("compare="));
}

#[test]
fn a_failed_fit_a_puts_the_scenario_back_to_ready() {
    let (mut s, _) = AppState::load(None, "compare=why-heteroskedastic");
    s.apply(Action::Compare(CompareAction::RunScenario));
    let run = s.run;
    s.apply(Action::Worker(FromWorker::Error { run, message: "diverged".into() }));
    assert_eq!(s.scenario.unwrap().stage, Stage::Ready);
    assert!(s.apply(Action::Compare(CompareAction::Continue)).is_empty());
    assert!(s.compare.is_none());
}

#[test]
fn an_unknown_scenario_is_named_and_the_page_opens_as_without_it() {
    let (s, problem) = AppState::load(None, "compare=nope");
    let p = problem.unwrap();
    assert!(p.contains("no comparison scenario 'nope'") && p.contains("why-heteroskedastic"), "{p}");
    assert!(s.scenario.is_none());
    assert_eq!(s.settings, crate::ui::settings::Settings::default());
}

#[test]
fn every_scenario_is_valid_and_compares_two_different_fits() {
    for sc in &SCENARIOS {
        let (source, data) = (sc.data)();
        assert!(data.check_fit().is_ok(), "{}", sc.id);
        assert!(source.check().is_ok());
        let (a, b) = ((sc.a)(), (sc.b)());
        a.validate().unwrap();
        b.validate().unwrap();
        assert_ne!(a, b, "{}", sc.id);
        assert!(!sc.watch.is_empty() && sc.watch.ends_with('.'));
        assert_eq!(scenario(sc.id), Some(sc));
        let (s, problem) = AppState::load(None, &scenario_href(sc));
        assert_eq!(problem, None, "{}", sc.id);
        assert_eq!(s.settings.config, a);
        assert_eq!(s.data, data);
    }
    let d = clusters().1;
    assert!(d.truth.is_some());
    assert!(d.len() > 100);
    assert!(d.x.iter().all(|&x| !(CLUSTER_GAP.0..=CLUSTER_GAP.1).contains(&x)));
    assert!(d.x.iter().any(|&x| x < CLUSTER_GAP.0) && d.x.iter().any(|&x| x > CLUSTER_GAP.1));
    let domain = SCENARIOS[1].data;
    assert_eq!(domain().1.len(), 40, "the small data set has 40 points");
}

/// The scenarios name their methods: a change of the default method leaves them alone.
#[test]
fn the_scenarios_name_their_methods() {
    let methods: Vec<(&str, Method, Method)> = SCENARIOS.iter().map(|sc| (sc.id, (sc.a)().inference.method, (sc.b)().inference.method)).collect();
    assert_eq!(
        methods,
        [
            ("why-heteroskedastic", Method::Psgld, Method::Psgld),
            ("domain-knowledge", Method::Psgld, Method::Psgld),
            ("fast-vs-reference", Method::Psgld, Method::Nuts),
            ("vi-between-clusters", Method::Psgld, Method::Vi),
        ]
    );
    for sc in &SCENARIOS {
        for c in [(sc.a)(), (sc.b)()] {
            let m = c.inference.method;
            let want = if m == Method::Nuts { SCENARIO_NUTS_DRAWS } else { m.spec().default_draws };
            assert_eq!(c.inference.draws, want, "{} {m:?}", sc.id);
        }
    }
}

#[test]
fn the_legend_toggles_each_band_and_the_draws() {
    let mut s = AppState::default();
    assert_eq!(s.shown, Shown { total: true, aleatoric: true, epistemic: true, draws: false });
    s.apply(Action::Compare(CompareAction::ToggleBand(Band::Total)));
    s.apply(Action::Compare(CompareAction::ToggleBand(Band::Epistemic)));
    assert!(!s.shown.band(Band::Total) && s.shown.band(Band::Aleatoric) && !s.shown.band(Band::Epistemic));
    s.apply(Action::Compare(CompareAction::ToggleBand(Band::Epistemic)));
    s.apply(Action::Compare(CompareAction::ToggleDraws));
    assert!(s.shown.epistemic && s.shown.draws);
}
