use super::*;
use crate::protocol::Frame;
use crate::summary::PredictiveSummary;

/// serde_json's default float parsing may differ in the last bit natively (the wasm
/// build enables `float_roundtrip`), so saved points compare to 1e-12.
fn same_data(a: &Dataset, b: &Dataset) -> bool {
    let close = |u: &[f64], v: &[f64]| u.len() == v.len() && u.iter().zip(v).all(|(p, q)| (p - q).abs() <= 1e-12 * (1.0 + p.abs()));
    close(&a.x, &b.x) && close(&a.y, &b.y) && a.x_label == b.x_label && a.y_label == b.y_label && a.truth == b.truth
}

fn frame(run: u32, running: bool) -> Frame {
    let x = vec![0.0, 1.0, 2.0];
    let v = |a: f64| vec![a, a, a];
    let summary = PredictiveSummary {
        x,
        mean: vec![0.0, 1.0, 0.5],
        sd_epistemic: v(0.1),
        sd_aleatoric: vec![0.2, 0.5, 0.3],
        sd_total: vec![0.25, 0.52, 0.33],
        sigma_mean: vec![0.2, 0.5, 0.3],
        sigma_lo: v(0.1),
        sigma_hi: v(0.6),
    };
    Frame { running, ..Frame::placeholder(run, summary) }
}

#[test]
fn train_pause_resume_step_and_reset_drive_the_worker() {
    let mut s = AppState::default();
    let msgs = s.apply(Action::Train);
    assert!(matches!(msgs.as_slice(), [ToWorker::Start { run: 1, grid, .. }] if grid.len() == GRID_POINTS));
    assert_eq!(s.status, RunStatus::Running);
    assert_eq!(s.apply(Action::TogglePause), vec![ToWorker::Pause]);
    assert_eq!(s.status, RunStatus::Paused);
    assert_eq!(s.apply(Action::Step), vec![ToWorker::Step { n: STEP_CHUNK }]);
    assert_eq!(s.apply(Action::TogglePause), vec![ToWorker::Resume]);
    assert_eq!(s.status, RunStatus::Running);
    s.apply(Action::Worker(FromWorker::Snapshot(frame(1, true))));
    assert!(s.frame.is_some());
    assert_eq!(s.apply(Action::Reset), vec![ToWorker::Stop]);
    assert_eq!(s.status, RunStatus::Idle);
    assert!(s.frame.is_none());
}

#[test]
fn late_snapshots_of_an_old_run_are_ignored() {
    let mut s = AppState::default();
    s.apply(Action::Train);
    s.apply(Action::Train); // restart: run 2
    s.apply(Action::Worker(FromWorker::Snapshot(frame(1, true))));
    assert!(s.frame.is_none());
    s.apply(Action::Worker(FromWorker::Finished(frame(2, false))));
    assert_eq!(s.status, RunStatus::Finished);
}

#[test]
fn a_fit_error_keeps_the_last_snapshot() {
    let mut s = AppState::default();
    s.apply(Action::Train);
    s.apply(Action::Worker(FromWorker::Snapshot(frame(1, true))));
    s.apply(Action::Worker(FromWorker::Error { run: 1, message: "step size too large".into() }));
    assert_eq!(s.status, RunStatus::Failed);
    assert!(s.frame.is_some());
    assert_eq!(s.fit_error.as_deref(), Some("step size too large"));
}

#[test]
fn step_size_changes_live_and_other_changes_ask_to_restart() {
    let mut s = AppState::default();
    s.settings.config.inference.method_for_step_budget(); // pSGLD: its step size is live
    s.apply(Action::Train);
    let mut c = s.settings.config.clone();
    c.inference.step_size = 1e-3;
    assert_eq!(s.apply(Action::SetConfig(c.clone())), vec![ToWorker::Update { setting: "step_size".into(), value: 1e-3 }]);
    assert!(s.pending_changes().is_empty());
    c.model.hidden = vec![8];
    assert!(s.apply(Action::SetConfig(c)).is_empty());
    assert_eq!(s.pending_changes(), vec!["hidden".to_string()]);
}

