//! The page's state and every change to it, as plain methods with no UI types, so
//! the behaviour (what Train, Pause, a CSV upload or a link does) is tested natively.
//! The Yew components only render this state and turn events into [`Action`]s.

use crate::config::{FitConfig, Method};
use crate::data::csv::parse_table;
use crate::data::synthetic::notebook_preset;
use crate::data::{Dataset, Synthetic, Table};
use crate::protocol::{Frame, FromWorker, ToWorker};
use crate::summary::metrics::GridMetrics;
use crate::summary::{Calibration, HeldOutMetrics};
/// The predictions download (the CLI's PRED.csv, the same writer).
pub use crate::summary::bands::predictions_csv;

use super::compare::{ActiveScenario, CompareAction, Comparison, Shown};
use super::explore::{Explore, ExploreAction};
/// Numbers and durations in the page's words (`ui::words`).
pub use super::words::{duration, fmt};
/// The project file and what this browser keeps (`ui::persist`).
pub use super::persist::{Project, PROJECT_FORMAT};
use super::settings::{flat_config, DataSource, Settings};

/// Largest CSV accepted from a file or the paste box (the core's limit).
pub const MAX_CSV_BYTES: usize = crate::data::csv::DEFAULT_MAX_BYTES;
/// Points on the prediction grid (the plots and the predictions CSV).
pub const GRID_POINTS: usize = 200;
/// Grid padding each side, as a fraction of the x range: shows extrapolation.
pub const GRID_PAD: f64 = 0.08;
/// Gradient steps per chain for one press of Step.
pub const STEP_CHUNK: usize = 100;
/// "Hold out (%)" for uploaded or pasted data (built-in and generated data: 0, off).
pub const UPLOAD_HOLDOUT_FRAC: f64 = 0.2;
/// Fresh draws from the truth per grid x inside the data range, for the calibration
/// of a fit to synthetic data (200 grid points: about 1000 draws).
pub const FRESH_DRAWS_PER_X: usize = 6;

/// Which data control an error belongs to (it is shown next to that control).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataControl {
    Generator,
    Upload,
    Paste,
    Project,
    Plot,
    /// The "Hold out (%)" field.
    Holdout,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Idle,
    Running,
    Paused,
    Finished,
    Failed,
}

/// Every user or worker event the page reacts to.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    SelectDataset(String),
    SetN(usize),
    SetDataSeed(u64),
    Regenerate,
    LoadCsv { name: String, text: String, control: DataControl },
    ChooseColumns { x: usize, y: usize },
    /// Click on the main plot (data units).
    AddPoint { x: f64, y: f64 },
    /// Shift-click: remove the point nearest to (x, y), distances scaled by the
    /// data units per pixel on each axis so "nearest" means nearest on screen.
    RemoveNearest { x: f64, y: f64, x_per_px: f64, y_per_px: f64 },
    ClearData,
    OpenProject(String),
    SetConfig(FitConfig),
    Train,
    TogglePause,
    Step,
    Reset,
    Worker(FromWorker),
    WorkerCrashed(String),
    DismissAlert,
    Notice(String),
    DataError { control: DataControl, message: String },
    /// Data, model and method back to the first-visit state.
    RestoreDefaults,
    /// Close the note that saved settings were restored.
    DismissRestored,
    /// Test hook (browser tests): make the worker panic.
    TestPanic,
    /// Compare, its scenarios, and which bands the plots show (`ui::compare`).
    Compare(CompareAction),
    /// Where to measure next (`ui::explore`).
    Explore(ExploreAction),
}

/// What the running (or last) fit was started with.
#[derive(Clone, Debug, PartialEq)]
pub struct Fitted {
    pub config: FitConfig,
    pub data: Dataset,
    /// Which points of `data` were held out of the fit (empty: none).
    pub held: Vec<bool>,
}

/// Scores of a finished fit on points it did not see: held-out points, or fresh draws
/// from the true process when it is known.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// "held-out points" or "fresh draws from the truth".
    pub label: &'static str,
    pub metrics: HeldOutMetrics,
    pub calibration: Calibration,
}

