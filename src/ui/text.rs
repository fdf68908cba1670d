//! Words the page shows about models, noise laws and methods (docs/ARCHITECTURE.md §2-3), kept
//! beside each other so the UI and its help stay consistent.

use crate::config::{Method, ModelKind, NoiseLawKind};
use crate::model::noise_law::NoiseLaw;

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

/// Picker label of a noise law.
pub fn law_label(law: NoiseLawKind) -> &'static str {
    match law {
        NoiseLawKind::Constant => "Constant",
        NoiseLawKind::Linear => "Linear",
        NoiseLawKind::Exponential => "Exponential",
        NoiseLawKind::LogQuadratic => "Log-quadratic",
        NoiseLawKind::Step => "Step",
        NoiseLawKind::Bump => "Bump",
        NoiseLawKind::Signal => "Signal-proportional",
    }
}

/// The law's formula as the core states it, typeset with Greek letters.
pub fn law_formula(law: NoiseLawKind) -> String {
    NoiseLaw::formula(law).replace("sigma", "σ").replace("mu", "μ")
}

/// One line per parameter: its prior (fitting units) and what it means.
pub fn law_priors(law: NoiseLawKind) -> Vec<String> {
    NoiseLaw::specs(law)
        .iter()
        .map(|p| {
            let v = if p.log_scale { format!("log {}", p.name) } else { p.name.to_string() };
            format!("{v} ~ N(0, {}²): {}", p.prior_sd, p.meaning)
        })
        .collect()
}

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
    fn every_law_states_a_formula_and_its_priors() {
        for law in NoiseLawKind::ALL {
            assert!(!law_label(law).is_empty());
            assert!(law_formula(law).contains('σ'));
            assert!(law_priors(law).iter().all(|p| p.contains("~ N(0, ")));
        }
    }
}
