//! Convergence diagnostics of MCMC draws: split R-hat and bulk effective sample size.
//!
//! Both take one vector of draws per chain. Chains of unequal length are cut to the
//! shortest (each keeps its last draws); every chain is split into halves (the middle draw of an odd length is
//! dropped) so that a trend within a chain shows up as disagreement between halves.

use super::metrics::normal_quantile;

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
    if n < MIN_DRAWS || chains.iter().any(|c| c[c.len() - n..].iter().any(|v| !v.is_finite())) {
        return None;
    }
    let half = n / 2;
    // Each chain's last n draws: a chain that started later (restarted) is compared with
    // the others' draws of the same time.
    Some(
        chains
            .iter()
            .map(|c| &c[c.len() - n..])
            .flat_map(|c| [&c[..half], &c[n - half..n]])
            .collect(),
    )
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
    fn chains_of_unequal_length_are_compared_on_their_last_draws() {
        // One chain drew 300 more before the same 500 a restarted chain drew: its first
        // 300 sat elsewhere (where it was stuck). Compared on their last 500 they agree.
        let mut chains = iid_chains(2, 500, 4);
        let early: Vec<f64> = (0..300).map(|i| 5.0 + 0.001 * i as f64).collect();
        chains[0].splice(0..0, early);
        let r = split_rhat(&chains).unwrap();
        assert!((r - 1.0).abs() < 0.02, "R-hat {r}");
        // The same chain cut to its first 500 would not.
        let first = vec![chains[0][..500].to_vec(), chains[1].clone()];
        assert!(split_rhat(&first).unwrap() > 1.5);
        assert_eq!(ess(&chains), ess(&[chains[0][300..].to_vec(), chains[1].clone()]));
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

    /// What R-hat <= 1.05 asks of a fit of 2 chains x 300 draws (README, "Convergence at
    /// the defaults"): chains drawn from the posterior itself, only correlated, exceed it
    /// often when their ESS is low. AR(1) chains with a theoretical ESS of 20 over the 600
    /// draws exceed 1.05 on about 2 in 3 replicates (numpy, 4000 replicates: 0.68), at an
    /// ESS of 320 on none of 4000. The same ESS estimator reads the chains' ESS.
    #[test]
    fn stationary_chains_with_a_low_ess_often_show_an_rhat_above_1_05() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let mut share = |ess_want: f64| {
            let phi = (600.0 / ess_want - 1.0) / (600.0 / ess_want + 1.0);
            let (mut over, mut ess_sum) = (0, 0.0);
            for _ in 0..300 {
                let chains: Vec<Vec<f64>> = (0..2).map(|_| ar1_chain(300, phi, &mut rng)).collect();
                over += usize::from(split_rhat(&chains).unwrap() > 1.05);
                ess_sum += ess(&chains).unwrap();
            }
            (over as f64 / 300.0, ess_sum / 300.0)
        };
        let (low, low_ess) = share(20.0);
        assert!((0.5..0.85).contains(&low), "ESS 20: R-hat > 1.05 on {low} of replicates");
        assert!((10.0..40.0).contains(&low_ess), "ESS 20 read as {low_ess}");
        let (high, high_ess) = share(320.0);
        assert!(high <= 0.01, "ESS 320: R-hat > 1.05 on {high} of replicates");
        assert!((220.0..420.0).contains(&high_ess), "ESS 320 read as {high_ess}");
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
    fn unequal_chains_are_cut_to_the_shortest_keeping_their_last_draws() {
        let mut chains = iid_chains(2, 200, 4);
        let cut = chains.clone();
        chains[1].splice(0..0, [100.0, -100.0]);
        assert_eq!(split_rhat(&chains), split_rhat(&cut));
        assert_eq!(ess(&chains), ess(&cut));
    }

    #[test]
    fn ess_is_invariant_to_monotone_transforms() {
        let chains = iid_chains(2, 300, 5);
        let exp: Vec<Vec<f64>> = chains.iter().map(|c| c.iter().map(|v| (3.0 * v).exp()).collect()).collect();
        assert_eq!(ess(&chains), ess(&exp));
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
    /// Where in x (data units) the divergences happened, where it could be told (all
    /// chains; see [`divergence_where`]).
    pub divergence_x: Vec<f64>,
    /// Each chain's divergences, in chain order (pooled figures only: [`Self::pool`]
    /// keeps the counts it adds up), so a chain that holds most of them shows.
    pub chain_divergences: Vec<usize>,
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
            divergences: (!div.is_empty()).then(|| div.iter().sum::<usize>()),
            mean_tree_depth: mean(chains.iter().map(|c| c.mean_tree_depth)),
            max_depth_share: mean(chains.iter().map(|c| c.max_depth_share)),
            adapted_step_size: mean(chains.iter().map(|c| c.adapted_step_size)),
            divergence_x: chains.iter().flat_map(|c| c.divergence_x.iter().copied()).collect(),
            chain_divergences: div,
        }
    }
}

