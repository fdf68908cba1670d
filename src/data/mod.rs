//! Data: the observations (x, y), CSV reading, synthetic generators and standardisation.

pub mod csv;
pub mod scaling;
pub mod split;
pub mod synthetic;

use serde::{Deserialize, Serialize};

pub use self::csv::{parse_csv, parse_csv_bytes, parse_grid_bytes, parse_table, CsvError, CsvOptions, Table};
pub use self::scaling::Scaling;
pub use self::split::{check_holdout_frac, holdout_count, holdout_mask};
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

/// A value this many robust sds (1.4826 x the median absolute deviation) from the
/// median of its column lies "far outside the others": a typo or a unit mix-up, which
/// standardisation would turn into one point far away and all others in a heap. The
/// reference data sets and every generator (any N, any seed) stay under 10 (tested).
pub const OUTLIER_ROBUST_SDS: f64 = 1000.0;

/// A value far outside the others of its column.
#[derive(Clone, Debug, PartialEq)]
pub struct Outlier {
    /// The 0-based point.
    pub index: usize,
    /// "x" or "y".
    pub axis: &'static str,
    pub value: f64,
    pub median: f64,
    /// How many robust sds from the median.
    pub robust_sds: f64,
}

impl Outlier {
    /// In words, without the position (the caller names the point or the line).
    pub fn describe(&self, data: &Dataset) -> String {
        let label = if self.axis == "x" { &data.x_label } else { &data.y_label };
        let col = if label == self.axis { String::new() } else { format!(" ({label})") };
        format!(
            "{}{col} = {} lies far outside the other values (median {}, {} robust sds away): \
             correct it (a typo or a unit mix-up?) or remove the row",
            self.axis,
            scaling::short(self.value),
            scaling::short(self.median),
            scaling::short(self.robust_sds)
        )
    }
}

/// The value of `v` farthest from its median, in robust sds: (index, median, z).
/// The robust sd is 1.4826 x MAD, or, when more than half the values are equal (MAD
/// = 0), 1.2533 x the mean absolute deviation; all values equal (or fewer than 3): None.
fn farthest_from_median(v: &[f64]) -> Option<(usize, f64, f64)> {
    if v.len() < 3 {
        return None;
    }
    let median = |w: &mut Vec<f64>| {
        w.sort_by(f64::total_cmp);
        let n = w.len();
        if n % 2 == 1 { w[n / 2] } else { 0.5 * w[n / 2 - 1] + 0.5 * w[n / 2] }
    };
    let med = median(&mut v.to_vec());
    let mut dev: Vec<f64> = v.iter().map(|a| (a - med).abs()).collect();
    let mean_dev = dev.iter().map(|d| d / v.len() as f64).sum::<f64>();
    let (i, d) = dev.iter().copied().enumerate().fold((0, 0.0), |b, c| if c.1 > b.1 { c } else { b });
    let mad = median(&mut dev);
    let sd = if mad > 0.0 { 1.4826 * mad } else { 1.2533 * mean_dev };
    (sd > 0.0 && sd.is_finite()).then(|| (i, med, d / sd))
}

impl Dataset {
    /// The value farthest outside the others, if one lies beyond `OUTLIER_ROBUST_SDS`
    /// robust sds from its column's median (x first, then y).
    pub fn outlier(&self) -> Option<Outlier> {
        for (axis, v) in [("x", &self.x), ("y", &self.y)] {
            match farthest_from_median(v) {
                Some((index, median, robust_sds)) if robust_sds > OUTLIER_ROBUST_SDS => {
                    return Some(Outlier { index, axis, value: v[index], median, robust_sds })
                }
                _ => {}
            }
        }
        None
    }

    /// The largest distance from the median, in robust sds, over x and y.
    pub fn max_robust_sds(&self) -> f64 {
        [&self.x, &self.y].iter().filter_map(|v| farthest_from_median(v)).map(|t| t.2).fold(0.0, f64::max)
    }
}

impl Dataset {
    /// Whether the data can be fitted: `check`, and no value far outside the others
    /// (`outlier`), which would leave the standardised data in one heap and one far point.
    pub fn check_fit(&self) -> Result<(), CsvError> {
        self.check()?;
        match self.outlier() {
            Some(o) => Err(CsvError::new(format!("point {}: {}", o.index + 1, o.describe(self)))),
            None => Ok(()),
        }
    }
}

/// Fewest points accepted: with two, any curve fits exactly and the noise is undetermined.
pub const MIN_POINTS: usize = 3;
