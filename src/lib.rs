//! # BayesBand
//!
//! Heteroskedastic Bayesian neural networks for one-dimensional data. The numeric
//! core (this crate without the `ui`/`worker` modules) has no web dependency: it
//! builds and tests natively and runs inside a Web Worker when compiled to wasm32.
//!
//! Data flow: [`data`] -> [`model`] -> [`infer`] -> [`summary`] -> view (`ui`).

pub mod config;
pub mod data;
pub mod summary;