/// The page.
#[derive(Clone, Debug, PartialEq)]
pub struct AppState {
    pub settings: Settings,
    pub data: Dataset,
    /// The parsed file behind uploaded data with more than two columns.
    pub table: Option<Table>,
    pub columns: (usize, usize),
    pub data_error: Option<(DataControl, String)>,
    pub run: u32,
    pub status: RunStatus,
    pub frame: Option<Frame>,
    pub fitted: Option<Fitted>,
    pub grid: Vec<f64>,
    /// The fit's own error (divergence, bad settings): shown as an alert.
    pub fit_error: Option<String>,
    /// A page-level alert (the worker crashed, a link could not be read).
    pub alert: Option<String>,
    /// A passing message ("Link copied").
    pub notice: Option<String>,
    /// The shown fit (`frame`) is of the data before a hand edit (a click added or
    /// removed a point): drawn greyed, labelled "fit of the previous data", until
    /// the next Train. Any other change of the data clears the fit instead.
    pub stale: bool,
    /// Set at load when settings saved in this browser came back (and differ from
    /// the first-visit state): what was restored, shown with the way back.
    pub restored: Option<String>,
    /// Fit A kept for comparison with the page's fit (B).
    pub compare: Option<Comparison>,
    /// The scenario opened by a `compare=` link, and where its run is.
    pub scenario: Option<ActiveScenario>,
    /// Which bands (and whether posterior draws) the main plots draw.
    pub shown: Shown,
    /// Where to measure next: the acquisition, Measure next and Auto's learning curves.
    pub explore: Explore,
}

impl Default for AppState {
    fn default() -> Self {
        let settings = Settings::default();
        let data = data_for(&settings.source).unwrap_or_else(|| Dataset::new(vec![], vec![]));
        AppState {
            settings,
            data,
            table: None,
            columns: (0, 1),
            data_error: None,
            run: 0,
            status: RunStatus::Idle,
            frame: None,
            fitted: None,
            grid: vec![],
            fit_error: None,
            alert: None,
            notice: None,
            stale: false,
            restored: None,
            compare: None,
            scenario: None,
            shown: Shown::default(),
            explore: Explore::default(),
        }
    }
}

/// The points a reproducible source stands for.
pub fn data_for(source: &DataSource) -> Option<Dataset> {
    match source {
        DataSource::Notebook { generator } => notebook_preset(*generator),
        DataSource::Generated { generator, n, seed } => Some(generator.generate(*n, *seed)),
        DataSource::Custom { .. } => None,
    }
}

/// The name of the live-editable setting for a method.
pub fn live_key(method: Method) -> Option<&'static str> {
    method.spec().rate.as_ref().map(|r| r.key)
}

impl AppState {
    /// The shown fit when it is of the current data (not greyed as the previous data's).
    pub fn current_frame(&self) -> Option<&Frame> {
        self.frame.as_ref().filter(|_| !self.stale)
    }

    pub fn is_active(&self) -> bool {
        matches!(self.status, RunStatus::Running | RunStatus::Paused)
    }

    /// Settings (by name) that differ from those of the current fit: the fit keeps
    /// the old ones until Train is pressed again.
    pub fn pending_changes(&self) -> Vec<String> {
        let Some(f) = &self.fitted else { return vec![] };
        if !self.is_active() {
            return vec![];
        }
        let mut out = Vec::new();
        if f.data != self.data {
            out.push("data".to_string());
        }
        let (a, b) = (flat_config(&f.config), flat_config(&self.settings.config));
        let live = live_key(self.settings.config.inference.method);
        for (k, v) in &b {
            if a.get(k) != Some(v) && Some(k.as_str()) != live {
                out.push(k.replace('_', " "));
            }
        }
        out
    }

