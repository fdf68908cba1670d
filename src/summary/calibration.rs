//! Calibration of Gaussian predictions N(mean_i, sd_i^2) against observations y_i:
//! the metric set of uncertainty-toolbox (Chung et al. 2021), the calibration curve,
//! PIT values and the 95% coverage by x-region.
//!
//! Each metric follows the toolbox's definition with its defaults (`metrics_calibration.py`,
//! `metrics_scoring_rule.py`): proportions on 100 expected levels `linspace(0, 1, 100)`,
//! residuals taken as mean - y, check and interval scores over the 99 levels
//! `linspace(0.01, 0.99, 99)`, every score averaged over the points. Sds are floored at
//! `metrics::SD_FLOOR` as in `HeldOutMetrics` (the toolbox rejects a zero sd instead).

use serde::{Deserialize, Serialize};

use super::metrics::{normal_cdf, normal_quantile, SD_FLOOR, Z95};

/// Expected levels of the calibration curve and of MACE, RMSCE and the miscalibration
/// area: uncertainty-toolbox's default `num_bins`.
pub const CALIBRATION_BINS: usize = 100;
/// Levels of the check and interval scores (the toolbox's `resolution`), from 0.01 to 0.99.
pub const SCORE_LEVELS: usize = 99;
/// Bins of the PIT histogram.
pub const PIT_BINS: usize = 10;
/// x-regions of the regional 95% coverage: quarters of the x range.
pub const X_REGIONS: usize = 4;

/// How observed proportions are counted (uncertainty-toolbox's `prop_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropType {
    /// Share of points inside the central p-interval mean ± z_{(1+p)/2}·sd.
    Interval,
    /// Share of points whose (mean - y)/sd lies at or below the p-quantile of N(0, 1).
    Quantile,
}

fn check_lengths(y: &[f64], mean: &[f64], sd: &[f64]) {
    assert!(
        mean.len() == y.len() && sd.len() == y.len(),
        "calibration: y ({}), mean ({}) and sd ({}) differ in length",
        y.len(),
        mean.len(),
        sd.len()
    );
}

fn mean_of(it: impl Iterator<Item = f64>, n: usize) -> f64 {
    it.sum::<f64>() / n as f64
}

/// Evenly spaced levels from `a` to `b` inclusive (numpy's `linspace`).
pub fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    match n {
        0 => vec![],
        1 => vec![a],
        _ => (0..n).map(|i| if i == n - 1 { b } else { a + (b - a) * i as f64 / (n - 1) as f64 }).collect(),
    }
}

/// Mean Gaussian negative log likelihood of y under N(mean, sd^2).
pub fn nll(y: &[f64], mean: &[f64], sd: &[f64]) -> f64 {
    check_lengths(y, mean, sd);
    let half_log_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    mean_of(
        (0..y.len()).map(|i| {
            let s = sd[i].max(SD_FLOOR);
            let z = (y[i] - mean[i]) / s;
            half_log_2pi + s.ln() + 0.5 * z * z
        }),
        y.len(),
    )
}

/// Mean CRPS of N(mean, sd^2) at y, in closed form (Gneiting & Raftery 2007):
/// sd·(z(2Φ(z) - 1) + 2φ(z) - 1/√π), z = (y - mean)/sd.
pub fn crps(y: &[f64], mean: &[f64], sd: &[f64]) -> f64 {
    check_lengths(y, mean, sd);
    let inv_sqrt_pi = 1.0 / std::f64::consts::PI.sqrt();
    mean_of(
        (0..y.len()).map(|i| {
            let s = sd[i].max(SD_FLOOR);
            let z = (y[i] - mean[i]) / s;
            let pdf = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
            s * (z * (2.0 * normal_cdf(z) - 1.0) + 2.0 * pdf - inv_sqrt_pi)
        }),
        y.len(),
    )
}

/// Root mean squared error of the mean against y.
pub fn rmse(y: &[f64], mean: &[f64]) -> f64 {
    assert_eq!(y.len(), mean.len(), "rmse: y and mean differ in length");
    mean_of(y.iter().zip(mean).map(|(a, b)| (a - b).powi(2)), y.len()).sqrt()
}

/// Sharpness: the root mean square of the predictive sds.
pub fn sharpness(sd: &[f64]) -> f64 {
    mean_of(sd.iter().map(|s| s * s), sd.len()).sqrt()
}

/// Share of y inside mean ± 1.96·sd.
pub fn coverage95(y: &[f64], mean: &[f64], sd: &[f64]) -> f64 {
    check_lengths(y, mean, sd);
    mean_of((0..y.len()).map(|i| f64::from(u8::from((y[i] - mean[i]).abs() <= Z95 * sd[i].max(SD_FLOOR)))), y.len())
}

