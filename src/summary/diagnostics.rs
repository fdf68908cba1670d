//! Convergence diagnostics of MCMC draws: split R-hat and bulk effective sample size.
//!
//! Both take one vector of draws per chain. Chains of unequal length are cut to the
//! shortest; every chain is split into halves (the middle draw of an odd length is
//! dropped) so that a trend within a chain shows up as disagreement between halves.

use super::metrics::normal_cdf;

/// Fewest draws per chain: each half needs two draws for a variance.
const MIN_DRAWS: usize = 4;

/// Split R-hat (Gelman et al., BDA3 §11.4): sqrt(var+ / W) over split chains, with
/// W the mean within-half variance and var+ = (n-1)/n·W + B/n.
///
/// `None` with fewer than 4 draws per chain or a non-finite draw. When no half
/// varies: `Some(1.0)` if every draw is identical (a fixed quantity: the chains
/// agree), `Some(INFINITY)` if the halves are constant at different values (stuck
/// chains, the clearest non-convergence). Note that serde_json writes an
/// infinite value as `null`.
pub fn split_rhat(chains: &[Vec<f64>]) -> Option<f64> {
    let halves = split_halves(chains)?;
    let n = halves[0].len() as f64;
    let means: Vec<f64> = halves.iter().map(|h| mean(h)).collect();
    let w = halves.iter().zip(&means).map(|(h, &m)| sample_variance(h, m)).sum::<f64>() / halves.len() as f64;
    let b = n * sample_variance(&means, mean(&means));
    if w == 0.0 {
        return Some(if b == 0.0 { 1.0 } else { f64::INFINITY });
    }
    let var_plus = (n - 1.0) / n * w + b / n;
    Some((var_plus / w).sqrt())
}

/// Bulk effective sample size (Vehtari et al. 2021; the Stan reference manual's
/// estimator): the draws are rank-normalised over all chains, split, and the
/// autocorrelations pooled across chains are summed with Geyer's initial
/// monotone sequence. Capped at N·log10(N) as in Stan.
///
/// `None` with fewer than 4 draws per chain, a non-finite draw, or no variation at all.
pub fn ess(chains: &[Vec<f64>]) -> Option<f64> {
    let halves = split_halves(chains)?;
    let z = rank_normalise(&halves);
    let halves: Vec<&[f64]> = z.chunks(halves[0].len()).collect();
    ess_of_split_chains(&halves)
}

/// Chains cut to the shortest length and split in halves; `None` when too short,
/// empty or not finite.
fn split_halves(chains: &[Vec<f64>]) -> Option<Vec<&[f64]>> {
    let n = chains.iter().map(Vec::len).min()?;
    if n < MIN_DRAWS || chains.iter().any(|c| c[..n].iter().any(|v| !v.is_finite())) {
        return None;
    }
    let half = n / 2;
    Some(chains.iter().flat_map(|c| [&c[..half], &c[n - half..n]]).collect())
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Variance with the n - 1 denominator.
fn sample_variance(v: &[f64], mean: f64) -> f64 {
    v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)
}