#[test]
fn malformed_csv_keeps_the_previous_data_and_says_where() {
    let mut s = AppState::default();
    let before = s.data.clone();
    s.apply(Action::LoadCsv { name: "bad.csv".into(), text: "x,y\n1,2\n3,oops\n".into(), control: DataControl::Upload });
    assert_eq!(s.data, before);
    let (control, msg) = s.data_error.clone().expect("an error");
    assert_eq!(control, DataControl::Upload);
    assert!(msg.contains('3'), "message names line 3: {msg}");
}

#[test]
fn csv_upload_replaces_the_data_and_offers_columns_when_there_are_more_than_two() {
    let mut s = AppState::default();
    s.apply(Action::LoadCsv { name: "t.csv".into(), text: "time,signal,other\n0,1,5\n1,2,6\n2,2.5,7\n".into(), control: DataControl::Upload });
    assert_eq!(s.data_error, None);
    assert_eq!(s.data.x, vec![0.0, 1.0, 2.0]);
    assert_eq!(s.data.x_label, "time");
    assert_eq!(s.data.y_label, "signal");
    assert!(s.table.is_some());
    s.apply(Action::ChooseColumns { x: 0, y: 2 });
    assert_eq!(s.data.y, vec![5.0, 6.0, 7.0]);
    assert!(!s.settings.source.fits_in_url());
}

#[test]
fn clicking_adds_and_shift_clicking_removes_the_nearest_point() {
    let mut s = AppState::default();
    let n = s.data.len();
    s.apply(Action::AddPoint { x: 0.123, y: 4.5 });
    assert_eq!(s.data.len(), n + 1);
    assert!(matches!(s.settings.source, DataSource::Custom { .. }));
    s.apply(Action::RemoveNearest { x: 0.124, y: 4.49, x_per_px: 0.01, y_per_px: 0.01 });
    assert_eq!(s.data.len(), n);
    assert!(!s.data.x.contains(&0.123));
}

#[test]
fn links_and_saved_state_restore_the_page_with_the_link_winning() {
    let mut a = AppState::default();
    a.apply(Action::SelectDataset("linear".into()));
    a.apply(Action::SetN(60));
    let mut c = a.settings.config.clone();
    c.inference.steps = 3000;
    c.inference.method_for_step_budget(); // a step budget: pSGLD
    a.apply(Action::SetConfig(c));
    let query = a.settings.to_query();
    let saved = AppState::default().saved();
    let (b, problem) = AppState::load(Some(&saved), &query);
    assert_eq!(problem, None);
    assert_eq!(b.settings, a.settings);
    assert_eq!(b.data, a.data);
    // Without a link the saved state comes back, custom points included.
    let mut e = AppState::default();
    e.apply(Action::AddPoint { x: 1.0, y: 1.0 });
    let (f, _) = AppState::load(Some(&e.saved()), "");
    assert!(same_data(&f.data, &e.data));
}

#[test]
fn a_project_file_round_trips_with_its_data() {
    let mut a = AppState::default();
    a.apply(Action::AddPoint { x: 9.0, y: 9.0 });
    let json = a.project_json();
    let mut b = AppState::default();
    b.apply(Action::OpenProject(json));
    assert!(same_data(&b.data, &a.data));
    assert_eq!(b.settings, a.settings);
    b.apply(Action::OpenProject("{not json".into()));
    assert!(matches!(b.data_error, Some((DataControl::Project, _))));
    assert!(same_data(&b.data, &a.data));
}