/// Expected and observed proportions at `bins` levels p = linspace(0, 1, bins)
/// (uncertainty-toolbox's `get_proportion_lists`).
pub fn proportions(y: &[f64], mean: &[f64], sd: &[f64], bins: usize, prop: PropType) -> (Vec<f64>, Vec<f64>) {
    check_lengths(y, mean, sd);
    let expected = linspace(0.0, 1.0, bins);
    let r: Vec<f64> = (0..y.len()).map(|i| (mean[i] - y[i]) / sd[i].max(SD_FLOOR)).collect();
    let observed = expected
        .iter()
        .map(|&p| {
            let inside = match prop {
                PropType::Interval => {
                    let (lo, hi) = (normal_quantile(0.5 - p / 2.0), normal_quantile(0.5 + p / 2.0));
                    r.iter().filter(|&&v| lo <= v && v <= hi).count()
                }
                PropType::Quantile => {
                    let q = normal_quantile(p);
                    r.iter().filter(|&&v| v <= q).count()
                }
            };
            inside as f64 / r.len() as f64
        })
        .collect();
    (expected, observed)
}

/// Mean absolute calibration error: mean |observed - expected| over the levels.
pub fn mace(expected: &[f64], observed: &[f64]) -> f64 {
    mean_of(expected.iter().zip(observed).map(|(e, o)| (o - e).abs()), expected.len())
}

/// Root mean squared calibration error over the levels.
pub fn rmsce(expected: &[f64], observed: &[f64]) -> f64 {
    mean_of(expected.iter().zip(observed).map(|(e, o)| (o - e).powi(2)), expected.len()).sqrt()
}

/// Area between the calibration curve (linear between the levels) and the diagonal:
/// the integral of |observed - expected| over p, exact where the curve crosses the
/// diagonal inside a segment.
pub fn miscalibration_area(expected: &[f64], observed: &[f64]) -> f64 {
    let n = expected.len().min(observed.len());
    (1..n)
        .map(|i| {
            let h = expected[i] - expected[i - 1];
            let (d0, d1) = (observed[i - 1] - expected[i - 1], observed[i] - expected[i]);
            if d0 * d1 < 0.0 {
                // Two triangles meeting where the curve crosses the diagonal.
                0.5 * h * (d0 * d0 + d1 * d1) / (d0.abs() + d1.abs())
            } else {
                0.5 * h * (d0 + d1).abs()
            }
        })
        .sum()
}

/// Mean check (pinball) score of the predicted q-quantiles over q = linspace(0.01, 0.99, 99).
pub fn check_score(y: &[f64], mean: &[f64], sd: &[f64]) -> f64 {
    check_lengths(y, mean, sd);
    let qs = linspace(0.01, 0.99, SCORE_LEVELS);
    mean_of(
        qs.iter().map(|&q| {
            let z = normal_quantile(q);
            mean_of(
                (0..y.len()).map(|i| {
                    let diff = mean[i] + z * sd[i].max(SD_FLOOR) - y[i];
                    (f64::from(u8::from(diff >= 0.0)) - q) * diff
                }),
                y.len(),
            )
        }),
        qs.len(),
    )
}

/// Mean interval score (Gneiting & Raftery 2007) of the central p-intervals over
/// p = linspace(0.01, 0.99, 99): width + 2/(1-p)·(distance outside).
pub fn interval_score(y: &[f64], mean: &[f64], sd: &[f64]) -> f64 {
    check_lengths(y, mean, sd);
    let ps = linspace(0.01, 0.99, SCORE_LEVELS);
    mean_of(
        ps.iter().map(|&p| {
            let (zl, zu) = (normal_quantile(0.5 - p / 2.0), normal_quantile(0.5 + p / 2.0));
            mean_of(
                (0..y.len()).map(|i| {
                    let s = sd[i].max(SD_FLOOR);
                    let (l, u) = (mean[i] + zl * s, mean[i] + zu * s);
                    let k = 2.0 / (1.0 - p);
                    (u - l) + k * (l - y[i]).max(0.0) + k * (y[i] - u).max(0.0)
                }),
                y.len(),
            )
        }),
        ps.len(),
    )
}

/// Probability integral transform Φ((y - mean)/sd) of each point: uniform on [0, 1]
/// when the predictions are calibrated.
pub fn pit(y: &[f64], mean: &[f64], sd: &[f64]) -> Vec<f64> {
    check_lengths(y, mean, sd);
    (0..y.len()).map(|i| normal_cdf((y[i] - mean[i]) / sd[i].max(SD_FLOOR))).collect()
}

/// Counts of PIT values in `bins` equal bins of [0, 1] (1 goes in the last).
pub fn histogram01(values: &[f64], bins: usize) -> Vec<usize> {
    let mut h = vec![0; bins];
    for &v in values {
        if v.is_finite() && bins > 0 {
            h[((v * bins as f64) as usize).min(bins - 1)] += 1;
        }
    }
    h
}

