//! Data: the observations (x, y), CSV reading, synthetic generators and standardisation.

pub mod csv;
pub mod scaling;
pub mod synthetic;

use serde::{Deserialize, Serialize};

pub use self::csv::{parse_csv, CsvError, CsvOptions, Table};
pub use self::scaling::Scaling;
pub use self::synthetic::Synthetic;

/// One-dimensional regression data in data units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Axis labels (from the CSV header when there is one).
    pub x_label: String,
    pub y_label: String,
    /// The generating process when the data are synthetic: gives the true f(x) and sigma(x).
    pub truth: Option<Synthetic>,
}

impl Dataset {
    pub fn new(x: Vec<f64>, y: Vec<f64>) -> Self {
        Dataset { x, y, x_label: "x".into(), y_label: "y".into(), truth: None }
    }
    pub fn len(&self) -> usize {
        self.x.len()
    }
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
    /// (min, max) of x; (0, 0) when empty.
    pub fn x_range(&self) -> (f64, f64) {
        if self.x.is_empty() {
            return (0.0, 0.0);
        }
        self.x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
    }
    /// An evenly spaced grid of `n` points over the x range widened by `pad` of its width each side.
    pub fn grid(&self, n: usize, pad: f64) -> Vec<f64> {
        let (lo, hi) = self.x_range();
        let w = (hi - lo).max(1e-12);
        let (a, b) = (lo - pad * w, hi + pad * w);
        let n = n.max(2);
        (0..n).map(|i| a + (b - a) * i as f64 / (n - 1) as f64).collect()
    }
}
