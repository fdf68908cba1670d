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

#[cfg(test)]
mod tests {
    use super::*;

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