#[test]
fn a_custom_noise_formula_and_its_priors_survive_the_project_file_the_saved_state_and_the_link() {
    use crate::ui::law_edit::{choose_law, set_formula, set_prior};
    let mut a = AppState::default();
    let c = choose_law(&a.settings.config, crate::config::NoiseLawKind::CUSTOM);
    let c = set_formula(&c, "a*exp(b*x) + s", &a.data).unwrap();
    let c = set_prior(&c, "s", true, "", "", &a.data).unwrap();
    let c = set_prior(&c, "b", false, "0", "0.5", &a.data).unwrap();
    a.apply(Action::SetConfig(c));
    // "Custom formula" from the default exponential law starts from its formula and priors.
    let m = &a.settings.config.model;
    assert!(m.noise_law.is_custom());
    assert_eq!((m.noise_formula.as_str(), m.noise_priors.as_str()), ("a*exp(b*x) + s", "a ~ lognormal(log(sd_y), 2); b ~ normal(0, 0.5); s ~ positive"));
    // The project file.
    let mut b = AppState::default();
    b.apply(Action::OpenProject(a.project_json()));
    assert_eq!(b.data_error, None);
    assert_eq!(b.settings, a.settings);
    // Saved in the browser, reopened without a link.
    let (d, problem) = AppState::load(Some(&a.saved()), "");
    assert_eq!(problem, None);
    assert_eq!(d.settings.config.model, a.settings.config.model);
    // The link, over other saved settings.
    let (e, problem) = AppState::load(Some(&AppState::default().saved()), &a.settings.to_query());
    assert_eq!(problem, None);
    assert_eq!(e.settings, a.settings);
}

#[test]
fn predictions_csv_has_the_documented_header_and_one_row_per_grid_point() {
    let f = frame(1, false);
    let csv = predictions_csv(&f.snapshot.summary);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("x,mean,sd_epistemic,sd_aleatoric,sd_total"));
    assert_eq!(lines.len(), 1 + 3);
    assert_eq!(lines[1].split(',').count(), lines[0].split(',').count());
}

#[test]
fn the_text_summary_reads_the_bands() {
    let mut s = AppState::default();
    s.apply(Action::Train);
    s.apply(Action::Worker(FromWorker::Snapshot(frame(1, true))));
    let t = s.describe();
    assert!(t.contains("widest at x = 1"), "{t}");
    assert!(t.contains("posterior draws"), "{t}");
}

#[test]
fn numbers_in_text_are_short() {
    assert_eq!(fmt(1.0), "1");
    assert_eq!(fmt(0.12345), "0.1235");
    assert_eq!(fmt(-0.00001), "-1.000e-5");
    assert_eq!(fmt(123.456), "123.5");
}

#[test]
fn a_worker_crash_keeps_data_settings_and_the_last_plot_and_train_works_again() {
    let mut s = AppState::default();
    s.apply(Action::Train);
    s.apply(Action::Worker(FromWorker::Snapshot(frame(1, true))));
    let (settings, data) = (s.settings.clone(), s.data.clone());
    s.apply(Action::WorkerCrashed("unreachable executed".into()));
    assert!(s.alert.as_deref().is_some_and(|a| a.contains("crashed")));
    assert_eq!(s.status, RunStatus::Idle);
    assert!(s.frame.is_some(), "the last plot stays");
    assert_eq!((s.settings.clone(), s.data.clone()), (settings, data));
    // A late message from the dead run is ignored; Train starts a new run.
    s.apply(Action::Worker(FromWorker::Snapshot(frame(1, true))));
    assert_eq!(s.status, RunStatus::Idle);
    assert!(matches!(s.apply(Action::Train).as_slice(), [ToWorker::Start { run: 3, .. }]));
}

#[test]
fn saved_state_and_projects_that_ask_for_too_many_points_are_refused() {
    let mut s = AppState::default();
    s.settings.source = DataSource::Generated { generator: Synthetic::Bump, n: 5_000_000, seed: 1 };
    let text = s.project_json();
    let mut a = AppState::default();
    let before = a.data.clone();
    a.apply(Action::OpenProject(text.clone()));
    assert!(matches!(&a.data_error, Some((DataControl::Project, m)) if m.contains("100000")));
    assert_eq!(a.data, before);
    let (b, problem) = AppState::load(Some(&text), "");
    assert!(problem.is_some());
    assert_eq!(b.settings.source, DataSource::default());
}

#[test]
fn a_link_to_notebook_data_that_does_not_exist_says_so() {
    let (s, problem) = AppState::load(None, "data=notebook:linear");
    assert!(problem.unwrap().contains("no NeuroBayes notebook data for 'linear'"));
    assert_eq!(s.settings.source, DataSource::default());
}

