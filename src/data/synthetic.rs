//! Synthetic data sets with a known truth: y = f(x) + sigma(x)·eps, eps ~ N(0, 1).
//!
//! The first four are the reference data sets of `data/README.md` (functions,
//! domains and sizes exactly as there); `Homoskedastic` is a constant-noise control.

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::{parse_csv, CsvOptions, Dataset};

/// A generating process with known mean f(x) and noise sd sigma(x).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Synthetic {
    /// NeuroBayes's heteroskedastic example: sigma = 0.1·exp(0.3x).
    NbExp,
    /// NeuroBayes's noise-model notebook: a noise step at x = 2.
    NbStep,
    /// Noise peaking in the middle of the domain over a floor.
    Bump,
    /// Noise growing linearly with x.
    Linear,
    /// Constant noise: the case where a heteroskedastic model should gain nothing.
    Homoskedastic,
}

impl Synthetic {
    pub const ALL: [Synthetic; 5] =
        [Synthetic::NbExp, Synthetic::NbStep, Synthetic::Bump, Synthetic::Linear, Synthetic::Homoskedastic];

    /// The short name used by the CLI, the URL and the reference file names.
    pub fn name(self) -> &'static str {
        match self {
            Synthetic::NbExp => "nb_exp",
            Synthetic::NbStep => "nb_step",
            Synthetic::Bump => "bump",
            Synthetic::Linear => "linear",
            Synthetic::Homoskedastic => "homoskedastic",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// A label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Synthetic::NbExp => "Exponential noise (NeuroBayes)",
            Synthetic::NbStep => "Noise step (NeuroBayes)",
            Synthetic::Bump => "Noise bump",
            Synthetic::Linear => "Linearly growing noise",
            Synthetic::Homoskedastic => "Constant noise",
        }
    }

    /// The true mean function f(x).
    pub fn f(self, x: f64) -> f64 {
        match self {
            Synthetic::NbExp | Synthetic::NbStep => (3.0 * (x - 2.0)).sin() + (x - 2.0).powi(2),
            Synthetic::Bump => x.sin() + 0.5 * (2.0 * x).cos(),
            Synthetic::Linear => (1.5 * x).sin() + 0.3 * x,
            Synthetic::Homoskedastic => (2.0 * x).sin() + 0.3 * x,
        }
    }

    /// The true noise standard deviation sigma(x).
    pub fn sigma(self, x: f64) -> f64 {
        match self {
            Synthetic::NbExp => 0.1 * (0.3 * x).exp(),
            Synthetic::NbStep => {
                if x <= 2.0 {
                    0.4
                } else {
                    0.1
                }
            }
            Synthetic::Bump => 0.05 + 0.5 * (-x * x / 0.5).exp(),
            Synthetic::Linear => 0.05 + 0.1 * x,
            Synthetic::Homoskedastic => 0.15,
        }
    }

    /// The x interval the data are drawn from.
    pub fn domain(self) -> (f64, f64) {
        match self {
            Synthetic::NbExp | Synthetic::NbStep => (0.0, 4.0),
            Synthetic::Bump => (-3.0, 3.0),
            Synthetic::Linear => (0.0, 5.0),
            Synthetic::Homoskedastic => (-2.0, 2.0),
        }
    }

    /// The number of points of the reference data set.
    pub fn default_n(self) -> usize {
        match self {
            Synthetic::NbExp | Synthetic::NbStep => 40,
            Synthetic::Bump => 150,
            Synthetic::Linear => 200,
            Synthetic::Homoskedastic => 100,
        }
    }

    /// `n` draws with x ~ Uniform(domain), y = f(x) + sigma(x)·eps. The same seed
    /// gives the same data on every platform (xoshiro256++, seeded explicitly).
    pub fn generate(self, n: usize, seed: u64) -> Dataset {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (lo, hi) = self.domain();
        let mut x = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let xi = rng.random_range(lo..hi);
            let eps: f64 = rng.sample(StandardNormal);
            x.push(xi);
            y.push(self.f(xi) + self.sigma(xi) * eps);
        }
        Dataset { truth: Some(self), ..Dataset::new(x, y) }
    }

    /// Fresh observations y = f(x) + sigma(x)·eps, `per_x` at each given x (x repeated
    /// accordingly): what a calibration check against the truth scores.
    pub fn fresh_draws(self, x: &[f64], per_x: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xF2E5_D2A3_0000_0001);
        let (mut xs, mut ys) = (Vec::with_capacity(x.len() * per_x), Vec::with_capacity(x.len() * per_x));
        for &xi in x {
            for _ in 0..per_x {
                let eps: f64 = rng.sample(StandardNormal);
                xs.push(xi);
                ys.push(self.f(xi) + self.sigma(xi) * eps);
            }
        }
        (xs, ys)
    }

    /// (x, f(x), sigma(x)) at `n` evenly spaced points over the domain, both ends
    /// included; spaced as numpy's `linspace` so it matches the `*_test.csv` grids.
    pub fn truth_grid(self, n: usize) -> Vec<(f64, f64, f64)> {
        let (lo, hi) = self.domain();
        let step = if n > 1 { (hi - lo) / (n - 1) as f64 } else { 0.0 };
        (0..n)
            .map(|i| {
                let x = if n > 1 && i == n - 1 { hi } else { lo + i as f64 * step };
                (x, self.f(x), self.sigma(x))
            })
            .collect()
    }
}

