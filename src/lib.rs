//! # BayesBand
//!
//! Heteroskedastic Bayesian neural networks for one-dimensional data. The numeric
//! core (this crate without the `ui`/`worker` modules) has no web dependency: it
//! builds and tests natively and runs inside a Web Worker when compiled to wasm32.
//!
//! Data flow: [`data`] -> [`model`] -> [`infer`] -> [`summary`] -> view (`ui`).

pub mod config;
pub mod data;
pub mod infer;
pub mod model;
pub mod summary;

pub mod protocol;
/// Browser UI: its state and URL codec build natively (tested with `cargo test`);
/// the Yew components inside are wasm32 only.
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;
