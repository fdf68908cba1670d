//! Data: the observations (x, y), CSV reading, synthetic generators and standardisation.

pub mod csv;
pub mod scaling;
pub mod synthetic;

use serde::{Deserialize, Serialize};

pub use self::csv::{parse_csv, parse_csv_bytes, parse_grid_bytes, parse_table, CsvError, CsvOptions, Table};
pub use self::scaling::Scaling;
pub use self::synthetic::{notebook_preset, Synthetic};

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

    /// Whether the data can be fitted: x and y of the same length, at least 3
    /// points, every value finite, and x not all equal (a function of x needs x to vary).
    pub fn check(&self) -> Result<(), CsvError> {
        if self.x.len() != self.y.len() {
            return Err(CsvError::new(format!("x has {} values but y has {}", self.x.len(), self.y.len())));
        }
        let n = self.len();
        if n < MIN_POINTS {
            let what = match n {
                0 => "no data points".to_string(),
                1 => "only 1 data point".to_string(),
                _ => format!("only {n} data points"),
            };
            return Err(CsvError::new(format!("{what}; at least {MIN_POINTS} are needed")));
        }
        for (axis, label, values) in [("x", &self.x_label, &self.x), ("y", &self.y_label, &self.y)] {
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(CsvError::new(format!(
                    "point {} has {axis} ({label}) = {}; only finite numbers can be fitted",
                    i + 1,
                    values[i]
                )));
            }
        }
        if self.x.iter().all(|&v| v == self.x[0]) {
            return Err(CsvError::new(format!(
                "all x values ({}) are equal ({}): x must vary to fit a function of x",
                self.x_label, self.x[0]
            )));
        }
        Ok(())
    }
}

/// Fewest points accepted: with two, any curve fits exactly and the noise is undetermined.
pub const MIN_POINTS: usize = 3;
