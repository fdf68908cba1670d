//! Scores of a predictive distribution: against a known truth on a grid, or on held-out points.
//!
//! `GridMetrics` follows `data/eval.py` (the reference scorer) in closed form: its
//! `nll_exact` and `coverage95_exact`, no Monte Carlo. Predictive sds are floored
//! at 1e-12 exactly as there.

use serde::{Deserialize, Serialize};

/// The 97.5% quantile of N(0, 1): half-width of a central 95% interval, in sds.
pub const Z95: f64 = 1.959963984540054;

/// Floor on standard deviations, as in eval.py (a zero sd would give an infinite NLL).
pub const SD_FLOOR: f64 = 1e-12;

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

/// Scores on observed held-out points y: uncertainty-toolbox's metric set
/// (`summary::calibration`) for the predictions N(mean, sd_total^2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeldOutMetrics {
    pub n: usize,
    /// RMSE of the predictive mean against y.
    pub rmse: f64,
    /// Mean Gaussian NLL of y under N(mean, sd_total^2).
    pub nll: f64,
    /// Fraction of y inside mean ± 1.96·sd_total.
    pub coverage95: f64,
    /// Mean CRPS (Gaussian closed form).
    #[serde(default)]
    pub crps: f64,
    /// Root mean square of sd_total.
    #[serde(default)]
    pub sharpness: f64,
    /// Mean absolute and root mean squared calibration error, and the miscalibration
    /// area, of the central intervals (the toolbox's default `prop_type`, 100 levels).
    #[serde(default)]
    pub mace: f64,
    #[serde(default)]
    pub rmsce: f64,
    #[serde(default)]
    pub miscalibration_area: f64,
    /// Mean check (pinball) score and interval score over 99 levels.
    #[serde(default)]
    pub check: f64,
    #[serde(default)]
    pub interval: f64,
}

impl HeldOutMetrics {
    /// Panics if the lengths differ; no points give NaN scores.
    pub fn compute(y: &[f64], mean: &[f64], sd_total: &[f64]) -> HeldOutMetrics {
        use super::calibration as c;
        let n = y.len();
        assert!(
            mean.len() == n && sd_total.len() == n,
            "HeldOutMetrics::compute: y, mean and sd_total differ in length"
        );
        let (e, o) = c::proportions(y, mean, sd_total, c::CALIBRATION_BINS, c::PropType::Interval);
        HeldOutMetrics {
            n,
            rmse: c::rmse(y, mean),
            nll: c::nll(y, mean, sd_total),
            coverage95: c::coverage95(y, mean, sd_total),
            crps: c::crps(y, mean, sd_total),
            sharpness: c::sharpness(sd_total),
            mace: c::mace(&e, &o),
            rmsce: c::rmsce(&e, &o),
            miscalibration_area: c::miscalibration_area(&e, &o),
            check: c::check_score(y, mean, sd_total),
            interval: c::interval_score(y, mean, sd_total),
        }
    }

    /// `name value` pairs in a fixed order, the CLI's held-out line and the page's table.
    pub fn pairs(&self) -> [(&'static str, f64); 10] {
        [
            ("rmse", self.rmse),
            ("nll", self.nll),
            ("crps", self.crps),
            ("coverage95", self.coverage95),
            ("sharpness", self.sharpness),
            ("mace", self.mace),
            ("rmsce", self.rmsce),
            ("miscalibration_area", self.miscalibration_area),
            ("check", self.check),
            ("interval", self.interval),
        ]
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

/// The standard normal quantile Phi^-1(p), 0 < p < 1 (-inf at 0, +inf at 1, NaN outside): Acklam's rational
/// approximation (relative error 1.15e-9) refined by one Halley step on `normal_cdf`.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    const P_LOW: f64 = 0.02425;
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - P_LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (0.5 * x * x).exp();
    x - u / (1.0 + 0.5 * x * u)
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
    fn normal_quantile_inverts_the_cdf() {
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-13);
        assert!(normal_quantile(0.5).abs() < 1e-15);
        assert!((normal_quantile(0.001) + 3.090232306167813).abs() < 1e-12);
        for p in [1e-10, 0.01, 0.3, 0.7, 0.99, 1.0 - 1e-9] {
            assert!((normal_cdf(normal_quantile(p)) / p - 1.0).abs() < 1e-12, "p = {p}");
        }
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(1.5).is_nan());
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
