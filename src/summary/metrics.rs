//! Scores of a predictive distribution: against a known truth on a grid, or on held-out points.
//!
//! `GridMetrics` follows `data/eval.py` (the reference scorer) in closed form: its
//! `nll_exact` and `coverage95_exact`, no Monte Carlo. Predictive sds are floored
//! at 1e-12 exactly as there.

use serde::{Deserialize, Serialize};

/// The 97.5% quantile of N(0, 1): half-width of a central 95% interval, in sds.
pub const Z95: f64 = 1.959963984540054;

/// Floor on standard deviations, as in eval.py (a zero sd would give an infinite NLL).
const SD_FLOOR: f64 = 1e-12;

/// Scores against the true f(x) and sigma(x) on a grid, each averaged uniformly over it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridMetrics {
    /// RMSE of the predictive mean against f_true.
    pub rmse_mean: f64,
    /// RMSE of the inferred noise sd (aleatoric) against sigma_true.
    pub rmse_noise: f64,
    /// Expected NLL of a fresh y ~ N(f_true, sigma_true^2) under N(mean, sd_total^2).
    pub nll: f64,
    /// Probability that such a fresh y falls in mean ± 1.96·sd_total (ideal 0.95).
    pub coverage95: f64,
    /// Mean width of that interval.
    pub width95: f64,
}

impl GridMetrics {
    /// All slices are on the same grid. Panics if their lengths differ; an empty
    /// grid gives NaN scores.
    pub fn compute(
        mean: &[f64],
        sd_aleatoric: &[f64],
        sd_total: &[f64],
        f_true: &[f64],
        sigma_true: &[f64],
    ) -> GridMetrics {
        let n = mean.len();
        for (name, len) in [
            ("sd_aleatoric", sd_aleatoric.len()),
            ("sd_total", sd_total.len()),
            ("f_true", f_true.len()),
            ("sigma_true", sigma_true.len()),
        ] {
            assert_eq!(len, n, "GridMetrics::compute: {name} has {len} values, mean has {n}");
        }
        let (mut se_mean, mut se_noise, mut nll, mut cover, mut width) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..n {
            let (m, f, sig) = (mean[i], f_true[i], sigma_true[i]);
            let s = sd_total[i].max(SD_FLOOR);
            se_mean += (m - f).powi(2);
            se_noise += (sd_aleatoric[i] - sig).powi(2);
            // E[-log N(y; m, s^2)] for y ~ N(f, sig^2).
            nll += 0.5 * (2.0 * std::f64::consts::PI * s * s).ln() + ((f - m).powi(2) + sig * sig) / (2.0 * s * s);
            let sg = sig.max(SD_FLOOR);
            cover += normal_interval_prob((m - Z95 * s - f) / sg, (m + Z95 * s - f) / sg);
            width += 2.0 * Z95 * s;
        }
        let n = n as f64;
        GridMetrics {
            rmse_mean: (se_mean / n).sqrt(),
            rmse_noise: (se_noise / n).sqrt(),
            nll: nll / n,
            coverage95: cover / n,
            width95: width / n,
        }
    }
}

/// Scores on observed held-out points y.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeldOutMetrics {
    pub n: usize,
    /// RMSE of the predictive mean against y.
    pub rmse: f64,
    /// Mean Gaussian NLL of y under N(mean, sd_total^2).
    pub nll: f64,
    /// Fraction of y inside mean ± 1.96·sd_total.
    pub coverage95: f64,
}

impl HeldOutMetrics {
    /// Panics if the lengths differ; no points give NaN scores.
    pub fn compute(y: &[f64], mean: &[f64], sd_total: &[f64]) -> HeldOutMetrics {
        let n = y.len();
        assert!(
            mean.len() == n && sd_total.len() == n,
            "HeldOutMetrics::compute: y, mean and sd_total differ in length"
        );
        let (mut se, mut nll, mut inside) = (0.0, 0.0, 0usize);
        for i in 0..n {
            let s = sd_total[i].max(SD_FLOOR);
            let r = y[i] - mean[i];
            se += r * r;
            nll += 0.5 * (2.0 * std::f64::consts::PI * s * s).ln() + r * r / (2.0 * s * s);
            inside += usize::from(r.abs() <= Z95 * s);
        }
        let nf = n as f64;
        HeldOutMetrics { n, rmse: (se / nf).sqrt(), nll: nll / nf, coverage95: inside as f64 / nf }
    }
}