/// NeuroBayes's exact notebook draws (numpy legacy RNG, seed 42), shipped as CSV
/// presets so that results compare one to one with its notebooks. `None` for the
/// generators that have no notebook.
pub fn notebook_preset(which: Synthetic) -> Option<Dataset> {
    let text = match which {
        Synthetic::NbExp => include_str!("../../assets/data/nb_exp_train.csv"),
        Synthetic::NbStep => include_str!("../../assets/data/nb_step_train.csv"),
        _ => return None,
    };
    let data = parse_csv(text, &CsvOptions::default()).expect("the bundled preset CSV files parse");
    Some(Dataset { truth: Some(which), ..data })
}

impl Dataset {
    /// The true mean f at `x` when the data are synthetic.
    pub fn truth_f(&self, x: &[f64]) -> Option<Vec<f64>> {
        self.truth.map(|t| x.iter().map(|&v| t.f(v)).collect())
    }

    /// The true noise sd sigma at `x` when the data are synthetic.
    pub fn truth_sigma(&self, x: &[f64]) -> Option<Vec<f64>> {
        self.truth.map(|t| x.iter().map(|&v| t.sigma(v)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for k in Synthetic::ALL {
            assert_eq!(Synthetic::from_name(k.name()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.name()));
        }
        assert_eq!(Synthetic::from_name("sine"), None);
    }

    #[test]
    fn reference_functions_match_the_readme() {
        let s = Synthetic::NbExp;
        assert!((s.f(2.0) - 0.0).abs() < 1e-15);
        assert!((s.f(0.0) - ((-6.0f64).sin() + 4.0)).abs() < 1e-15);
        assert!((s.sigma(0.0) - 0.1).abs() < 1e-15);
        assert!((s.sigma(4.0) - 0.1 * 1.2f64.exp()).abs() < 1e-15);
        assert_eq!(Synthetic::NbStep.sigma(2.0), 0.4);
        assert_eq!(Synthetic::NbStep.sigma(2.0 + 1e-12), 0.1);
        assert!((Synthetic::Bump.sigma(0.0) - 0.55).abs() < 1e-15);
        assert!((Synthetic::Bump.f(0.0) - 0.5).abs() < 1e-15);
        assert!((Synthetic::Linear.sigma(5.0) - 0.55).abs() < 1e-15);
        assert!((Synthetic::Linear.f(2.0) - (3.0f64.sin() + 0.6)).abs() < 1e-15);
        assert_eq!(Synthetic::Homoskedastic.sigma(1.3), 0.15);
        let sizes: Vec<usize> = Synthetic::ALL.iter().map(|k| k.default_n()).collect();
        assert_eq!(sizes, vec![40, 40, 150, 200, 100]);
    }

    /// A few points of the 400-point grids in `data/*_test.csv`, copied from the files.
    #[test]
    fn truth_grid_matches_the_reference_test_grids() {
        let g = Synthetic::NbExp.truth_grid(400);
        assert_eq!(g.len(), 400);
        assert_eq!(g[0].0, 0.0);
        assert_eq!(g[399].0, 4.0);
        assert_eq!(g[1].0, 0.010025062656641603);
        assert!((g[0].1 - 4.2794154981989259).abs() < 1e-14);
        assert!((g[1].1 - 4.2681623396702806).abs() < 1e-14);
        assert!((g[1].2 - 0.10030120459189801).abs() < 1e-15);
        let b = Synthetic::Bump.truth_grid(400);
        assert_eq!((b[0].0, b[399].0), (-3.0, 3.0));
        assert_eq!(Synthetic::Linear.truth_grid(1), vec![(0.0, 0.0, 0.05)]);
        assert!(Synthetic::Linear.truth_grid(0).is_empty());
    }

    #[test]
    fn generated_data_are_reproducible_and_inside_the_domain() {
        for k in Synthetic::ALL {
            let a = k.generate(k.default_n(), 7);
            assert_eq!(a, k.generate(k.default_n(), 7));
            assert_ne!(a.y, k.generate(k.default_n(), 8).y);
            assert_eq!(a.len(), k.default_n());
            assert_eq!(a.truth, Some(k));
            let (lo, hi) = k.domain();
            assert!(a.x.iter().all(|&x| x >= lo && x < hi));
            a.check().unwrap();
        }
    }

    /// With many draws the standardised residuals (y - f)/sigma are N(0, 1).
    #[test]
    fn generated_noise_has_the_stated_sd() {
        for k in Synthetic::ALL {
            let d = k.generate(20_000, 11);
            let r: Vec<f64> = d.x.iter().zip(&d.y).map(|(&x, &y)| (y - k.f(x)) / k.sigma(x)).collect();
            let n = r.len() as f64;
            let mean = r.iter().sum::<f64>() / n;
            let var = r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            // Standard errors: 1/sqrt(n) = 0.007 for the mean, sqrt(2/n) = 0.01 for the variance.
            assert!(mean.abs() < 0.03, "{k:?}: mean {mean}");
            assert!((var - 1.0).abs() < 0.04, "{k:?}: var {var}");
        }
    }

    #[test]
    fn notebook_presets_are_the_shipped_draws() {
        let d = notebook_preset(Synthetic::NbExp).unwrap();
        assert_eq!(d.len(), 40);
        assert_eq!(d.truth, Some(Synthetic::NbExp));
        assert_eq!((d.x[0], d.y[0]), (1.49816047538945, -0.7481428738468382));
        let s = notebook_preset(Synthetic::NbStep).unwrap();
        assert_eq!(s.x, d.x, "nb_step reuses nb_exp's x");
        assert_eq!(s.y[0], -0.75142614538115549);
        assert!(notebook_preset(Synthetic::Bump).is_none());
    }

    #[test]
    fn truth_is_available_only_for_synthetic_data() {
        let d = Synthetic::Linear.generate(5, 1);
        assert_eq!(d.truth_f(&[2.0]).unwrap(), vec![Synthetic::Linear.f(2.0)]);
        assert_eq!(d.truth_sigma(&[1.0]).unwrap(), vec![0.15000000000000002]);
        let plain = Dataset::new(d.x.clone(), d.y.clone());
        assert!(plain.truth_f(&[1.0]).is_none() && plain.truth_sigma(&[1.0]).is_none());
    }
}