    /// Apply one action; returns the messages to post to the worker.
    pub fn apply(&mut self, action: Action) -> Vec<ToWorker> {
        // Which actions may change the data, and whether by hand (a click on the plot).
        let data_change = match &action {
            Action::AddPoint { .. } | Action::RemoveNearest { .. } => Some(true),
            Action::SelectDataset(_)
            | Action::SetN(_)
            | Action::SetDataSeed(_)
            | Action::Regenerate
            | Action::LoadCsv { .. }
            | Action::ChooseColumns { .. }
            | Action::ClearData
            | Action::OpenProject(_)
            | Action::RestoreDefaults => Some(false),
            _ => None,
        };
        let before = data_change.map(|_| (self.data.x.clone(), self.data.y.clone()));
        // Auto goes on when its fit finishes, and stops when the user takes over.
        let by_user = data_change.is_some() || matches!(action, Action::Train | Action::Step | Action::Reset);
        let finished_now = matches!(&action, Action::Worker(FromWorker::Finished(f)) if f.run == self.run);
        let mut msgs = self.apply_action(action);
        if let (Some(by_hand), Some((x, y))) = (data_change, before) {
            let changed = x != self.data.x || y != self.data.y;
            if changed {
                self.end_compare_on_new_data();
            }
            msgs.extend(self.after_data_change(by_hand, changed));
        }
        self.scenario_progress();
        msgs.extend(self.explore_after(finished_now, by_user));
        msgs
    }

    /// A fit belongs to the data it was trained on (`fitted.data`): once the data
    /// differ, the fit stops, and its bands, status, noise table and text go (the
    /// axes then follow the new data). After a hand edit the last bands stay, greyed,
    /// as the fit of the previous data, until the next Train.
    /// With no fit of the old data, a refusal to train them (or a failure to start on
    /// them) no longer applies once the data have `changed`.
    fn after_data_change(&mut self, by_hand: bool, changed: bool) -> Vec<ToWorker> {
        let Some(f) = &self.fitted else {
            if changed {
                if self.status == RunStatus::Failed {
                    self.status = RunStatus::Idle;
                }
                self.fit_error = None;
            }
            return vec![];
        };
        if f.data == self.data {
            return vec![];
        }
        let active = self.is_active();
        self.run += 1; // late snapshots of the stopped run are ignored
        self.status = RunStatus::Idle;
        self.fit_error = None;
        if by_hand && self.frame.is_some() {
            self.stale = true;
        } else {
            self.frame = None;
            self.fitted = None;
            self.stale = false;
        }
        if active { vec![ToWorker::Stop] } else { vec![] }
    }

    fn apply_action(&mut self, action: Action) -> Vec<ToWorker> {
        match action {
            Action::SelectDataset(value) => self.select_dataset(&value),
            Action::SetN(n) => {
                if let DataSource::Generated { generator, seed, .. } = self.settings.source.clone() {
                    let source = DataSource::Generated { generator, n, seed };
                    match source.check() {
                        Ok(()) => self.set_source(source),
                        Err(e) => self.data_error = Some((DataControl::Generator, format!("{e}."))),
                    }
                }
            }
            Action::SetDataSeed(seed) => {
                if let DataSource::Generated { generator, n, .. } = self.settings.source.clone() {
                    self.set_source(DataSource::Generated { generator, n, seed });
                }
            }
            Action::Regenerate => match self.settings.source.clone() {
                DataSource::Generated { generator, n, seed } => {
                    self.set_source(DataSource::Generated { generator, n, seed: seed.wrapping_add(1) % (1 << 53) })
                }
                DataSource::Notebook { generator } => {
                    self.set_source(DataSource::Generated { generator, n: generator.default_n(), seed: 1 })
                }
                DataSource::Custom { .. } => {}
            },
            Action::LoadCsv { name, text, control } => self.load_csv(name, &text, control),
            Action::ChooseColumns { x, y } => self.choose_columns(x, y),
            Action::AddPoint { x, y } => {
                if x.is_finite() && y.is_finite() {
                    self.data.x.push(x);
                    self.data.y.push(y);
                    self.mark_edited();
                }
            }
            Action::RemoveNearest { x, y, x_per_px, y_per_px } => {
                let d = |i: usize| ((self.data.x[i] - x) / x_per_px).hypot((self.data.y[i] - y) / y_per_px);
                if let Some(i) = (0..self.data.len()).min_by(|&a, &b| d(a).total_cmp(&d(b))) {
                    if d(i) <= 20.0 {
                        self.data.x.remove(i);
                        self.data.y.remove(i);
                        self.mark_edited();
                    }
                }
            }
            Action::ClearData => {
                self.data.x.clear();
                self.data.y.clear();
                self.data.truth = None;
                self.table = None;
                self.data_error = None;
                self.settings.source = DataSource::Custom { name: "your points".into() };
            }
            Action::OpenProject(text) => self.open_project(&text),
            Action::SetConfig(c) => return self.set_config(c),
            Action::Train => return self.train(),
            Action::TogglePause => match self.status {
                RunStatus::Running => {
                    self.status = RunStatus::Paused;
                    return vec![ToWorker::Pause];
                }
                RunStatus::Paused => {
                    self.status = RunStatus::Running;
                    return vec![ToWorker::Resume];
                }
                _ => {}
            },
            Action::Step => match self.status {
                RunStatus::Paused => return vec![ToWorker::Step { n: STEP_CHUNK }],
                RunStatus::Running => {
                    self.status = RunStatus::Paused;
                    return vec![ToWorker::Pause];
                }
                RunStatus::Idle | RunStatus::Failed => {
                    let mut msgs = self.train();
                    if self.status == RunStatus::Running {
                        self.status = RunStatus::Paused;
                        msgs.push(ToWorker::Step { n: STEP_CHUNK });
                    }
                    return msgs;
                }
                RunStatus::Finished => {}
            },
            Action::Reset => {
                self.status = RunStatus::Idle;
                self.frame = None;
                self.fitted = None;
                self.stale = false;
                self.fit_error = None;
                self.run += 1;
                return vec![ToWorker::Stop];
            }
            Action::Worker(msg) => self.receive(msg),
            Action::WorkerCrashed(message) => {
                self.alert = Some(format!(
                    "The fitting worker crashed ({message}). It has been restarted with the last results kept: press Train to try again."
                ));
                // The last plot stays, still tied to the data it was fitted on.
                self.status = RunStatus::Idle;
                self.run += 1;
            }
            Action::DismissAlert => {
                self.alert = None;
                self.fit_error = None;
            }
            Action::Notice(n) => self.notice = Some(n),
            Action::DataError { control, message } => self.data_error = Some((control, message)),
            Action::RestoreDefaults => {
                let d = AppState::default();
                self.settings = d.settings;
                self.data = d.data;
                self.table = None;
                self.columns = d.columns;
                self.data_error = None;
                self.restored = None;
            }
            Action::DismissRestored => self.restored = None,
            Action::TestPanic => return vec![ToWorker::Panic],
            Action::Compare(a) => return self.compare_action(a),
            Action::Explore(a) => return self.explore_action(a),
        }
        vec![]
    }

