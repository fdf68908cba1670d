//! The contexts the page gives its components (what they read and how they change the
//! state), in a module of their own so that the panels need not import the page
//! (`ui::app`) that imports them.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::state::{Action, AppState};

/// What every component reads: the state (borrowed while rendering), a way to
/// change it, and a version that changes whenever it does.
#[derive(Clone)]
pub struct Ctx {
    pub state: Rc<RefCell<AppState>>,
    pub dispatch: Callback<Action>,
    pub version: u64,
    /// Milliseconds from Train to the first snapshot drawn (time to first plot).
    pub first_plot_ms: Option<f64>,
}

impl PartialEq for Ctx {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version && Rc::ptr_eq(&self.state, &other.state)
    }
}

impl Ctx {
    pub fn dispatcher(&self, action: Action) -> Callback<MouseEvent> {
        let d = self.dispatch.clone();
        Callback::from(move |_| d.emit(action.clone()))
    }
}

/// What the settings panels read: changes only on user actions, not on every
/// snapshot, so the panels are not re-rendered ten times a second while training.
#[derive(Clone)]
pub struct SettingsCtx {
    pub state: Rc<RefCell<AppState>>,
    pub dispatch: Callback<Action>,
    pub version: u64,
}

impl PartialEq for SettingsCtx {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version && Rc::ptr_eq(&self.state, &other.state)
    }
}

impl SettingsCtx {
    pub fn dispatcher(&self, action: Action) -> Callback<MouseEvent> {
        let d = self.dispatch.clone();
        Callback::from(move |_| d.emit(action.clone()))
    }
}
