//! Standardisation (z-scores) of x and y, and its exact inverse back to data units.
//!
//! Models work in standardised units (docs/ARCHITECTURE.md §2) so that one prior N(0, 1) and one
//! set of step sizes suit data of any scale; every output is mapped back with
//! the `*_from_std` functions.

use serde::{Deserialize, Serialize};

use super::Dataset;

/// Affine maps x -> (x - x_mean) / x_sd and y -> (y - y_mean) / y_sd.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    pub x_mean: f64,
    pub x_sd: f64,
    pub y_mean: f64,
    pub y_sd: f64,
}

impl Scaling {
    /// z-scores of the data (population sd), or the identity when `raw` (NeuroBayes
    /// fits raw data). A zero sd (all values equal) falls back to 1 so that nothing
    /// is divided by zero; such data are only shifted.
    pub fn fit(data: &Dataset, raw: bool) -> Scaling {
        if raw {
            return Scaling::identity();
        }
        let (x_mean, x_sd) = mean_sd(&data.x);
        let (y_mean, y_sd) = mean_sd(&data.y);
        Scaling { x_mean, x_sd, y_mean, y_sd }
    }

    pub fn identity() -> Scaling {
        Scaling { x_mean: 0.0, x_sd: 1.0, y_mean: 0.0, y_sd: 1.0 }
    }

    pub fn x_to_std(&self, x: f64) -> f64 {
        to_std(x, self.x_mean, self.x_sd)
    }
    pub fn x_from_std(&self, z: f64) -> f64 {
        z * self.x_sd + self.x_mean
    }
    pub fn y_to_std(&self, y: f64) -> f64 {
        to_std(y, self.y_mean, self.y_sd)
    }
    pub fn y_from_std(&self, z: f64) -> f64 {
        z * self.y_sd + self.y_mean
    }
    /// A standard deviation of y in standardised units (no shift: sds scale only).
    pub fn sd_to_std(&self, s: f64) -> f64 {
        s / self.y_sd
    }
    pub fn sd_from_std(&self, s: f64) -> f64 {
        s * self.y_sd
    }
}

/// Largest |y| a raw-scale fit accepts, in units of the weights' prior sd. A network
/// whose weights have prior sd s puts its outputs at a few s, so a raw-scale fit of y
/// far beyond that pays more prior than the data give back and the mean stays near 0.
/// Measured on nb_exp with y scaled by k (two-head, exponential law, homoskedastic):
/// the raw fit's mean differs from the standardised fit's by 0.02-0.09 y-sds at k = 1
/// (|y| <= 4.2), 0.09-0.18 at k = 3 (12.5), 0.7-1.1 at k = 10 (42): it no longer follows
/// the data. The reference data sets reach |y| = 4.2.
pub const RAW_Y_MAX: f64 = 15.0;

impl Scaling {
    /// Whether data can be fitted in their own units (raw scale) under a weight prior of
    /// sd `prior_scale`: refused, with what to do, when y reaches beyond `RAW_Y_MAX` of it.
    pub fn check_raw(data: &Dataset, prior_scale: f64) -> Result<(), String> {
        let (i, top) = data.y.iter().enumerate().fold((0, 0.0f64), |(bi, b), (i, &v)| if v.abs() > b { (i, v.abs()) } else { (bi, b) });
        let limit = RAW_Y_MAX * prior_scale;
        if top > limit {
            return Err(format!(
                "the data cannot be fitted on the raw scale: y reaches {} (point {}), but a network whose \
                 weights have prior sd {} gives outputs of a few units, so the fit would not follow the data \
                 (raw scale needs |y| <= {}); drop --raw (untick \"raw scale\") to fit standardised data, \
                 the default",
                short(data.y[i]),
                i + 1,
                short(prior_scale),
                short(limit)
            ));
        }
        Ok(())
    }
}