    fn receive(&mut self, msg: FromWorker) {
        if msg.run() != self.run {
            return; // a late message from a run that was reset or restarted
        }
        match msg {
            FromWorker::Snapshot(f) => {
                if !f.running && self.status == RunStatus::Running {
                    // The worker stopped on its own after a Step while paused.
                    self.status = RunStatus::Paused;
                }
                self.frame = Some(f);
            }
            FromWorker::Finished(f) => {
                self.status = RunStatus::Finished;
                self.frame = Some(f);
            }
            FromWorker::Error { message, .. } => {
                self.status = RunStatus::Failed;
                self.fit_error = Some(message);
            }
        }
    }

    pub(super) fn train(&mut self) -> Vec<ToWorker> {
        self.fit_error = None;
        self.notice = None;
        if let Err(e) = self.data.check_fit() {
            self.fit_error = Some(format!(
                "Cannot train: {e}. Click on the plot to add points, pick a data set or upload a CSV."
            ));
            self.status = RunStatus::Failed;
            return vec![];
        }
        if let Err(e) = self.settings.config.validate() {
            self.fit_error = Some(format!("Cannot train: {e}."));
            self.status = RunStatus::Failed;
            return vec![];
        }
        // The hold-out: the same split as the CLI's --holdout-frac (data::split).
        let held = self.held_out_mask();
        self.explore.awaiting = None;
        let (train, held_out) = self.data.split_by(&if held.is_empty() { vec![false; self.data.len()] } else { held.clone() });
        if let Err(e) = train.check_fit() {
            self.fit_error = Some(format!(
                "Cannot train: holding out {} of {} points leaves too few to fit ({e}). Lower Hold out (%).",
                held_out.len(),
                self.data.len()
            ));
            self.status = RunStatus::Failed;
            return vec![];
        }
        self.run += 1;
        self.status = RunStatus::Running;
        self.frame = None;
        self.stale = false;
        self.grid = self.data.grid(GRID_POINTS, GRID_PAD);
        self.fitted = Some(Fitted { config: self.settings.config.clone(), data: self.data.clone(), held });
        vec![ToWorker::Start {
            run: self.run,
            config: self.settings.config.clone(),
            data: train,
            grid: self.grid.clone(),
            eval_x: held_out.x,
            warm: false,
        }]
    }