/// Where in x divergences happened, in words: the quarter of the data's x range
/// `[lo, hi]` that holds most of them when it holds at least half, else "spread over the
/// x range". `None` without any located divergence.
pub fn divergence_where(xs: &[f64], lo: f64, hi: f64) -> Option<String> {
    let xs: Vec<f64> = xs.iter().copied().filter(|v| v.is_finite()).collect();
    if xs.is_empty() || !(hi > lo) {
        return None;
    }
    let w = (hi - lo) / 4.0;
    let mut counts = [0usize; 4];
    for &x in &xs {
        counts[(((x - lo) / w).floor().max(0.0) as usize).min(3)] += 1;
    }
    let (q, &top) = counts
        .iter()
        .enumerate()
        .max_by_key(|&(i, c)| (*c, std::cmp::Reverse(i)))
        .expect("four bins");
    let share = top as f64 / xs.len() as f64;
    Some(if share >= 0.5 {
        let a = lo + w * q as f64;
        // Three significant digits of the range's scale, trailing zeros dropped.
        let digits = (2 - (hi - lo).abs().log10().floor() as i32).clamp(0, 12) as usize;
        let short = |v: f64| {
            let s = format!("{v:.digits$}");
            let s = if s.contains('.') {
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                s
            };
            if s == "-0" {
                "0".to_string()
            } else {
                s
            }
        };
        format!(
            "{:.0}% of them at x between {} and {}",
            100.0 * share,
            short(a),
            short(a + w)
        )
    } else {
        "spread over the x range".to_string()
    })
}


#[cfg(test)]
mod method_diagnostics_tests {
    use super::MethodDiagnostics;

    #[test]
    fn pooling_adds_counts_and_averages_the_rest_over_the_chains_that_have_them() {
        let a = MethodDiagnostics {
            divergences: Some(2),
            mean_tree_depth: Some(4.0),
            ..Default::default()
        };
        let b = MethodDiagnostics {
            divergences: Some(1),
            mean_tree_depth: Some(6.0),
            adapted_step_size: Some(0.1),
            ..Default::default()
        };
        let p = MethodDiagnostics::pool(&[a, b]);
        assert_eq!(p.divergences, Some(3));
        assert_eq!(p.chain_divergences, vec![2, 1]);
        assert_eq!(p.mean_tree_depth, Some(5.0));
        assert_eq!(p.adapted_step_size, Some(0.1));
        assert_eq!(p.max_depth_share, None);
        assert_eq!(MethodDiagnostics::pool(&[]), MethodDiagnostics::default());
        let c = MethodDiagnostics {
            divergence_x: vec![1.0, 2.0],
            ..Default::default()
        };
        let d = MethodDiagnostics {
            divergence_x: vec![3.0],
            ..Default::default()
        };
        assert_eq!(
            MethodDiagnostics::pool(&[c, d]).divergence_x,
            vec![1.0, 2.0, 3.0]
        );
    }

    #[test]
    fn divergence_where_names_the_quarter_that_holds_most_of_them() {
        use super::divergence_where;
        // 3 of 4 in the last quarter of [0, 4].
        assert_eq!(
            divergence_where(&[3.5, 3.9, 4.0, 0.2], 0.0, 4.0).unwrap(),
            "75% of them at x between 3 and 4"
        );
        // Two of four in the first quarter: half is enough.
        assert_eq!(
            divergence_where(&[0.1, 0.2, 2.5, 3.5], 0.0, 4.0).unwrap(),
            "50% of them at x between 0 and 1"
        );
        assert_eq!(
            divergence_where(&[0.1, 1.5, 2.5, 3.5, 3.6, 1.1], 0.0, 4.0).unwrap(),
            "spread over the x range"
        );
        // Outside the range (a grid beyond the data) counts in the nearest quarter; NaN is ignored.
        assert_eq!(
            divergence_where(&[-1.0, f64::NAN], 0.0, 4.0).unwrap(),
            "100% of them at x between 0 and 1"
        );
        assert_eq!(divergence_where(&[], 0.0, 4.0), None);
        assert_eq!(divergence_where(&[1.0], 2.0, 2.0), None);
    }
}