/// A number in at most 4 significant digits, without float dust (1234, 0.05, 1.2e12).
pub(crate) fn short(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() >= 1e6 || v.abs() < 1e-3 {
        let s = format!("{v:.3e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = m.trim_end_matches('0').trim_end_matches('.');
        format!("{m}e{e}")
    } else {
        let decimals = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
        let s = format!("{v:.decimals$}");
        let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
        if s == "-0" { "0".into() } else { s }
    }
}

/// (v - mean) / sd, falling back to v/sd - mean/sd when the difference itself
/// overflows (values of opposite sign near f64::MAX).
fn to_std(v: f64, mean: f64, sd: f64) -> f64 {
    let d = v - mean;
    if d.is_finite() {
        d / sd
    } else {
        v / sd - mean / sd
    }
}

/// Mean and population sd, computed on v / max|v| so that sums of values near
/// 1e300 cannot overflow (and squares of values near 1e-300 cannot underflow).
/// An empty slice gives (0, 1); equal values give sd = 1.
fn mean_sd(v: &[f64]) -> (f64, f64) {
    let scale = v.iter().fold(0.0f64, |m, &a| m.max(a.abs()));
    if v.is_empty() || scale == 0.0 {
        return (0.0, 1.0);
    }
    let n = v.len() as f64;
    let mean_u = v.iter().map(|&a| a / scale).sum::<f64>() / n;
    let var_u = v.iter().map(|&a| (a / scale - mean_u).powi(2)).sum::<f64>() / n;
    let sd = var_u.sqrt() * scale;
    (mean_u * scale, if sd > 0.0 && sd.is_finite() { sd } else { 1.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(x: Vec<f64>, y: Vec<f64>) -> Dataset {
        Dataset::new(x, y)
    }

    #[test]
    fn z_scores_have_mean_zero_and_population_sd_one() {
        let d = data(vec![1.0, 2.0, 3.0, 4.0], vec![10.0, 20.0, 30.0, 40.0]);
        let s = Scaling::fit(&d, false);
        assert!((s.x_mean - 2.5).abs() < 1e-15);
        assert!((s.x_sd - 1.25f64.sqrt()).abs() < 1e-15);
        assert!((s.y_mean - 25.0).abs() < 1e-13);
        assert!((s.y_sd - 125f64.sqrt()).abs() < 1e-13);
        let z: Vec<f64> = d.y.iter().map(|&y| s.y_to_std(y)).collect();
        let mean = z.iter().sum::<f64>() / 4.0;
        let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
        assert!(mean.abs() < 1e-15 && (var - 1.0).abs() < 1e-14);
    }

    #[test]
    fn raw_scaling_is_the_identity() {
        let d = data(vec![1.0, 2.0, 5.0], vec![3.0, -1.0, 7.0]);
        let s = Scaling::fit(&d, true);
        assert_eq!(s, Scaling::identity());
        assert_eq!(s.y_to_std(7.0), 7.0);
        assert_eq!(s.sd_from_std(0.5), 0.5);
    }

    #[test]
    fn constant_y_falls_back_to_unit_sd() {
        let d = data(vec![1.0, 2.0, 3.0], vec![4.0, 4.0, 4.0]);
        let s = Scaling::fit(&d, false);
        assert_eq!(s.y_sd, 1.0);
        assert_eq!(s.y_mean, 4.0);
        assert_eq!(s.y_to_std(4.0), 0.0);
    }

    #[test]
    fn all_zero_values_give_mean_zero_and_unit_sd() {
        let d = data(vec![0.0, 1.0, 2.0], vec![0.0, 0.0, 0.0]);
        let s = Scaling::fit(&d, false);
        assert_eq!((s.y_mean, s.y_sd), (0.0, 1.0));
    }

    #[test]
    fn huge_and_tiny_values_do_not_overflow() {
        let d = data(vec![1e300, 2e300, 3e300], vec![-1e-300, 0.0, 1e-300]);
        let s = Scaling::fit(&d, false);
        assert!(s.x_mean.is_finite() && s.x_sd.is_finite());
        assert!((s.x_mean / 2e300 - 1.0).abs() < 1e-15);
        assert!((s.x_sd / ((2.0f64 / 3.0).sqrt() * 1e300) - 1.0).abs() < 1e-15);
        assert!(s.y_sd > 0.0 && (s.y_sd / ((2.0f64 / 3.0).sqrt() * 1e-300) - 1.0).abs() < 1e-14);
        assert!((s.x_to_std(3e300) - 1.5f64.sqrt()).abs() < 1e-14);
        let wide = data(vec![-1.5e308, 0.0, 1.5e308], vec![1.0, 2.0, 3.0]);
        let s = Scaling::fit(&wide, false);
        assert!(s.x_sd.is_finite() && s.x_to_std(1.5e308).is_finite());
    }

    #[test]
    fn inverse_maps_undo_the_forward_maps() {
        let d = data(vec![0.3, 1.7, 9.2, -4.0], vec![100.0, 101.5, 99.25, 98.0]);
        let s = Scaling::fit(&d, false);
        for v in [-4.0, 0.0, 0.3, 123.456] {
            assert!((s.x_from_std(s.x_to_std(v)) - v).abs() < 1e-13);
            assert!((s.y_from_std(s.y_to_std(v)) - v).abs() < 1e-12);
            assert!((s.sd_from_std(s.sd_to_std(v.abs())) - v.abs()).abs() < 1e-13);
        }
        assert!((s.sd_to_std(s.y_sd) - 1.0).abs() < 1e-15);
    }
}