#[test]
fn training_needs_data_the_core_accepts() {
    let mut s = AppState::default();
    s.apply(Action::ClearData);
    s.apply(Action::AddPoint { x: 0.0, y: 0.0 });
    s.apply(Action::AddPoint { x: 1.0, y: 1.0 });
    assert!(s.apply(Action::Train).is_empty());
    assert!(s.fit_error.as_deref().unwrap().contains("at least 3"));
}

#[test]
fn an_outlier_is_named_at_load_and_train_refuses_it_with_the_reason() {
    let mut s = AppState::default();
    let mut text = String::from("x,y\n");
    for i in 0..40 {
        let y = if i == 16 { 1e12 } else { (i as f64 / 4.0).sin() };
        text.push_str(&format!("{},{y:?}\n", i as f64 / 4.0));
    }
    s.apply(Action::LoadCsv { name: "o.csv".into(), text, control: DataControl::Upload });
    let (control, msg) = s.data_error.clone().expect("a message at load");
    assert_eq!(control, DataControl::Upload);
    assert!(msg.contains("line 18") && msg.contains("1e12") && msg.contains("far outside"), "{msg}");
    assert_eq!(s.data.len(), 40, "the data are read");
    let sent = s.apply(Action::Train);
    assert!(sent.is_empty(), "no fit is started");
    let e = s.fit_error.clone().expect("Train says why");
    assert!(e.starts_with("Cannot train: point 17: y = 1e12 lies far outside"), "{e}");
    assert!(!s.describe().contains("NaN"));
}

/// A state with a finished fit of its current data.
fn fitted_state() -> AppState {
    let mut s = AppState::default();
    s.apply(Action::Train);
    s.apply(Action::Worker(FromWorker::Finished(frame(1, false))));
    assert_eq!(s.status, RunStatus::Finished);
    s
}

#[test]
fn any_change_of_the_data_clears_the_fit() {
    let csv = "a,b,c\n0,1,5\n1,2,6\n2,2.5,7\n3,1,8\n".to_string();
    let project = {
        let mut p = AppState::default();
        p.apply(Action::SelectDataset("linear".into()));
        p.project_json()
    };
    let changes: Vec<(&str, Vec<Action>)> = vec![
        ("another data set", vec![Action::SelectDataset("linear".into())]),
        ("notebook data", vec![Action::SelectDataset("notebook:nb_exp".into())]),
        ("N", vec![Action::SetN(60)]),
        ("data seed", vec![Action::SetDataSeed(7)]),
        ("Regenerate", vec![Action::Regenerate]),
        ("Clear", vec![Action::ClearData]),
        ("upload", vec![Action::LoadCsv { name: "u.csv".into(), text: csv.clone(), control: DataControl::Upload }]),
        ("Apply pasted data", vec![Action::LoadCsv { name: "pasted data".into(), text: "x,y\n0,0\n1,1\n2,0\n".into(), control: DataControl::Paste }]),
        ("open project", vec![Action::OpenProject(project)]),
        ("Restore defaults", vec![Action::SelectDataset("linear".into()), Action::Train, Action::RestoreDefaults]),
    ];
    for (what, actions) in changes {
        let mut s = fitted_state();
        let mut msgs = vec![];
        for a in actions {
            msgs = s.apply(a);
        }
        assert!(s.frame.is_none() && s.fitted.is_none() && !s.stale, "{what}: the old fit is gone");
        assert_eq!(s.status, RunStatus::Idle, "{what}: not 'Finished' any more");
        assert!(s.describe().contains("No fit yet"), "{what}: {}", s.describe());
        assert!(s.metrics().is_none(), "{what}");
        // A running fit of the old data is stopped (the Restore defaults case trained first).
        if what == "Restore defaults" {
            assert_eq!(msgs, vec![ToWorker::Stop], "{what}");
        }
    }
    // Other columns of the same file: the fit of the first choice goes too.
    let mut s = AppState::default();
    s.apply(Action::LoadCsv { name: "u.csv".into(), text: csv, control: DataControl::Upload });
    s.apply(Action::Train);
    s.apply(Action::Worker(FromWorker::Snapshot(frame(s.run, true))));
    assert_eq!(s.apply(Action::ChooseColumns { x: 0, y: 2 }), vec![ToWorker::Stop]);
    assert!(s.frame.is_none());
    assert_eq!(s.status, RunStatus::Idle);
    // A late snapshot of the stopped run does not bring it back.
    s.apply(Action::Worker(FromWorker::Snapshot(frame(s.run - 1, true))));
    assert!(s.frame.is_none());
}

