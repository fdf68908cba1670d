//! Predictive bands on an x grid from posterior draws (docs/ARCHITECTURE.md §2):
//! mean = avg_s mu_s, epistemic var = var_s mu_s, aleatoric var = avg_s sigma_s^2,
//! total var = epistemic + aleatoric. All in data units.

use serde::{Deserialize, Serialize};

/// The predictive distribution on a grid, in data units.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PredictiveSummary {
    pub x: Vec<f64>,
    pub mean: Vec<f64>,
    pub sd_epistemic: Vec<f64>,
    pub sd_aleatoric: Vec<f64>,
    pub sd_total: Vec<f64>,
    /// Posterior of the noise sd sigma(x): mean over draws and 95% band.
    pub sigma_mean: Vec<f64>,
    pub sigma_lo: Vec<f64>,
    pub sigma_hi: Vec<f64>,
}

/// The predictions as CSV, one row per grid x in order: the contract columns
/// `x,mean,sd_epistemic,sd_aleatoric,sd_total,sigma_mean,sigma_lo,sigma_hi` in data units,
/// each number in the shortest form that reads back to the same f64. The page's download
/// and the CLI's PRED.csv both write it.
pub fn predictions_csv(s: &PredictiveSummary) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("x,mean,sd_epistemic,sd_aleatoric,sd_total,sigma_mean,sigma_lo,sigma_hi\n");
    for i in 0..s.x.len() {
        let g = |v: &Vec<f64>| v.get(i).copied().unwrap_or(f64::NAN);
        let _ = writeln!(
            out,
            "{:?},{:?},{:?},{:?},{:?},{:?},{:?},{:?}",
            s.x[i],
            g(&s.mean),
            g(&s.sd_epistemic),
            g(&s.sd_aleatoric),
            g(&s.sd_total),
            g(&s.sigma_mean),
            g(&s.sigma_lo),
            g(&s.sigma_hi)
        );
    }
    out
}

/// Posterior draws drawn as thin lines over the bands.
pub const FUNCTION_DRAWS: usize = 20;

/// `k` indices spread evenly over `0..n` (all of them when n <= k), in order: the first
/// draw, then every (n/k)-th, so every chain of a pooled list is represented.
pub fn spread_picks(n: usize, k: usize) -> Vec<usize> {
    if n <= k {
        return (0..n).collect();
    }
    (0..k).map(|i| i * n / k).collect()
}

/// One posterior draw evaluated on the grid, in data units.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DrawPrediction {
    #[serde(with = "crate::infer::pool::f64s")]
    pub mu: Vec<f64>,
    #[serde(with = "crate::infer::pool::f64s")]
    pub sigma: Vec<f64>,
    pub theta: Vec<f64>,
}

/// Linear-interpolation quantile of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = q * (n - 1) as f64;
            let (i, f) = (h.floor() as usize, h - h.floor());
            if i + 1 < n {
                sorted[i] + f * (sorted[i + 1] - sorted[i])
            } else {
                sorted[n - 1]
            }
        }
    }
}

/// mean = avg mu_s; epistemic var = var mu_s; aleatoric var = avg sigma_s^2.
pub fn bands(grid: &[f64], draws: &[&DrawPrediction]) -> PredictiveSummary {
    let n = grid.len();
    let s = draws.len().max(1) as f64;
    let mut out = PredictiveSummary { x: grid.to_vec(), ..Default::default() };
    let mut sig = Vec::with_capacity(draws.len());
    for i in 0..n {
        let mean = draws.iter().map(|d| d.mu[i] / s).sum::<f64>();
        // Variances of values near 1e300 overflow: work relative to the largest deviation.
        let k = draws.iter().map(|d| (d.mu[i] - mean).abs().max(d.sigma[i])).fold(0.0, f64::max);
        let k = if k > 0.0 && k.is_finite() { k } else { 1.0 };
        let var_e = draws.iter().map(|d| ((d.mu[i] - mean) / k).powi(2)).sum::<f64>() / s;
        let var_a = draws.iter().map(|d| (d.sigma[i] / k).powi(2)).sum::<f64>() / s;
        sig.clear();
        sig.extend(draws.iter().map(|d| d.sigma[i]));
        sig.sort_by(f64::total_cmp);
        out.mean.push(mean);
        out.sd_epistemic.push(k * var_e.sqrt());
        out.sd_aleatoric.push(k * var_a.sqrt());
        out.sd_total.push(k * (var_e + var_a).sqrt());
        out.sigma_mean.push(sig.iter().map(|v| v / s).sum::<f64>());
        out.sigma_lo.push(quantile(&sig, 0.025));
        out.sigma_hi.push(quantile(&sig, 0.975));
    }
    out
}