/// Normal scores of the pooled ranks, Phi^-1((r - 3/8) / (S + 1/4)) (Blom 1958),
/// with tied draws given their average rank. Returned chain after chain.
fn rank_normalise(halves: &[&[f64]]) -> Vec<f64> {
    let pooled: Vec<f64> = halves.iter().flat_map(|h| h.iter().copied()).collect();
    let s = pooled.len();
    let mut order: Vec<usize> = (0..s).collect();
    order.sort_by(|&a, &b| pooled[a].total_cmp(&pooled[b]));
    let mut z = vec![0.0; s];
    let mut i = 0;
    while i < s {
        let mut j = i + 1;
        while j < s && pooled[order[j]] == pooled[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j share their average.
        let rank = (i + 1 + j) as f64 / 2.0;
        let score = normal_quantile((rank - 0.375) / (s as f64 + 0.25));
        for &k in &order[i..j] {
            z[k] = score;
        }
        i = j;
    }
    z
}

/// ESS of already split (and normalised) chains of equal length n >= 2.
fn ess_of_split_chains(chains: &[&[f64]]) -> Option<f64> {
    let m = chains.len();
    let n = chains[0].len();
    let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    // Biased autocovariance of one chain at one lag, as Stan computes it.
    let acov = |c: usize, lag: usize| -> f64 {
        let (x, mu) = (chains[c], means[c]);
        (0..n - lag).map(|i| (x[i] - mu) * (x[i + lag] - mu)).sum::<f64>() / n as f64
    };
    let mean_acov = |lag: usize| (0..m).map(|c| acov(c, lag)).sum::<f64>() / m as f64;
    let nf = n as f64;
    let mean_var = mean_acov(0) * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        var_plus += sample_variance(&means, mean(&means));
    }
    if var_plus <= 0.0 {
        return None;
    }
    let rho = |lag: usize| 1.0 - (mean_var - mean_acov(lag)) / var_plus;

    // Geyer's initial positive sequence: sum pairs of autocorrelations while the
    // pair sums stay positive, stopping 4 short of n so the last pair can act as
    // a bias term that reduces variance for antithetic chains.
    let mut rho_hat = vec![0.0; n + 2];
    rho_hat[0] = 1.0;
    let (mut even, mut odd) = (1.0, if n > 1 { rho(1) } else { 0.0 });
    rho_hat[1] = odd;
    let mut t = 1;
    while t + 4 < n && even + odd > 0.0 {
        even = rho(t + 1);
        odd = rho(t + 2);
        if even + odd >= 0.0 {
            rho_hat[t + 1] = even;
            rho_hat[t + 2] = odd;
        }
        t += 2;
    }
    let max_t = t;
    if even > 0.0 {
        rho_hat[max_t + 1] = even;
    }
    // Initial monotone sequence: pair sums may not increase.
    let mut t = 1;
    while t + 3 <= max_t {
        let before = rho_hat[t - 1] + rho_hat[t];
        if rho_hat[t + 1] + rho_hat[t + 2] > before {
            rho_hat[t + 1] = before / 2.0;
            rho_hat[t + 2] = before / 2.0;
        }
        t += 2;
    }
    let total = (m * n) as f64;
    let tau = -1.0 + 2.0 * rho_hat[..max_t].iter().sum::<f64>() + rho_hat[max_t + 1];
    Some((total / tau).min(total * total.log10()))
}

/// The standard normal quantile Phi^-1(p), 0 < p < 1: Acklam's rational
/// approximation (relative error 1.15e-9) refined by one Halley step on `normal_cdf`.
fn normal_quantile(p: f64) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn iid_chains(m: usize, n: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..m).map(|_| (0..n).map(|_| rng.sample(StandardNormal)).collect()).collect()
    }

    /// x_t = phi·x_{t-1} + sqrt(1 - phi^2)·eps_t, started from the stationary law.
    fn ar1_chain(n: usize, phi: f64, rng: &mut Xoshiro256PlusPlus) -> Vec<f64> {
        let mut x: f64 = rng.sample(StandardNormal);
        (0..n)
            .map(|_| {
                let eps: f64 = rng.sample(StandardNormal);
                x = phi * x + (1.0 - phi * phi).sqrt() * eps;
                x
            })
            .collect()
    }

    #[test]
    fn iid_chains_have_rhat_near_one_and_ess_near_the_draw_count() {
        for seed in 0..5 {
            let chains = iid_chains(4, 1000, seed);
            let r = split_rhat(&chains).unwrap();
            assert!((r - 1.0).abs() < 0.02, "seed {seed}: R-hat {r}");
            let e = ess(&chains).unwrap();
            assert!((3200.0..4800.0).contains(&e), "seed {seed}: ESS {e} of 4000 iid draws");
        }
    }

    #[test]
    fn chains_with_different_means_have_rhat_above_1_1() {
        let mut chains = iid_chains(4, 500, 9);
        for v in &mut chains[3] {
            *v += 2.0;
        }
        let r = split_rhat(&chains).unwrap();
        assert!(r > 1.1, "R-hat {r}");
    }

    #[test]
    fn a_trend_within_one_chain_raises_rhat() {
        let chains = vec![(0..400).map(|i| i as f64 / 100.0).collect::<Vec<f64>>()];
        assert!(split_rhat(&chains).unwrap() > 1.5);
    }

    #[test]
    fn ar1_chain_ess_is_near_the_theoretical_value() {
        let phi = 0.9;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for chains_n in [1, 4] {
            let n = 20_000 / chains_n;
            let chains: Vec<Vec<f64>> = (0..chains_n).map(|_| ar1_chain(n, phi, &mut rng)).collect();
            let want = 20_000.0 * (1.0 - phi) / (1.0 + phi);
            let e = ess(&chains).unwrap();
            assert!((e / want - 1.0).abs() < 0.3, "{chains_n} chains: ESS {e}, theory {want}");
        }
    }

    #[test]
    fn degenerate_inputs_are_documented_cases() {
        assert_eq!(split_rhat(&[]), None);
        assert_eq!(split_rhat(&[vec![1.0, 2.0, 3.0]]), None);
        assert_eq!(ess(&[vec![1.0, 2.0, 3.0], vec![1.0, 2.0, 3.0, 4.0]]), None);
        assert_eq!(split_rhat(&[vec![1.0, f64::NAN, 3.0, 4.0]]), None);
        let same = vec![vec![2.5; 10], vec![2.5; 10]];
        assert_eq!(split_rhat(&same), Some(1.0));
        assert_eq!(ess(&same), None);
        let stuck = vec![vec![1.0; 100], vec![2.0; 100]];
        assert_eq!(split_rhat(&stuck), Some(f64::INFINITY));
        let e = ess(&stuck).unwrap();
        assert!(e < 5.0, "stuck chains: ESS {e}");
    }

    #[test]
    fn unequal_chains_are_cut_to_the_shortest() {
        let mut chains = iid_chains(2, 200, 4);
        let cut = chains.clone();
        chains[1].extend([100.0, -100.0]);
        assert_eq!(split_rhat(&chains), split_rhat(&cut));
        assert_eq!(ess(&chains), ess(&cut));
    }

    #[test]
    fn ess_is_invariant_to_monotone_transforms() {
        let chains = iid_chains(2, 300, 5);
        let exp: Vec<Vec<f64>> = chains.iter().map(|c| c.iter().map(|v| (3.0 * v).exp()).collect()).collect();
        assert_eq!(ess(&chains), ess(&exp));
    }

    #[test]
    fn normal_quantile_inverts_the_cdf() {
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-13);
        assert!(normal_quantile(0.5).abs() < 1e-15);
        assert!((normal_quantile(0.001) + 3.090232306167813).abs() < 1e-12);
        for p in [1e-10, 0.01, 0.3, 0.7, 0.99, 1.0 - 1e-9] {
            assert!((normal_cdf(normal_quantile(p)) / p - 1.0).abs() < 1e-12, "p = {p}");
        }
    }
}