#[test]
fn a_change_that_is_refused_keeps_the_fit() {
    let mut s = fitted_state();
    s.apply(Action::LoadCsv { name: "bad.csv".into(), text: "x,y\n1,oops\n".into(), control: DataControl::Upload });
    s.apply(Action::SetN(1));
    s.apply(Action::SelectDataset("nonsense".into()));
    assert!(s.data_error.is_some());
    assert!(s.frame.is_some());
    assert_eq!(s.status, RunStatus::Finished);
}

#[test]
fn a_hand_edit_greys_the_old_fit_until_the_next_train() {
    let mut s = fitted_state();
    let n = s.data.len();
    s.apply(Action::AddPoint { x: 5.0, y: 0.0 });
    assert!(s.stale, "the old fit is kept, as the previous data's");
    assert!(s.frame.is_some());
    assert_eq!(s.status, RunStatus::Idle);
    assert!(s.metrics().is_none() && s.current_frame().is_none(), "no metrics or noise table of the old fit");
    let t = s.describe();
    assert!(t.contains(&format!("{} data points", n + 1)) && t.contains("fit of the previous data"), "{t}");
    assert!(!t.contains("widest"), "no numbers of the old fit next to the new N: {t}");
    // Another edit keeps it greyed; removing a point too.
    s.apply(Action::RemoveNearest { x: 5.0, y: 0.0, x_per_px: 0.01, y_per_px: 0.01 });
    assert!(s.stale);
    // Train fits the new data, and its first snapshot is shown in colour.
    let msgs = s.apply(Action::Train);
    assert!(matches!(msgs.as_slice(), [ToWorker::Start { .. }]));
    assert!(!s.stale && s.frame.is_none());
    s.apply(Action::Worker(FromWorker::Snapshot(frame(s.run, true))));
    assert!(s.current_frame().is_some());
    // A hand edit while training stops the fit of the old data.
    assert_eq!(s.apply(Action::AddPoint { x: 6.0, y: 1.0 }), vec![ToWorker::Stop]);
    assert!(s.stale && s.status == RunStatus::Idle);
    // A change other than by hand then clears it.
    s.apply(Action::SelectDataset("linear".into()));
    assert!(!s.stale && s.frame.is_none());
}

#[test]
fn restore_defaults_brings_back_the_first_visit_state() {
    let mut s = AppState::default();
    s.apply(Action::LoadCsv { name: "u.csv".into(), text: "a,b,c\n0,1,5\n1,2,6\n2,2.5,7\n".into(), control: DataControl::Upload });
    let mut c = s.settings.config.clone();
    c.inference.step_size = 0.05;
    c.inference.method = Method::Sgld;
    c.model.kind = crate::config::ModelKind::NoiseModel;
    s.apply(Action::SetConfig(c));
    let (mut b, _) = AppState::load(Some(&s.saved()), "");
    assert!(b.restored.as_deref().is_some_and(|t| t.contains("step_size=0.05") && t.contains("u.csv") && t.contains("Restore defaults")), "{:?}", b.restored);
    b.apply(Action::RestoreDefaults);
    let first = AppState::default();
    assert_eq!(b.settings, first.settings);
    assert_eq!(b.data, first.data);
    assert!(b.table.is_none() && b.restored.is_none());
}

#[test]
fn the_page_says_when_saved_settings_came_back_and_only_then() {
    // Nothing saved, the first-visit state saved, or a link: nothing to say.
    assert_eq!(AppState::load(None, "").0.restored, None);
    assert_eq!(AppState::load(Some(&AppState::default().saved()), "").0.restored, None);
    let mut a = AppState::default();
    a.apply(Action::SetN(60));
    assert_eq!(AppState::load(Some(&a.saved()), "steps=500").0.restored, None, "a link's settings are the user's choice");
    let (b, _) = AppState::load(Some(&a.saved()), "");
    assert!(b.restored.as_deref().is_some_and(|t| t.contains("n=60")), "{:?}", b.restored);
    let mut b = b;
    b.apply(Action::DismissRestored);
    assert!(b.restored.is_none());
    assert_eq!(b.settings, a.settings, "keeping them keeps them");
    // Hand-edited points alone are said too.
    let mut e = AppState::default();
    e.apply(Action::AddPoint { x: 0.5, y: 0.5 });
    assert!(AppState::load(Some(&e.saved()), "").0.restored.is_some());
}