    /// Which points the current settings hold out of a fit (empty when none are).
    pub fn held_out_mask(&self) -> Vec<bool> {
        let i = &self.settings.config.inference;
        if i.holdout_frac > 0.0 {
            crate::data::holdout_mask(self.data.len(), i.holdout_frac, i.seed)
        } else {
            vec![]
        }
    }

    /// The finished fit scored on what it did not see: its held-out points (with the
    /// worker's predictions there) and, for synthetic data, fresh draws from the truth
    /// at the grid x inside the data range. Both need the fit to have finished.
    pub fn evaluations(&self) -> Vec<Evaluation> {
        let (Some(f), Some(fitted)) = (self.current_frame(), self.fitted.as_ref()) else { return vec![] };
        if self.status != RunStatus::Finished {
            return vec![];
        }
        let range = fitted.data.x_range();
        let mut out = Vec::new();
        if let Some(p) = &f.eval {
            let (_, held) = fitted.data.split_by(&fitted.held);
            if held.len() == p.x.len() && !held.is_empty() {
                out.push(Evaluation {
                    label: "held-out points",
                    metrics: HeldOutMetrics::compute(&held.y, &p.mean, &p.sd_total),
                    calibration: Calibration::compute(&held.x, &held.y, &p.mean, &p.sd_total, range),
                });
            }
        }
        if let Some(t) = fitted.data.truth {
            let s = &f.snapshot.summary;
            let inside: Vec<usize> = (0..s.x.len()).filter(|&i| s.x[i] >= range.0 && s.x[i] <= range.1).collect();
            let xs: Vec<f64> = inside.iter().map(|&i| s.x[i]).collect();
            let (x, y) = t.fresh_draws(&xs, FRESH_DRAWS_PER_X, fitted.config.inference.seed);
            let rep = |v: &Vec<f64>| -> Vec<f64> { inside.iter().flat_map(|&i| std::iter::repeat_n(v[i], FRESH_DRAWS_PER_X)).collect() };
            let (mean, sd) = (rep(&s.mean), rep(&s.sd_total));
            if !x.is_empty() {
                out.push(Evaluation {
                    label: "fresh draws from the truth",
                    metrics: HeldOutMetrics::compute(&y, &mean, &sd),
                    calibration: Calibration::compute(&x, &y, &mean, &sd, range),
                });
            }
        }
        out
    }

    fn set_config(&mut self, c: FitConfig) -> Vec<ToWorker> {
        let mut out = vec![];
        let method = c.inference.method;
        let active = self.is_active();
        if let Some(f) = &mut self.fitted {
            if let (true, Some(rate)) = (active && f.config.inference.method == method, method.spec().rate) {
                let (new, old) = ((rate.get)(&c.inference), (rate.get)(&f.config.inference));
                if new != old && new.is_finite() && new > 0.0 {
                    (rate.set)(&mut f.config.inference, new);
                    out.push(ToWorker::Update { setting: rate.key.to_string(), value: new });
                }
            }
        }
        self.settings.config = c;
        if matches!(self.data_error, Some((DataControl::Holdout, _))) {
            self.data_error = None; // a valid hold-out replaced the refused one
        }
        out
    }

    fn select_dataset(&mut self, value: &str) {
        if value == "custom" {
            return;
        }
        let source = if let Some(name) = value.strip_prefix("notebook:") {
            Synthetic::from_name(name).map(|generator| DataSource::Notebook { generator })
        } else {
            Synthetic::from_name(value).map(|generator| {
                let seed = match &self.settings.source {
                    DataSource::Generated { seed, .. } => *seed,
                    _ => 1,
                };
                DataSource::Generated { generator, n: generator.default_n(), seed }
            })
        };
        match source {
            Some(s) => self.set_source(s),
            None => self.data_error = Some((DataControl::Generator, format!("Unknown data set '{value}'."))),
        }
    }