/// The 95% coverage in one x-region.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionCoverage {
    pub x_lo: f64,
    pub x_hi: f64,
    /// Points in the region.
    pub n: usize,
    /// Share of them inside mean ± 1.96·sd (NaN without points).
    pub coverage95: f64,
}

/// The 95% coverage in `regions` equal parts of [x_lo, x_hi]; points outside go to
/// the first or last part.
pub fn coverage_by_region(
    x: &[f64],
    y: &[f64],
    mean: &[f64],
    sd: &[f64],
    (x_lo, x_hi): (f64, f64),
    regions: usize,
) -> Vec<RegionCoverage> {
    check_lengths(y, mean, sd);
    assert_eq!(x.len(), y.len(), "coverage_by_region: x and y differ in length");
    let w = (x_hi - x_lo) / regions as f64;
    let mut counts = vec![(0usize, 0usize); regions];
    for i in 0..x.len() {
        let k = if w > 0.0 { ((x[i] - x_lo) / w).floor().clamp(0.0, (regions - 1) as f64) as usize } else { 0 };
        counts[k].0 += 1;
        counts[k].1 += usize::from((y[i] - mean[i]).abs() <= Z95 * sd[i].max(SD_FLOOR));
    }
    counts
        .iter()
        .enumerate()
        .map(|(k, &(n, inside))| RegionCoverage {
            x_lo: x_lo + w * k as f64,
            x_hi: if k + 1 == regions { x_hi } else { x_lo + w * (k + 1) as f64 },
            n,
            coverage95: inside as f64 / n as f64,
        })
        .collect()
}

/// Everything the calibration panel shows, for points (x, y) and their predictions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Expected and observed coverage of the central p-intervals (interval mode).
    pub expected: Vec<f64>,
    pub observed: Vec<f64>,
    /// Miscalibration area of that curve.
    pub area: f64,
    /// PIT histogram: counts in `PIT_BINS` equal bins of [0, 1].
    pub pit_hist: Vec<usize>,
    /// The 95% coverage by quarter of the x range.
    pub regions: Vec<RegionCoverage>,
}

