//! Words the page shows about models, noise laws and methods (docs/ARCHITECTURE.md §2-3), kept
//! beside each other so the UI and its help stay consistent.

use crate::config::{Method, ModelKind};

/// Picker label and one-line description of a model.
pub fn model_info(kind: ModelKind) -> (&'static str, &'static str) {
    match kind {
        ModelKind::Homoskedastic => (
            "Homoskedastic BNN",
            "One noise level everywhere: y ~ N(μ(x), σ²), σ ~ HalfNormal(1). The baseline.",
        ),
        ModelKind::TwoHead => (
            "Two-head BNN",
            "The network outputs both the mean μ(x) and the noise sd σ(x) = softplus(·) + floor: flexible, needs no idea of the noise shape.",
        ),
        ModelKind::NoiseModel => (
            "Noise-model BNN",
            "The network gives μ(x); the noise sd follows a formula σ(x; θ) whose few parameters θ are inferred with the weights and reported with intervals.",
        ),
    }
}

/// How the page says that sigma stays positive (the law's floor, noise_law.rs).
pub const FLOOR_NOTE: &str = "σ(x) stays positive: the formula's value f passes through a smooth floor, \
     σ = fl + fl·softplus((f − fl)/fl) with fl = 0.001 × the sd of y (the two-head floor), so σ = f wherever f is \
     well above fl and σ → fl where f falls to or below 0.";

/// The noise-parameter table's column helps.
pub const RHAT_HELP: &str = "Split R-hat: whether the chains agree on this parameter (1 is perfect; over 1.05 they disagree)";
pub const ESS_HELP: &str = "Effective sample size: how many independent draws the chains' correlated draws are worth. \
     Under about 100 the interval's ends are rough and R-hat itself is noisy; more draws raise it";

/// Picker label and one-line description of a method (its registry row).
pub fn method_info(m: Method) -> (&'static str, &'static str) {
    (m.spec().label, m.spec().description)
}

/// A short name for the status line and plot titles.
pub fn method_short(m: Method) -> &'static str {
    m.spec().short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_law_has_a_label_and_a_formula() {
        for law in crate::config::NoiseLawKind::all() {
            assert!(!law.label().is_empty());
        }
        assert!(FLOOR_NOTE.contains("softplus"));
    }
}
