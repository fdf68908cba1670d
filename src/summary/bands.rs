//! Predictive bands on an x grid from posterior draws (docs/ARCHITECTURE.md §2):
//! mean = avg_s mu_s, epistemic var = var_s mu_s, aleatoric var = avg_s sigma_s^2,
//! total var = epistemic + aleatoric. All in data units.

use serde::{Deserialize, Serialize};

/// The predictive distribution on a grid, in data units.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PredictiveSummary {
    pub x: Vec<f64>,
    pub mean: Vec<f64>,
    pub sd_epistemic: Vec<f64>,
    pub sd_aleatoric: Vec<f64>,
    pub sd_total: Vec<f64>,
    /// Posterior of the noise sd sigma(x): mean over draws and 95% band.
    pub sigma_mean: Vec<f64>,
    pub sigma_lo: Vec<f64>,
    pub sigma_hi: Vec<f64>,
}