/// Figures a method reports about its own working (all optional: each method fills
/// what it has), pooled over chains for the snapshot.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MethodDiagnostics {
    /// Divergent transitions (counted over all chains).
    pub divergences: Option<usize>,
    /// Mean tree depth of the draws (mean over chains).
    pub mean_tree_depth: Option<f64>,
    /// Share of draws at the maximum tree depth (mean over chains).
    pub max_depth_share: Option<f64>,
    /// The step size the method adapted to (mean over chains).
    pub adapted_step_size: Option<f64>,
}

impl MethodDiagnostics {
    /// Pool per-chain figures: counts add up, the rest are averaged over the chains
    /// that report them.
    pub fn pool(chains: &[MethodDiagnostics]) -> MethodDiagnostics {
        fn mean(v: impl Iterator<Item = Option<f64>>) -> Option<f64> {
            let v: Vec<f64> = v.flatten().collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        }
        let div: Vec<usize> = chains.iter().filter_map(|c| c.divergences).collect();
        MethodDiagnostics {
            divergences: (!div.is_empty()).then(|| div.iter().sum()),
            mean_tree_depth: mean(chains.iter().map(|c| c.mean_tree_depth)),
            max_depth_share: mean(chains.iter().map(|c| c.max_depth_share)),
            adapted_step_size: mean(chains.iter().map(|c| c.adapted_step_size)),
        }
    }
}

#[cfg(test)]
mod method_diagnostics_tests {
    use super::MethodDiagnostics;

    #[test]
    fn pooling_adds_counts_and_averages_the_rest_over_the_chains_that_have_them() {
        let a = MethodDiagnostics { divergences: Some(2), mean_tree_depth: Some(4.0), ..Default::default() };
        let b = MethodDiagnostics { divergences: Some(1), mean_tree_depth: Some(6.0), adapted_step_size: Some(0.1), ..Default::default() };
        let p = MethodDiagnostics::pool(&[a, b]);
        assert_eq!(p.divergences, Some(3));
        assert_eq!(p.mean_tree_depth, Some(5.0));
        assert_eq!(p.adapted_step_size, Some(0.1));
        assert_eq!(p.max_depth_share, None);
        assert_eq!(MethodDiagnostics::pool(&[]), MethodDiagnostics::default());
    }
}
