//! The browser UI: Yew components over a plain, natively tested [`state::AppState`].
//!
//! `settings` (URL codec) and `state` (every behaviour) have no web dependency; the
//! components, plots and browser glue below them are wasm only.

pub mod axes;
pub mod chains;
pub mod compare;
pub mod explore;
pub mod law_edit;
pub mod persist;
pub mod settings;
pub mod state;
pub mod text;
pub mod words;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod calibration_panel;
#[cfg(target_arch = "wasm32")]
mod compare_panel;
#[cfg(target_arch = "wasm32")]
mod context;
#[cfg(target_arch = "wasm32")]
mod controls;
#[cfg(target_arch = "wasm32")]
mod data_panel;
#[cfg(target_arch = "wasm32")]
mod explore_panel;
#[cfg(target_arch = "wasm32")]
mod exports;
#[cfg(target_arch = "wasm32")]
mod help;
#[cfg(target_arch = "wasm32")]
mod method_panel;
#[cfg(target_arch = "wasm32")]
mod model_panel;
#[cfg(target_arch = "wasm32")]
pub mod plots;
#[cfg(target_arch = "wasm32")]
mod run_controls;
#[cfg(target_arch = "wasm32")]
mod status;

/// Mount the app on the page's body.
#[cfg(target_arch = "wasm32")]
pub fn start() {
    yew::Renderer::<app::Root>::new().render();
}