// ---------------------------------------------------------------------------
// Warnings that mean something (issue 11): a warning fires when the answer is
// unreliable, not on every neural-network posterior.
// ---------------------------------------------------------------------------

/// Split R-hat above this for a noise parameter earns a warning.
pub const THETA_RHAT_WARN: f64 = 1.05;
/// A chain whose mean curve differs from the pooled mean by more than this many pooled
/// predictive sds (averaged over the data's x range) earns a warning: on the plot the
/// chains' curves would visibly part inside the band.
pub const CHAIN_SPREAD_WARN: f64 = 0.25;
/// A loss whose mean in the last quarter of the kept phase differs from the first
/// quarter's by more than this many sds of the phase's loss earns a warning (a steady
/// chain gives well under 1; a pure linear drift gives 2.6).
pub const LOSS_TREND_WARN: f64 = 1.5;
/// A chain whose epistemic band (sd of the mean over its own draws) is narrower than
/// this share of the pooled band's, averaged over the data's x range, earns a warning.
/// The pooled band is wider than each chain's when the chains sit apart (two chains of
/// band s whose means differ by d pool to sqrt(s^2 + d^2/4): 0.8 is d = 1.5 s, the
/// chains' mean curves a band and a half apart) or when one barely moved (a stuck
/// chain, e.g. a NUTS chain whose step size collapsed, is far below 1). Healthy default
/// fits measure 0.90-0.99 (`benches/warnings.sh`, README).
pub const CHAIN_BAND_WARN: f64 = 0.8;

/// For each chain, the mean over the grid points flagged `inside` of
/// |chain mean − pooled mean| / pooled sd_total; the largest over the chains. `None`
/// with fewer than two chains or no usable point.
pub fn chain_spread(chain_means: &[Vec<f64>], mean: &[f64], sd_total: &[f64], inside: &[bool]) -> Option<f64> {
    let d = |c: &[f64], i: usize| (c[i] - mean[i]).abs() / sd_total[i];
    per_chain_mean_inside(chain_means, inside, d, mean.len().min(sd_total.len())).reduce(f64::max)
}

/// For each chain, the mean over the grid points flagged `inside` of its own epistemic
/// sd / the pooled epistemic sd; the smallest over the chains (the narrowest chain's
/// band as a share of the pooled one's). `None` with fewer than two chains or no usable
/// point (a pooled sd of 0 has no share).
pub fn chain_band(chain_sd: &[Vec<f64>], pooled_sd: &[f64], inside: &[bool]) -> Option<f64> {
    let share = |c: &[f64], i: usize| if pooled_sd[i] > 0.0 { c[i] / pooled_sd[i] } else { f64::NAN };
    per_chain_mean_inside(chain_sd, inside, share, pooled_sd.len()).reduce(f64::min)
}

/// With two chains or more: for each chain `c` (a value per grid point), the mean of the
/// finite `f(c, i)` over the points `i < len` flagged `inside`; chains without such a
/// point are left out. Nothing with fewer than two chains.
fn per_chain_mean_inside<'a>(
    chains: &'a [Vec<f64>],
    inside: &'a [bool],
    f: impl Fn(&[f64], usize) -> f64 + 'a,
    len: usize,
) -> impl Iterator<Item = f64> + 'a {
    chains.iter().filter(move |_| chains.len() >= 2).filter_map(move |c| {
        let n = len.min(c.len()).min(inside.len());
        let v: Vec<f64> = (0..n).filter(|&i| inside[i]).map(|i| f(c, i)).filter(|d| d.is_finite()).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    })
}

