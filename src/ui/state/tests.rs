use super::*;
use crate::protocol::Frame;

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
