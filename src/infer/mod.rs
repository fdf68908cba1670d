//! Inference: the warm start (Adam), the samplers (SGLD, pSGLD), mean-field VI, and
//! the chunked [`Fit`] driver that runs them and reports [`crate::summary::Snapshot`]s.

pub mod adam;
pub mod fit;
#[cfg(test)]
mod formula_faults;
pub mod mala;
pub mod method;
pub mod nuts;
#[cfg(test)]
mod pinned;
pub mod pool;
pub mod psgld;
pub mod sgld;
pub mod snapshot;
pub mod target;
pub mod vi;

pub use fit::{Fit, FitError};