impl Calibration {
    pub fn compute(x: &[f64], y: &[f64], mean: &[f64], sd: &[f64], x_range: (f64, f64)) -> Calibration {
        let (expected, observed) = proportions(y, mean, sd, CALIBRATION_BINS, PropType::Interval);
        Calibration {
            area: miscalibration_area(&expected, &observed),
            expected,
            observed,
            pit_hist: histogram01(&pit(y, mean, sd), PIT_BINS),
            regions: coverage_by_region(x, y, mean, sd, x_range, X_REGIONS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    const Y_PRED: [f64; 3] = [1.0, 2.0, 3.0];
    const Y_STD: [f64; 3] = [0.1, 0.5, 1.0];
    const Y_TRUE: [f64; 3] = [1.5, 3.0, 2.0];

    fn close(got: f64, want: f64, tol: f64, name: &str) {
        assert!((got - want).abs() <= tol * want.abs().max(1e-300), "{name}: {got:.17} vs uncertainty-toolbox {want:.17}");
    }

    /// uncertainty-toolbox's own test fixture and its published values
    /// (tests/test_metrics_*.py of the toolbox).
    #[test]
    fn scores_match_uncertainty_toolbox_on_its_fixture() {
        let (y, m, s) = (&Y_TRUE[..], &Y_PRED[..], &Y_STD[..]);
        close(nll(y, m, s), 4.920361108686675, 1e-13, "nll");
        // Published with 11 digits.
        close(crps(y, m, s), 0.59080610693, 1e-10, "crps");
        close(check_score(y, m, s), 0.29801437323836477, 1e-12, "check");
        close(interval_score(y, m, s), 3.20755700861995, 1e-12, "interval");
        close(sharpness(s), 0.648074069840786, 1e-14, "sharpness");
    }

    #[test]
    fn calibration_errors_match_uncertainty_toolbox_on_its_fixture() {
        for (prop, rmsce_want, mace_want, area_want) in [
            (PropType::Interval, 0.4165757476562379, 0.3733333333333335, 0.37710437710437716),
            (PropType::Quantile, 0.30362567774902066, 0.23757575757575758, 0.23916245791245785),
        ] {
            let (e, o) = proportions(&Y_TRUE, &Y_PRED, &Y_STD, CALIBRATION_BINS, prop);
            assert_eq!(e.len(), 100);
            close(rmsce(&e, &o), rmsce_want, 1e-12, &format!("{prop:?} rmsce"));
            close(mace(&e, &o), mace_want, 1e-12, &format!("{prop:?} mace"));
            close(miscalibration_area(&e, &o), area_want, 1e-12, &format!("{prop:?} miscalibration area"));
        }
    }

    /// Independent truths for the parts the fixture does not pin down.
    #[test]
    fn closed_forms_at_simple_points() {
        // y at the mean: CRPS = sd (2φ(0) - 1/√π) = sd (√2 - 1)/√π.
        let c = crps(&[0.0], &[0.0], &[2.0]);
        close(c, 2.0 * (2f64.sqrt() - 1.0) / std::f64::consts::PI.sqrt(), 1e-14, "crps at the mean");
        // Far from the mean CRPS tends to |y - mean| - sd/√π.
        close(crps(&[40.0], &[0.0], &[1.0]), 40.0 - 1.0 / std::f64::consts::PI.sqrt(), 1e-12, "crps far out");
        assert_eq!(rmse(&[1.0, 3.0], &[0.0, 0.0]), 5f64.sqrt());
        assert_eq!(coverage95(&[0.0, 1.9, 2.0, -3.0], &[0.0; 4], &[1.0; 4]), 0.5);
        assert_eq!(pit(&[0.0], &[0.0], &[1.0]), vec![0.5]);
        assert_eq!(histogram01(&[0.0, 0.05, 0.1, 0.95, 1.0], 10), vec![2, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
        // A curve off the diagonal by a constant d everywhere has area |d|; one that
        // crosses it in the middle of a segment makes two triangles.
        assert!((miscalibration_area(&[0.0, 1.0], &[0.25, 1.25]) - 0.25).abs() < 1e-15);
        assert!((miscalibration_area(&[0.0, 1.0], &[0.5, 0.5]) - 0.25).abs() < 1e-15);
    }

    #[test]
    fn regions_split_the_x_range_into_quarters() {
        let x = [0.0, 0.5, 1.5, 2.5, 3.9, 4.0, -1.0, 9.0];
        let y = [0.0, 5.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0];
        let r = coverage_by_region(&x, &y, &[0.0; 8], &[1.0; 8], (0.0, 4.0), 4);
        assert_eq!(r.iter().map(|c| c.n).collect::<Vec<_>>(), vec![3, 1, 1, 3]);
        assert_eq!(r.iter().map(|c| c.coverage95).collect::<Vec<_>>(), vec![2.0 / 3.0, 1.0, 1.0, 2.0 / 3.0]);
        assert_eq!((r[0].x_lo, r[1].x_lo, r[3].x_hi), (0.0, 1.0, 4.0));
    }

    /// Fresh draws from the predictive distribution itself are calibrated: every level's
    /// observed coverage is a Binomial(n, p)/n share, within 4.5 of its sds of p
    /// (100 levels: a false alarm about once in 10^4 seeds); the PIT histogram is flat.
    #[test]
    fn fresh_draws_from_the_prediction_lie_on_the_diagonal() {
        let n = 4000;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
        let x: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
        let mean: Vec<f64> = x.iter().map(|x| (6.0 * x).sin()).collect();
        let sd: Vec<f64> = x.iter().map(|x| 0.05 + 0.5 * x * x).collect();
        let y: Vec<f64> =
            (0..n).map(|i| mean[i] + sd[i] * rng.sample::<f64, _>(StandardNormal)).collect();
        for prop in [PropType::Interval, PropType::Quantile] {
            let (e, o) = proportions(&y, &mean, &sd, CALIBRATION_BINS, prop);
            for (p, q) in e.iter().zip(&o) {
                let tol = 4.5 * (p * (1.0 - p) / n as f64).sqrt() + 1e-12;
                assert!((q - p).abs() <= tol, "{prop:?}: observed {q} at level {p}");
            }
            assert!(mace(&e, &o) < 0.01 && miscalibration_area(&e, &o) < 0.01, "{prop:?}");
        }
        let c = Calibration::compute(&x, &y, &mean, &sd, (0.0, 1.0));
        let per_bin = n as f64 / PIT_BINS as f64;
        for &k in &c.pit_hist {
            assert!((k as f64 - per_bin).abs() < 4.5 * (per_bin * 0.9).sqrt(), "{:?}", c.pit_hist);
        }
        for r in &c.regions {
            assert!((r.coverage95 - 0.95).abs() < 4.5 * (0.95 * 0.05 / r.n as f64).sqrt(), "{r:?}");
        }
        // An overconfident prediction (sds halved) lies below the diagonal.
        let half: Vec<f64> = sd.iter().map(|s| 0.5 * s).collect();
        let (e, o) = proportions(&y, &mean, &half, CALIBRATION_BINS, PropType::Interval);
        assert!(o.iter().zip(&e).skip(1).take(98).all(|(o, e)| o < e) && miscalibration_area(&e, &o) > 0.15);
    }
}