    fn set_source(&mut self, source: DataSource) {
        match data_for(&source) {
            Some(d) => {
                self.data = d;
                if matches!(self.settings.source, DataSource::Custom { .. })
                    && self.settings.config.inference.holdout_frac == UPLOAD_HOLDOUT_FRAC
                {
                    // Back to data with a known truth: the uploaded data's default goes.
                    self.settings.config.inference.holdout_frac = 0.0;
                }
                self.settings.source = source;
                self.table = None;
                self.data_error = None;
            }
            None => {
                self.data_error = Some((DataControl::Generator, "That data set is not available.".into()));
            }
        }
    }

    fn mark_edited(&mut self) {
        self.data_error = None;
        if let DataSource::Custom { .. } = self.settings.source {
            return;
        }
        let name = match &self.settings.source {
            DataSource::Notebook { generator } | DataSource::Generated { generator, .. } => {
                format!("{} (edited)", generator.label())
            }
            DataSource::Custom { name } => name.clone(),
        };
        self.settings.source = DataSource::Custom { name };
    }

    fn load_csv(&mut self, name: String, text: &str, control: DataControl) {
        let table = match parse_table(text, MAX_CSV_BYTES) {
            Ok(t) => t,
            Err(e) => {
                self.data_error = Some((control, format!("{e}. The previous data are kept.")));
                return;
            }
        };
        let ncol = table.columns.len();
        if ncol < 2 {
            self.data_error = Some((control, "The file needs at least two columns (x and y). The previous data are kept.".into()));
            return;
        }
        let find = |want: &str| table.headers.iter().position(|h| h.trim().eq_ignore_ascii_case(want));
        let x = find("x").unwrap_or(0);
        let y = find("y").unwrap_or(if x == 0 { 1 } else { 0 });
        match self.dataset_from(&table, x, y) {
            Ok(d) => {
                // Read, but a value far outside the others is named now, not at Train.
                self.data_error = table.outlier(&d).map(|e| (control, format!("{e}. Train will refuse these data until it is corrected.")));
                self.data = d;
                if !matches!(self.settings.source, DataSource::Custom { .. }) {
                    // Uploaded data have no known truth: score the fit on held-out points.
                    self.settings.config.inference.holdout_frac = UPLOAD_HOLDOUT_FRAC;
                }
                self.settings.source = DataSource::Custom { name };
                self.table = if ncol > 2 { Some(table) } else { None };
                self.columns = (x, y);
            }
            Err(e) => self.data_error = Some((control, format!("{e}. The previous data are kept."))),
        }
    }

    fn dataset_from(&self, table: &Table, x: usize, y: usize) -> Result<Dataset, String> {
        let name = |i: usize| table.headers.get(i).cloned().unwrap_or_default();
        let (xn, yn) = (name(x), name(y));
        let d = table.to_dataset(Some(xn.as_str()), Some(yn.as_str())).map_err(|e| e.to_string())?;
        if d.len() < 2 {
            return Err("the file has fewer than two data rows".into());
        }
        Ok(d)
    }

    /// Choose the x and y columns. Picking for one axis the column the other uses
    /// swaps them (the data, and so the pickers, always show two different columns).
    fn choose_columns(&mut self, x: usize, y: usize) {
        let Some(table) = self.table.clone() else { return };
        let (x0, y0) = self.columns;
        let (x, y) = match (x == y, x != x0) {
            (true, true) => (x, x0),  // x picked: it was y's
            (true, false) => (y0, y), // y picked: it was x's
            (false, _) => (x, y),
        };
        match self.dataset_from(&table, x, y) {
            Ok(d) => {
                self.data = d;
                self.columns = (x, y);
                self.data_error = None;
            }
            Err(e) => self.data_error = Some((DataControl::Upload, format!("{e}. The previous columns are kept."))),
        }
    }

    /// Metrics against the true f and sigma on the grid, when the data are synthetic.
    pub fn metrics(&self) -> Option<GridMetrics> {
        let f = self.current_frame()?;
        let s = &f.snapshot.summary;
        let fitted = self.fitted.as_ref()?;
        let f_true = fitted.data.truth_f(&s.x)?;
        let sigma_true = fitted.data.truth_sigma(&s.x)?;
        Some(GridMetrics::compute(&s.mean, &s.sd_aleatoric, &s.sd_total, &f_true, &sigma_true))
    }

}

#[cfg(test)]
mod tests;