#[test]
fn picking_the_y_column_as_x_swaps_the_columns() {
    let mut s = AppState::default();
    s.apply(Action::LoadCsv { name: "t.csv".into(), text: "time,signal,other\n0,1,5\n1,2,6\n2,2.5,7\n".into(), control: DataControl::Upload });
    assert_eq!(s.columns, (0, 1));
    // x := signal (the y column): y becomes time.
    s.apply(Action::ChooseColumns { x: 1, y: 1 });
    assert_eq!(s.columns, (1, 0));
    assert_eq!((s.data.x_label.as_str(), s.data.y_label.as_str()), ("signal", "time"));
    assert_eq!(s.data.x, vec![1.0, 2.0, 2.5]);
    // y := signal (the x column): x becomes time again.
    s.apply(Action::ChooseColumns { x: 1, y: 1 });
    assert_eq!(s.columns, (0, 1));
    assert_eq!(s.data.x, vec![0.0, 1.0, 2.0]);
    assert_eq!(s.data_error, None);
}

#[test]
fn durations_read_as_seconds_minutes_and_hours() {
    assert_eq!(duration(0.0), "0.0 s");
    assert_eq!(duration(842.0), "0.8 s");
    assert_eq!(duration(42_149.0), "42.1 s");
    assert_eq!(duration(59_960.0), "1 min 00 s");
    assert_eq!(duration(185_000.0), "3 min 05 s");
    assert_eq!(duration(3_725_000.0), "1 h 02 min");
    assert_eq!(duration(f64::NAN), "n/a");
}

#[test]
fn a_refusal_of_the_previous_data_goes_when_the_data_change() {
    // Item 9 of issue 9 (messages that stay once the cause is gone): Train refuses data
    // with an outlier; loading the corrected file must take the refusal away.
    let file = |bad: &str| {
        let mut t = String::from("x,y\n");
        for i in 0..40 {
            let y = if i == 16 { bad.to_string() } else { format!("{:?}", (i as f64 / 4.0).sin()) };
            t.push_str(&format!("{},{y}\n", i as f64 / 4.0));
        }
        t
    };
    let mut s = AppState::default();
    s.apply(Action::LoadCsv { name: "o.csv".into(), text: file("1e12"), control: DataControl::Upload });
    assert!(s.apply(Action::Train).is_empty());
    assert!(s.fit_error.is_some() && s.status == RunStatus::Failed);
    // A file that cannot be read keeps the data, so the refusal still holds.
    s.apply(Action::LoadCsv { name: "bad.csv".into(), text: "x,y\n".into(), control: DataControl::Upload });
    assert!(s.fit_error.is_some(), "the data did not change");
    s.apply(Action::LoadCsv { name: "fixed.csv".into(), text: file("0.9"), control: DataControl::Upload });
    assert_eq!(s.fit_error, None, "the refusal was of the previous data");
    assert_eq!(s.data_error, None);
    assert_eq!(s.status, RunStatus::Idle);
    assert!(!s.apply(Action::Train).is_empty(), "the corrected data train");
}

