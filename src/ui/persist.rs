//! What outlives the page: the project file (settings and data), what local storage
//! keeps, and the start-up that reads them back with the link's settings
//! (`AppState::load`). The state's transitions stay in `ui::state`.

use serde::{Deserialize, Serialize};

use crate::config::FitConfig;
use crate::data::Dataset;

use super::settings::{DataSource, Settings};
use super::state::{data_for, AppState, DataControl};

/// A project file: settings plus the data themselves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub format: String,
    pub version: u32,
    pub settings: Settings,
    pub data: Dataset,
    /// The settings of fit A while comparing (`settings` are fit B's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_a: Option<FitConfig>,
}

pub const PROJECT_FORMAT: &str = "bayesband-project";

impl AppState {
    /// Start-up: saved state (local storage) unless the URL carries settings, which win.
    /// Returns the state and a message when something could not be restored.
    pub fn load(saved: Option<&str>, query: &str) -> (AppState, Option<String>) {
        let mut s = AppState::default();
        let mut problem = None;
        let mut saved: Option<Project> = saved.and_then(|t| serde_json::from_str(t).ok());
        if let Some(p) = &saved {
            match (p.settings.config.validate(), p.settings.source.check()) {
                (Ok(()), Ok(())) => {
                    s.settings = p.settings.clone();
                    s.data = data_for(&s.settings.source).unwrap_or_else(|| p.data.clone());
                }
                (Err(e), _) => problem = Some(format!("The saved settings could not be used ({e}); showing the defaults.")),
                (_, Err(e)) => problem = Some(format!("The saved data could not be rebuilt ({e}); showing the defaults.")),
            }
        }
        if problem.is_some() {
            saved = None;
        }
        if Settings::query_has_settings(query) {
            let mut from_url = Settings::default();
            if let Some(DataSource::Custom { .. }) = saved.as_ref().map(|p| &p.settings.source) {
                from_url.source = saved.as_ref().unwrap().settings.source.clone();
            }
            match from_url.apply_query(query) {
                Ok(()) => {
                    s.settings = from_url;
                    let source = s.settings.source.clone();
                    match (data_for(&source), &source) {
                        (Some(d), _) => s.data = d,
                        // A link to custom data: use the saved points if there are any.
                        (None, DataSource::Custom { .. }) if saved.is_some() => {
                            s.data = saved.as_ref().map(|p| p.data.clone()).unwrap_or_else(|| Dataset::new(vec![], vec![]));
                        }
                        (None, DataSource::Custom { .. }) => {
                            problem = Some("This link was made with uploaded or hand-edited data, which a link cannot carry: open the project file (JSON) to get them.".into());
                            s.settings.source = DataSource::default();
                            s.data = data_for(&s.settings.source).unwrap();
                        }
                        (None, other) => {
                            let name = match other {
                                DataSource::Notebook { generator } | DataSource::Generated { generator, .. } => generator.name(),
                                DataSource::Custom { .. } => "",
                            };
                            problem = Some(format!("There is no NeuroBayes notebook data for '{name}'; showing the default data."));
                            s.settings.source = DataSource::default();
                            s.data = data_for(&s.settings.source).unwrap();
                        }
                    }
                }
                Err(e) => {
                    problem = Some(format!("The link's settings could not be used ({e}); showing the defaults."));
                    s.settings = Settings::default();
                    s.data = data_for(&s.settings.source).unwrap();
                }
            }
        }
        if s.data.is_empty() && !matches!(s.settings.source, DataSource::Custom { .. }) {
            s.settings.source = DataSource::default();
            s.data = data_for(&s.settings.source).unwrap();
        }
        if saved.is_some() && !Settings::query_has_settings(query) {
            s.restored = restored_note(&s);
        }
        if let Some(p) = s.open_scenario_from_query(query) {
            problem = Some(p);
        }
        if let Some(p) = s.explore.apply_query(&super::settings::parse_query(query)) {
            problem.get_or_insert(p);
        }
        (s, problem)
    }

    /// What the link and local storage are made of: when it changes, both are written.
    pub fn link_state(&self) -> (super::settings::Settings, Dataset, Option<&'static str>, Vec<(&'static str, String)>) {
        (self.settings.clone(), self.data.clone(), self.scenario.map(|x| x.scenario.id), self.explore.query_params())
    }

    /// What local storage keeps: settings, plus the points when a link cannot rebuild them.
    pub fn saved(&self) -> String {
        let data = if self.settings.source.fits_in_url() { Dataset::new(vec![], vec![]) } else { self.data.clone() };
        let p = Project { format: PROJECT_FORMAT.into(), version: 1, settings: self.settings.clone(), data, fit_a: None };
        serde_json::to_string(&p).expect("project serialises")
    }

    /// The project file: settings and data, always with the points.
    pub fn project_json(&self) -> String {
        let fit_a = self.compare.as_ref().map(|c| c.a.config.clone());
        let p = Project { format: PROJECT_FORMAT.into(), version: 1, settings: self.settings.clone(), data: self.data.clone(), fit_a };
        serde_json::to_string_pretty(&p).expect("project serialises")
    }

    pub(super) fn open_project(&mut self, text: &str) {
        let p: Project = match serde_json::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                self.data_error = Some((DataControl::Project, format!("Not a BayesBand project file: {e}.")));
                return;
            }
        };
        if p.format != PROJECT_FORMAT {
            self.data_error = Some((DataControl::Project, format!("Not a BayesBand project file (format '{}').", p.format)));
            return;
        }
        if let Err(e) = p.settings.config.validate() {
            self.data_error = Some((DataControl::Project, format!("The project's settings cannot be used: {e}.")));
            return;
        }
        if let Err(e) = p.settings.source.check() {
            self.data_error = Some((DataControl::Project, format!("The project's data cannot be rebuilt: {e}.")));
            return;
        }
        if p.data.x.len() != p.data.y.len() || p.data.x.iter().chain(&p.data.y).any(|v| !v.is_finite()) {
            self.data_error = Some((DataControl::Project, "The project's data are damaged (x and y differ in length or hold non-numbers).".into()));
            return;
        }
        self.settings = p.settings;
        self.data = data_for(&self.settings.source).unwrap_or(p.data);
        self.table = None;
        self.data_error = None;
    }
}

/// What a page restored from local storage holds that a first visit would not, in
/// words (None when it is the first-visit state).
fn restored_note(s: &AppState) -> Option<String> {
    let first = AppState::default();
    let mut diffs = s.settings.differences_from_default();
    if diffs.is_empty() && s.data != first.data {
        diffs.push(format!("data: {} points", s.data.len()));
    }
    if diffs.is_empty() {
        return None;
    }
    const SHOWN: usize = 6;
    let more = diffs.len().saturating_sub(SHOWN);
    diffs.truncate(SHOWN);
    let mut list = diffs.join(", ");
    if more > 0 {
        list += &format!(" and {more} more");
    }
    Some(format!(
        "Your settings from the last visit were restored from this browser's storage ({list}). Restore defaults brings back the data, model and method of a first visit."
    ))
}