/// The posterior-draw lines of a plot: the mean functions of [`FUNCTION_DRAWS`] of the
/// pooled draws, spread over them ([`spread_picks`]).
pub fn function_draws(all: &[&DrawPrediction]) -> Vec<Vec<f64>> {
    spread_picks(all.len(), FUNCTION_DRAWS).into_iter().map(|i| all[i].mu.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two draws, by hand: means 0 and 2 (epistemic sd 1), noise sds 1 and 3
    /// (aleatoric sd sqrt(5)), total sd sqrt(6); the noise quantiles interpolate.
    #[test]
    fn bands_of_two_draws_by_hand() {
        let d = [
            DrawPrediction { mu: vec![0.0], sigma: vec![1.0], theta: vec![] },
            DrawPrediction { mu: vec![2.0], sigma: vec![3.0], theta: vec![] },
        ];
        let b = bands(&[0.5], &d.iter().collect::<Vec<_>>());
        assert_eq!(b.x, vec![0.5]);
        assert_eq!(b.mean, vec![1.0]);
        assert!((b.sd_epistemic[0] - 1.0).abs() < 1e-15);
        assert!((b.sd_aleatoric[0] - 5f64.sqrt()).abs() < 1e-15);
        assert!((b.sd_total[0] - 6f64.sqrt()).abs() < 1e-15);
        assert_eq!(b.sigma_mean, vec![2.0]);
        assert!((b.sigma_lo[0] - 1.05).abs() < 1e-12 && (b.sigma_hi[0] - 2.95).abs() < 1e-12);
        assert!(quantile(&[], 0.5).is_nan());
        assert_eq!(quantile(&[4.0], 0.9), 4.0);
        assert_eq!(function_draws(&d.iter().collect::<Vec<_>>()), vec![vec![0.0], vec![2.0]]);
    }

    #[test]
    fn draws_are_picked_evenly_across_the_pooled_list() {
        assert_eq!(spread_picks(3, 20), vec![0, 1, 2]);
        assert_eq!(spread_picks(0, 20), Vec::<usize>::new());
        assert_eq!(spread_picks(10, 5), vec![0, 2, 4, 6, 8]);
        // Two chains of 100 draws pooled: ten from each.
        let p = spread_picks(200, FUNCTION_DRAWS);
        assert_eq!(p.len(), 20);
        assert_eq!(p.iter().filter(|&&i| i < 100).count(), 10);
        assert!(p.windows(2).all(|w| w[0] < w[1]) && *p.last().unwrap() < 200);
    }

    #[test]
    fn the_predictions_csv_reads_back_to_the_same_numbers() {
        let v = [0.1, 1e-300, -2.5e17, 1.0 / 3.0];
        let s = PredictiveSummary {
            x: v.to_vec(),
            mean: v.iter().map(|a| a * 2.0).collect(),
            sd_epistemic: v.to_vec(),
            sd_aleatoric: v.to_vec(),
            sd_total: v.to_vec(),
            sigma_mean: v.to_vec(),
            sigma_lo: v.to_vec(),
            sigma_hi: vec![],
        };
        let csv = predictions_csv(&s);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "x,mean,sd_epistemic,sd_aleatoric,sd_total,sigma_mean,sigma_lo,sigma_hi");
        assert_eq!(lines.len(), 5);
        for (i, l) in lines[1..].iter().enumerate() {
            let f: Vec<f64> = l.split(',').map(|t| t.parse().unwrap()).collect();
            assert_eq!(f[0].to_bits(), v[i].to_bits());
            assert_eq!(f[1].to_bits(), (v[i] * 2.0).to_bits());
            assert!(f[7].is_nan(), "a missing column is NaN, not a shifted row");
        }
    }
}