/// The loss's trend over a phase: (mean of its last quarter − mean of its first
/// quarter) / sd of all its values. `None` with fewer than 8 values or no spread.
pub fn loss_trend(losses: &[f64]) -> Option<f64> {
    let v: Vec<f64> = losses.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 8 {
        return None;
    }
    let q = v.len() / 4;
    let m = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let all = m(&v);
    let sd = (v.iter().map(|x| (x - all).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    (sd > 0.0).then(|| (m(&v[v.len() - q..]) - m(&v[..q])) / sd)
}

/// What the reliability checks read from a finished fit.
pub struct Reliability<'a> {
    /// (name, split R-hat) of each noise parameter.
    pub theta_rhat: &'a [(String, Option<f64>)],
    /// [`chain_spread`] of the fit.
    pub chain_spread: Option<f64>,
    /// [`loss_trend`] over the kept phase.
    pub loss_trend: Option<f64>,
    /// [`chain_band`] of the fit.
    pub chain_band: Option<f64>,
    /// How to give this method more time, in the page's words (its registry row's
    /// `longer`: "train longer (more Steps)", NUTS's "draw more (more Draws kept / chain)").
    pub longer: &'a str,
}

/// The warnings of a finished fit, each worded so a student knows what to do.
pub fn reliability_warnings(r: &Reliability) -> Vec<String> {
    let mut w = Vec::new();
    let bad: Vec<(&str, f64)> = r
        .theta_rhat
        .iter()
        .filter_map(|(n, v)| v.filter(|&v| v > THETA_RHAT_WARN).map(|v| (n.as_str(), v)))
        .collect();
    if !bad.is_empty() {
        let names = bad.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
        let vals = bad.iter().map(|(_, v)| format!("{v:.3}")).collect::<Vec<_>>().join(", ");
        let (s, its) = if bad.len() == 1 { ("", "its interval is") } else { ("s", "their intervals are") };
        w.push(format!(
            "the chains disagree on the noise parameter{s} {names} (R-hat {vals} > {THETA_RHAT_WARN}): {its} \
             not reliable yet; {} or run more Chains",
            r.longer
        ));
    }
    if let Some(d) = r.chain_spread.filter(|&d| d > CHAIN_SPREAD_WARN) {
        w.push(format!(
            "the chains found different mean curves (a chain's differs from the pooled mean by {d:.2} predictive \
             sd on average): the bands mix them; {} or run more Chains",
            r.longer
        ));
    }
    if let Some(b) = r.chain_band.filter(|&b| b < CHAIN_BAND_WARN) {
        w.push(format!(
            "the chains disagree on the bands (a chain's band of the mean is {b:.2} of the pooled band's width: \
             they explored different parts of the posterior, or one barely moved): the bands are not reliable \
             yet; {} or run more Chains",
            r.longer
        ));
    }
    if let Some(t) = r.loss_trend.filter(|t| t.abs() > LOSS_TREND_WARN) {
        let dir = if t > 0.0 { "rose" } else { "fell" };
        w.push(format!(
            "the loss still {dir} over the kept draws: the chains had not settled, so the bands may still \
             change; {}",
            r.longer
        ));
    }
    w
}

#[cfg(test)]
mod reliability_tests {
    use super::*;

    #[test]
    fn chain_spread_is_the_worst_chains_mean_distance_in_predictive_sds_inside_the_range() {
        let mean = vec![0.0; 4];
        let sd = vec![1.0, 1.0, 2.0, 1.0];
        let inside = vec![true, true, true, false];
        // Chain a: 0.5 sd off everywhere inside (the last point, outside, is ignored).
        let a = vec![0.5, -0.5, 1.0, 100.0];
        let b = vec![-0.1, 0.1, -0.2, 0.0];
        assert!((chain_spread(&[a.clone(), b.clone()], &mean, &sd, &inside).unwrap() - 0.5).abs() < 1e-12);
        assert!((chain_spread(&[b.clone(), b.clone()], &mean, &sd, &inside).unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(chain_spread(&[a], &mean, &sd, &inside), None, "one chain has nothing to disagree with");
    }

    #[test]
    fn chain_band_is_the_narrowest_chains_share_of_the_pooled_band_inside_the_range() {
        let pooled = vec![1.0, 2.0, 0.0, 1.0];
        let inside = vec![true, true, true, false];
        // a: half the pooled band at the first two points (the third has no pooled
        // width, the fourth is outside).
        let a = vec![0.5, 1.0, 3.0, 0.0];
        let b = vec![1.0, 2.0, 3.0, 0.0];
        assert!((chain_band(&[a.clone(), b.clone()], &pooled, &inside).unwrap() - 0.5).abs() < 1e-12);
        assert!((chain_band(&[b.clone(), b.clone()], &pooled, &inside).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(chain_band(&[a], &pooled, &inside), None, "one chain has no other to rest on");
        assert_eq!(chain_band(&[vec![1.0; 4], vec![1.0; 4]], &[0.0; 4], &inside), None);
    }

    /// From draws: two chains from the same distribution keep bands near the pooled
    /// one's; a chain that stays put (a stuck sampler) is flagged, whatever the other does.
    #[test]
    fn chain_band_flags_a_stuck_chain_of_draws_and_not_two_healthy_ones() {
        use crate::summary::bands::{bands, DrawPrediction};
        use rand::SeedableRng;
        use rand_distr::{Distribution, Normal};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let grid = [0.0, 1.0, 2.0];
        let inside = [true; 3];
        let draw = |rng: &mut rand_xoshiro::Xoshiro256PlusPlus, s: f64| DrawPrediction {
            mu: grid.iter().map(|&x| x + s * Normal::new(0.0, 1.0 + x).unwrap().sample(rng)).collect(),
            sigma: vec![0.1; 3],
            theta: vec![],
        };
        let share = |chains: &[Vec<DrawPrediction>]| {
            let all: Vec<&DrawPrediction> = chains.iter().flatten().collect();
            let pooled = bands(&grid, &all).sd_epistemic;
            let sd: Vec<Vec<f64>> =
                chains.iter().map(|c| bands(&grid, &c.iter().collect::<Vec<_>>()).sd_epistemic).collect();
            chain_band(&sd, &pooled, &inside).unwrap()
        };
        let healthy: Vec<Vec<DrawPrediction>> = (0..2).map(|_| (0..300).map(|_| draw(&mut rng, 1.0)).collect()).collect();
        let h = share(&healthy);
        assert!(h > 0.85 && h < 1.05, "two healthy chains: {h}");
        assert!(h >= CHAIN_BAND_WARN);
        let stuck: Vec<DrawPrediction> = (0..300).map(|_| draw(&mut rng, 0.05)).collect();
        let s = share(&[healthy[0].clone(), stuck]);
        assert!(s < 0.1, "a chain that stays put: {s}");
        // Two chains of the same band whose means sit two bands apart pool to
        // sqrt(1 + 1) of it: 0.71.
        let apart: Vec<DrawPrediction> = healthy[1]
            .iter()
            .map(|d| DrawPrediction {
                mu: d.mu.iter().zip(&grid).map(|(m, &x)| m + 2.0 * (1.0 + x)).collect(),
                ..d.clone()
            })
            .collect();
        let a = share(&[healthy[0].clone(), apart]);
        assert!((a - 0.71).abs() < 0.05 && a < CHAIN_BAND_WARN, "chains apart: {a}");
    }

    #[test]
    fn loss_trend_separates_a_drift_from_a_steady_noisy_loss() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let steady: Vec<f64> = (0..400).map(|_| rng.random::<f64>()).collect();
        assert!(loss_trend(&steady).unwrap().abs() < 0.5, "{:?}", loss_trend(&steady));
        let drift: Vec<f64> = (0..400).map(|i| i as f64 / 400.0).collect();
        let t = loss_trend(&drift).unwrap();
        assert!((t - 2.6).abs() < 0.05, "a pure linear drift gives 0.75 / sqrt(1/12) = 2.6, got {t}");
        let falling: Vec<f64> = drift.iter().map(|v| -v).collect();
        assert!(loss_trend(&falling).unwrap() < -2.5);
        assert_eq!(loss_trend(&[1.0; 7]), None);
        assert_eq!(loss_trend(&[1.0; 20]), None, "no spread, no trend");
    }

    #[test]
    fn warnings_fire_only_past_their_thresholds_and_say_what_to_do() {
        let ok = [("a".to_string(), Some(1.02)), ("b".to_string(), None)];
        let longer = "train longer (more Steps)";
        let r = Reliability {
            theta_rhat: &ok,
            chain_spread: Some(0.1),
            loss_trend: Some(0.9),
            chain_band: Some(0.85),
            longer,
        };
        assert!(reliability_warnings(&r).is_empty());
        let bad = [("a".to_string(), Some(1.2)), ("b".to_string(), Some(1.055))];
        let r = Reliability {
            theta_rhat: &bad,
            chain_spread: Some(0.4),
            loss_trend: Some(-2.0),
            chain_band: Some(0.3),
            longer,
        };
        let w = reliability_warnings(&r);
        assert_eq!(w.len(), 4, "{w:?}");
        assert!(w[0].contains("noise parameters a, b (R-hat 1.200, 1.055 > 1.05)") && w[0].contains("train longer"), "{}", w[0]);
        assert!(w[1].contains("0.40 predictive sd"), "{}", w[1]);
        assert!(w[2].contains("0.30 of the pooled band") && w[2].contains("disagree on the bands"), "{}", w[2]);
        assert!(w[3].contains("fell"), "{}", w[3]);
        let nuts = crate::config::Method::Nuts.spec().longer;
        let w = reliability_warnings(&Reliability { longer: nuts, ..r });
        assert!(w.iter().all(|w| w.contains("more Draws") && !w.contains("Steps")), "{w:?}");
    }
}