/// Uploaded data get "Hold out (%)" 20 and Train sends only the training points, with
/// the held-out x for the worker's predictions; the split is the CLI's (`holdout_mask`).
/// The finished frame's predictions there give the Held-out scores.
#[test]
fn uploaded_data_hold_out_a_fifth_and_score_the_fit_on_it() {
    let mut s = AppState::default();
    assert_eq!(s.settings.config.inference.holdout_frac, 0.0, "built-in data: off");
    let csv: String = std::iter::once("x,y\n".to_string()).chain((0..40).map(|i| format!("{i},{}\n", (i as f64 * 0.3).sin()))).collect();
    s.apply(Action::LoadCsv { name: "mine.csv".into(), text: csv, control: DataControl::Upload });
    assert_eq!(s.settings.config.inference.holdout_frac, UPLOAD_HOLDOUT_FRAC);
    let mask = crate::data::holdout_mask(40, 0.2, s.settings.config.inference.seed);
    assert_eq!(s.held_out_mask(), mask);
    let msgs = s.apply(Action::Train);
    let [ToWorker::Start { data, eval_x, .. }] = msgs.as_slice() else { panic!("{msgs:?}") };
    assert_eq!((data.len(), eval_x.len()), (32, 8));
    let held_x: Vec<f64> = (0..40).filter(|&i| mask[i]).map(|i| i as f64).collect();
    assert_eq!(eval_x, &held_x);
    assert!(data.x.iter().all(|x| !held_x.contains(x)), "held-out points are not fitted");
    assert!(s.evaluations().is_empty(), "nothing to score before the fit ends");
    // The worker's predictions at the held-out x: N(0, 1) everywhere.
    let n = held_x.len();
    let eval = PredictiveSummary { x: held_x.clone(), mean: vec![0.0; n], sd_total: vec![1.0; n], ..Default::default() };
    let f = Frame { running: false, eval: Some(eval), ..frame(1, false) };
    s.apply(Action::Worker(FromWorker::Finished(f)));
    let e = s.evaluations();
    assert_eq!(e.len(), 1, "uploaded data: no truth");
    assert_eq!(e[0].label, "held-out points");
    let y: Vec<f64> = held_x.iter().map(|&i| (i * 0.3).sin()).collect();
    assert_eq!(e[0].metrics, HeldOutMetrics::compute(&y, &vec![0.0; n], &vec![1.0; n]));
    assert_eq!(e[0].metrics.n, 8);
    // Back to a built-in data set: off again.
    s.apply(Action::SelectDataset("bump".into()));
    assert_eq!(s.settings.config.inference.holdout_frac, 0.0);
    assert!(s.held_out_mask().is_empty());
}

/// Synthetic data are scored on fresh draws from the truth at the grid x inside the data.
#[test]
fn a_fit_to_synthetic_data_is_scored_on_fresh_draws_from_the_truth() {
    let mut s = AppState::default();
    s.apply(Action::Train);
    let grid = s.grid.clone();
    let t = s.data.truth.unwrap();
    let summary = PredictiveSummary {
        x: grid.clone(),
        mean: grid.iter().map(|&x| t.f(x)).collect(),
        sd_total: grid.iter().map(|&x| t.sigma(x)).collect(),
        ..Default::default()
    };
    let f = Frame { running: false, ..Frame::placeholder(1, summary) };
    s.apply(Action::Worker(FromWorker::Finished(f)));
    let e = s.evaluations();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].label, "fresh draws from the truth");
    let (lo, hi) = s.data.x_range();
    let inside = grid.iter().filter(|&&x| x >= lo && x <= hi).count();
    assert_eq!(e[0].metrics.n, inside * FRESH_DRAWS_PER_X);
    // The truth as prediction: coverage near 0.95, small calibration error.
    let m = &e[0].metrics;
    assert!((m.coverage95 - 0.95).abs() < 4.5 * (0.95f64 * 0.05 / m.n as f64).sqrt(), "{m:?}");
    assert!(m.miscalibration_area < 0.05, "{m:?}");
}

/// A hold-out that leaves fewer than 3 points to fit refuses Train with a message.
#[test]
fn a_hold_out_that_leaves_too_few_points_refuses_train() {
    let mut s = AppState::default();
    s.apply(Action::LoadCsv { name: "tiny.csv".into(), text: "1,1\n2,3\n3,2\n4,5\n".into(), control: DataControl::Paste });
    let mut c = s.settings.config.clone();
    c.inference.holdout_frac = 0.5;
    s.apply(Action::SetConfig(c));
    assert!(s.apply(Action::Train).is_empty());
    assert_eq!(s.status, RunStatus::Failed);
    let e = s.fit_error.clone().unwrap();
    assert!(e.starts_with("Cannot train: holding out 2 of 4 points leaves too few to fit") && e.contains("Hold out (%)"), "{e}");
}