/// The standard normal CDF Phi(z).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// P(lo <= Z <= hi) for Z ~ N(0, 1), from whichever tail keeps full relative
/// precision (1 - Phi loses every digit far in the upper tail).
pub fn normal_interval_prob(lo: f64, hi: f64) -> f64 {
    let upper_tail = |z: f64| 0.5 * erfc(z / std::f64::consts::SQRT_2);
    if lo >= 0.0 {
        upper_tail(lo) - upper_tail(hi)
    } else if hi <= 0.0 {
        normal_cdf(hi) - normal_cdf(lo)
    } else {
        1.0 - upper_tail(hi) - normal_cdf(lo)
    }
}

/// The complementary error function, with relative error ~1e-15 on the whole line.
///
/// For x < 1, 1 - erf(x) from the series erf(x) = 2/sqrt(pi)·exp(-x^2)·
/// sum_n (2x^2)^n x / (2n+1)!! (Abramowitz & Stegun 7.1.6: every term positive,
/// so no cancellation; erfc > 0.15 there, so 1 - erf loses nothing). For x >= 1,
/// the continued fraction (A&S 7.1.14)
/// erfc(x) = exp(-x^2)/sqrt(pi) · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
/// evaluated by the modified Lentz method (Numerical Recipes §5.2); it needs
/// ~190 terms at x = 1 and fewer further out.
pub fn erfc(x: f64) -> f64 {
    const SERIES_BELOW: f64 = 1.0;
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < SERIES_BELOW {
        return 1.0 - erf_series(x);
    }
    if x > 27.3 {
        return 0.0; // below the smallest subnormal
    }
    let tiny = 1e-300;
    let mut f = x;
    let (mut c, mut d) = (x, 0.0);
    for n in 1..5000 {
        let a = 0.5 * n as f64;
        d = x + a * d;
        d = if d == 0.0 { 1.0 / tiny } else { 1.0 / d };
        c = x + a / c;
        if c == 0.0 {
            c = tiny;
        }
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (std::f64::consts::PI.sqrt() * f)
}

/// erf(x) for 0 <= x < 1 by the positive series of `erfc`'s doc.
fn erf_series(x: f64) -> f64 {
    let two_x2 = 2.0 * x * x;
    let (mut term, mut sum) = (x, x);
    for n in 1..200 {
        term *= two_x2 / (2 * n + 1) as f64;
        sum += term;
        if term <= 1e-17 * sum {
            break;
        }
    }
    std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp() * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        if a == b {
            0.0
        } else {
            (a - b).abs() / b.abs()
        }
    }

    /// Reference values from Python's `math.erfc` (glibc, correctly rounded to ~1 ulp).
    #[test]
    fn erfc_matches_reference_values_to_1e_14_relative() {
        let cases = [
            (-3.0, 1.9999779095030015),
            (-0.5, 1.5204998778130465),
            (0.0, 1.0),
            (1e-10, 0.999999999887162),
            (0.3, 0.6713732405408726),
            (0.9999, 0.15734072195124052),
            (1.0, 0.15729920705028513),
            (1.0001, 0.1572577004514797),
            (2.0, 0.004677734981047265),
            (2.4999, 0.0004071699003334514),
            (2.5001, 0.0004067342434706798),
            (3.0, 2.2090496998585438e-05),
            (4.5, 1.9661604415428873e-10),
            (6.0, 2.1519736712498916e-17),
            (10.0, 2.088487583762545e-45),
            (26.0, 5.663192408856143e-296),
        ];
        for (x, want) in cases {
            let got = erfc(x);
            assert!(rel(got, want) < 1e-14, "erfc({x}) = {got:e}, want {want:e} (rel {:e})", rel(got, want));
        }
        assert_eq!(erfc(40.0), 0.0);
        assert_eq!(erfc(-40.0), 2.0);
        assert!(erfc(f64::NAN).is_nan());
    }

    #[test]
    fn normal_cdf_matches_reference_values() {
        let cases = [
            (-8.0, 6.220960574271819e-16),
            (-Z95, 0.025),
            (0.0, 0.5),
            (1.0, 0.8413447460685429),
            (Z95, 0.975),
            (5.0, 0.9999997133484281),
        ];
        for (z, want) in cases {
            assert!(rel(normal_cdf(z), want) < 1e-13, "Phi({z}) = {:e}, want {want:e}", normal_cdf(z));
        }
        assert!((normal_interval_prob(-Z95, Z95) - 0.95).abs() < 1e-15);
        // Deep in a tail the difference keeps its relative precision.
        let p = normal_interval_prob(9.0, 10.0);
        assert!(rel(p, 0.5 * (erfc(9.0 / 2f64.sqrt()) - erfc(10.0 / 2f64.sqrt()))) < 1e-14 && p > 1e-19);
    }

    /// A 5-point grid scored by `data/eval.py` (numpy 2.4, its `nll_exact` and
    /// `coverage95_exact`); the predictions include a sd below the 1e-12 floor and a
    /// sigma_true of zero. Tolerance 1e-12 relative: both sides are closed form.
    #[test]
    fn grid_metrics_agree_with_eval_py() {
        let f_true = [1.0, -0.5, 2.0, 0.25, 3.0];
        let sigma_true = [0.1, 0.3, 0.2, 0.0, 0.5];
        let mean = [1.1, -0.4, 1.7, 0.25, 3.9];
        let sd_aleatoric = [0.12, 0.25, 0.2, 0.05, 0.4];
        let sd_total = [0.15, 0.3, 0.25, 1e-13, 0.6];
        let m = GridMetrics::compute(&mean, &sd_aleatoric, &sd_total, &f_true, &sigma_true);
        let want = GridMetrics {
            rmse_mean: EVAL_PY.0,
            rmse_noise: EVAL_PY.1,
            nll: EVAL_PY.2,
            coverage95: EVAL_PY.3,
            width95: EVAL_PY.4,
        };
        for (got, want, name) in [
            (m.rmse_mean, want.rmse_mean, "rmse_mean"),
            (m.rmse_noise, want.rmse_noise, "rmse_noise"),
            (m.nll, want.nll, "nll"),
            (m.coverage95, want.coverage95, "coverage95"),
            (m.width95, want.width95, "width95"),
        ] {
            assert!(rel(got, want) < 1e-12, "{name}: {got} vs eval.py {want}");
        }
    }

    /// (rmse_mean, rmse_noise, nll_exact, coverage95_exact, width95) printed by eval.py.
    const EVAL_PY: (f64, f64, f64, f64, f64) =
        (0.4289522117905443, 0.05549774770204642, -4.904463800356132, 0.879866386902133, 1.019181271961612);

    #[test]
    fn a_perfect_prediction_scores_the_truth_floor() {
        let f = [0.0, 1.0, 2.0];
        let sig = [0.5, 1.0, 2.0];
        let m = GridMetrics::compute(&f, &sig, &sig, &f, &sig);
        assert_eq!((m.rmse_mean, m.rmse_noise), (0.0, 0.0));
        assert!((m.coverage95 - 0.95).abs() < 1e-14);
        let entropy =
            sig.iter().map(|s| 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E * s * s).ln()).sum::<f64>()
                / 3.0;
        assert!((m.nll - entropy).abs() < 1e-14);
        assert!((m.width95 - 2.0 * Z95 * 3.5 / 3.0).abs() < 1e-14);
    }

    #[test]
    fn held_out_metrics_count_points_inside_the_band() {
        let y = [0.0, 1.0, 2.5, -3.0];
        let mean = [0.0, 0.0, 0.0, 0.0];
        let sd = [1.0, 1.0, 1.0, 1.0];
        let h = HeldOutMetrics::compute(&y, &mean, &sd);
        assert_eq!(h.n, 4);
        assert_eq!(h.coverage95, 0.5);
        assert!((h.rmse - (16.25f64 / 4.0).sqrt()).abs() < 1e-15);
        let want_nll = 0.5 * (2.0 * std::f64::consts::PI).ln() + 16.25 / 8.0;
        assert!((h.nll - want_nll).abs() < 1e-14);
    }

    #[test]
    #[should_panic(expected = "sd_total")]
    fn mismatched_lengths_panic() {
        GridMetrics::compute(&[0.0, 1.0], &[1.0, 1.0], &[1.0], &[0.0, 1.0], &[1.0, 1.0]);
    }
}
