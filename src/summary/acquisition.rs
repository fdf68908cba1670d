//! Where to measure next (issue 14): acquisition functions computed from a fit's kept
//! posterior draws on a grid of candidate x, and a batch of suggestions.
//!
//! Each draw d gives the network's mean mu_d(x) and the noise sd sigma_d(x) at every
//! candidate. From them: the posterior mean m(x), the epistemic covariance
//! C(x, x') = cov_d(mu_d(x), mu_d(x')) and the aleatoric variance a(x) = mean_d sigma_d(x)^2.
//! The acquisitions (one row each in [`ACQUISITIONS`]):
//!
//! - `epistemic`: C(x, x), what the model does not know about the mean at x (the default);
//! - `total`: C(x, x) + a(x), the total predictive variance (NeuroBayes's choice), which
//!   with heteroskedastic noise points at the noisiest x;
//! - `infogain`: 0.5 ln(1 + C(x, x) / a(x)), the expected information a Gaussian
//!   observation at x gives about the mean there;
//! - `ucb`: m(x) + kappa sqrt(C(x, x)) (goal max; m(x) - kappa sqrt(C(x, x)) scored as its
//!   negative for goal min), for optimisation;
//! - `ei`: expected improvement of the mean over the best posterior mean at the data,
//!   E[max(f - best, 0)] with f ~ N(m(x), C(x, x)) (goal max; mirrored for min);
//! - `random`: a uniform random score per candidate from the acquisition's seed, the
//!   baseline a learning curve is compared with (it ignores the posterior).
//!
//! A batch of k: after each pick x*, the candidates are scored again as if y had been
//! measured at x* (a Gaussian observation with the noise variance a(x*)): the epistemic
//! covariance is conditioned on it, C <- C - C(., x*) C(x*, .) / (C(x*, x*) + a(x*)), with
//! the mean kept (the "kriging believer"). That lowers the epistemic variance at x* and
//! wherever the draws move together with it, which is the penalty that keeps the picks
//! apart; and no two picks of a batch of k lie closer than (range) / (4k) (where the noise
//! is large, one fantasy measurement lowers the variance only a little).

use std::f64::consts::PI;

use super::metrics::normal_cdf;

/// One acquisition function: its name (CLI `--acquisition`, the URL), its label for the
/// page's picker and what it means, in one row.
#[derive(Clone, Copy, Debug)]
pub struct AcquisitionRow {
    pub kind: AcquisitionKind,
    pub name: &'static str,
    pub label: &'static str,
    pub help: &'static str,
}

/// Which acquisition function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AcquisitionKind {
    Epistemic,
    Total,
    InfoGain,
    Ucb,
    Ei,
    Random,
}

/// The acquisition functions, the default first.
pub const ACQUISITIONS: &[AcquisitionRow] = &[
    AcquisitionRow {
        kind: AcquisitionKind::Epistemic,
        name: "epistemic",
        label: "Epistemic variance (learn the mean)",
        help: "where the posterior is least sure of the mean: a measurement there teaches the model most",
    },
    AcquisitionRow {
        kind: AcquisitionKind::Total,
        name: "total",
        label: "Total variance (NeuroBayes's choice)",
        help: "epistemic + aleatoric variance: with noise that changes with x it points at the noisiest x, where a measurement teaches least",
    },
    AcquisitionRow {
        kind: AcquisitionKind::InfoGain,
        name: "infogain",
        label: "Information gain",
        help: "0.5 ln(1 + epistemic / aleatoric variance): the information one noisy measurement gives about the mean",
    },
    AcquisitionRow {
        kind: AcquisitionKind::Ucb,
        name: "ucb",
        label: "Upper confidence bound (optimise)",
        help: "mean + kappa x epistemic sd (goal max; mean - kappa x sd for goal min): look for the best y",
    },
    AcquisitionRow {
        kind: AcquisitionKind::Ei,
        name: "ei",
        label: "Expected improvement (optimise)",
        help: "the expected gain of the mean over the best mean at the data so far (goal max or min)",
    },
    AcquisitionRow {
        kind: AcquisitionKind::Random,
        name: "random",
        label: "Random (the baseline)",
        help: "any candidate, chosen at random: what a learning curve of the others is measured against",
    },
];

impl AcquisitionKind {
    pub fn row(self) -> &'static AcquisitionRow {
        ACQUISITIONS.iter().find(|r| r.kind == self).expect("every kind has its row")
    }
    pub fn name(self) -> &'static str {
        self.row().name
    }
    pub fn from_name(s: &str) -> Option<AcquisitionKind> {
        ACQUISITIONS.iter().find(|r| r.name == s.trim()).map(|r| r.kind)
    }
    /// The names for help texts and error lists, e.g. "epistemic, total, ... or ei".
    pub fn names(sep: &str, last: &str) -> String {
        crate::config::join_names(&ACQUISITIONS.iter().map(|r| r.name).collect::<Vec<_>>(), sep, last)
    }
}

/// Whether a larger or a smaller y is better (UCB and EI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    Max,
    Min,
}

impl Goal {
    pub fn from_name(s: &str) -> Option<Goal> {
        match s.trim() {
            "max" => Some(Goal::Max),
            "min" => Some(Goal::Min),
            _ => None,
        }
    }
}

/// An acquisition with its settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Acquisition {
    pub kind: AcquisitionKind,
    /// UCB's weight of the sd (default 2).
    pub kappa: f64,
    pub goal: Goal,
    /// EI's incumbent: the best posterior mean at the data's x (for the goal).
    pub best: f64,
    /// Random's seed (the same seed and candidates give the same picks).
    pub seed: u64,
}

impl Acquisition {
    pub fn new(kind: AcquisitionKind) -> Acquisition {
        Acquisition { kind, kappa: 2.0, goal: Goal::Max, best: 0.0, seed: 0 }
    }
}

/// EI's incumbent from the posterior mean at the data's x: the largest (goal max) or
/// the smallest (goal min); 0 without data.
pub fn incumbent(goal: Goal, means: impl IntoIterator<Item = f64>) -> f64 {
    let best = match goal {
        Goal::Max => means.into_iter().fold(f64::NEG_INFINITY, f64::max),
        Goal::Min => means.into_iter().fold(f64::INFINITY, f64::min),
    };
    if best.is_finite() { best } else { 0.0 }
}

/// A uniform number in [0, 1) from (seed, i): splitmix64's finaliser.
fn uniform(seed: u64, i: usize) -> f64 {
    let mut z = seed.wrapping_add((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The posterior over the mean on the candidates, from the draws.
#[derive(Clone, Debug, PartialEq)]
pub struct CandidateMoments {
    pub x: Vec<f64>,
    /// Posterior mean m(x).
    pub mean: Vec<f64>,
    /// Epistemic covariance C, row-major n x n.
    pub cov: Vec<f64>,
    /// Aleatoric variance a(x).
    pub aleatoric: Vec<f64>,
}

impl CandidateMoments {
    /// From draws: `mu[d][i]` and `sigma[d][i]` are draw d's mean and noise sd at `x[i]`.
    /// Needs at least one draw; with one, the epistemic covariance is zero.
    pub fn from_draws(x: &[f64], mu: &[&[f64]], sigma: &[&[f64]]) -> CandidateMoments {
        let (n, d) = (x.len(), mu.len());
        assert!(d > 0 && sigma.len() == d, "draws of mu and sigma");
        assert!(mu.iter().chain(sigma).all(|v| v.len() == n), "one value per candidate");
        let df = d as f64;
        let mean: Vec<f64> = (0..n).map(|i| mu.iter().map(|m| m[i]).sum::<f64>() / df).collect();
        let aleatoric = (0..n).map(|i| sigma.iter().map(|s| s[i] * s[i]).sum::<f64>() / df).collect();
        let centred: Vec<Vec<f64>> = mu.iter().map(|m| m.iter().zip(&mean).map(|(a, b)| a - b).collect()).collect();
        let mut cov = vec![0.0; n * n];
        for c in &centred {
            for i in 0..n {
                let ci = c[i];
                let row = &mut cov[i * n..(i + 1) * n];
                for (r, cj) in row.iter_mut().zip(c) {
                    *r += ci * cj;
                }
            }
        }
        cov.iter_mut().for_each(|v| *v /= df);
        CandidateMoments { x: x.to_vec(), mean, cov, aleatoric }
    }

    /// From the marginal moments alone (a predictive summary's mean and epistemic and
    /// aleatoric sds, as `summary::bands` computes them from the draws): the scores of
    /// every acquisition and so a single pick equal [`CandidateMoments::from_draws`]'s.
    /// The covariance is diagonal, so a batch's later picks do not see the first ones
    /// teach their neighbours: for k > 1 use `from_draws`.
    pub fn from_marginals(x: &[f64], mean: &[f64], sd_epistemic: &[f64], sd_aleatoric: &[f64]) -> CandidateMoments {
        let n = x.len();
        assert!(mean.len() == n && sd_epistemic.len() == n && sd_aleatoric.len() == n, "one value per candidate");
        let mut cov = vec![0.0; n * n];
        for (i, s) in sd_epistemic.iter().enumerate() {
            cov[i * n + i] = s * s;
        }
        CandidateMoments { x: x.to_vec(), mean: mean.to_vec(), cov, aleatoric: sd_aleatoric.iter().map(|s| s * s).collect() }
    }

    fn var(&self, i: usize) -> f64 {
        self.cov[i * self.x.len() + i].max(0.0)
    }

    /// The acquisition's value at every candidate (larger is better).
    pub fn score(&self, acq: &Acquisition) -> Vec<f64> {
        (0..self.x.len())
            .map(|i| {
                let (v, a, m) = (self.var(i), self.aleatoric[i].max(0.0), self.mean[i]);
                match acq.kind {
                    AcquisitionKind::Epistemic => v,
                    AcquisitionKind::Total => v + a,
                    AcquisitionKind::InfoGain => {
                        if a > 0.0 {
                            0.5 * (v / a).ln_1p()
                        } else if v > 0.0 {
                            f64::INFINITY
                        } else {
                            0.0
                        }
                    }
                    AcquisitionKind::Ucb => match acq.goal {
                        Goal::Max => m + acq.kappa * v.sqrt(),
                        Goal::Min => -(m - acq.kappa * v.sqrt()),
                    },
                    AcquisitionKind::Ei => {
                        let gain = match acq.goal {
                            Goal::Max => m - acq.best,
                            Goal::Min => acq.best - m,
                        };
                        expected_improvement(gain, v.sqrt())
                    }
                    AcquisitionKind::Random => uniform(acq.seed, i),
                }
            })
            .collect()
    }

    /// Condition the epistemic covariance on a Gaussian observation at candidate `k`
    /// with the noise variance there (the mean is kept).
    fn observe(&mut self, k: usize) {
        let n = self.x.len();
        let denom = self.var(k) + self.aleatoric[k].max(0.0);
        if denom <= 0.0 {
            return;
        }
        let c: Vec<f64> = (0..n).map(|i| self.cov[i * n + k]).collect();
        for i in 0..n {
            let f = c[i] / denom;
            for j in 0..n {
                self.cov[i * n + j] -= f * c[j];
            }
        }
    }

    /// The `k` next x to measure, best first, each with its acquisition value when it
    /// was picked; fewer when the candidates run out.
    pub fn suggest(&self, acq: &Acquisition, k: usize) -> Vec<(f64, f64)> {
        let n = self.x.len();
        let mut m = self.clone();
        let mut taken = vec![false; n];
        // Picks stay a quarter of the range over k apart (at least one grid step): where
        // the noise is large, one fantasy measurement lowers the variance only a little,
        // and the next pick would otherwise sit right beside it.
        let (lo, hi) = self.x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        let step = if n > 1 { (hi - lo) / (n - 1) as f64 } else { 0.0 };
        let sep = ((hi - lo) / (4.0 * k.max(1) as f64)).max(step * 1.5);
        let mut out = Vec::with_capacity(k);
        for _ in 0..k {
            let s = m.score(acq);
            let Some(best) = (0..n).filter(|&i| !taken[i] && !s[i].is_nan()).max_by(|&a, &b| s[a].total_cmp(&s[b]).then(b.cmp(&a)))
            else {
                break;
            };
            out.push((m.x[best], s[best]));
            let xb = m.x[best];
            for (t, &x) in taken.iter_mut().zip(&self.x) {
                if (x - xb).abs() < sep {
                    *t = true;
                }
            }
            taken[best] = true;
            m.observe(best);
        }
        out
    }
}

/// E[max(f, 0)] for f ~ N(gain, sd^2): gain Phi(z) + sd phi(z), z = gain / sd.
pub fn expected_improvement(gain: f64, sd: f64) -> f64 {
    if sd <= 0.0 {
        return gain.max(0.0);
    }
    let z = gain / sd;
    gain * normal_cdf(z) + sd * (-0.5 * z * z).exp() / (2.0 * PI).sqrt()
}

/// `n` candidates evenly over [lo, hi] (both ends included).
pub fn candidate_grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    match n {
        0 => vec![],
        1 => vec![0.5 * (lo + hi)],
        _ => (0..n).map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Draws mu_d(x) = a_d g(x, c1, h1) + b_d g(x, c2, h2) with a_d, b_d independent
    /// N(0, 1): the epistemic variance is h1^2 at c1 and h2^2 at c2, nearly nothing
    /// between, and the two bumps move independently.
    fn two_bumps(x: &[f64], (c1, h1): (f64, f64), (c2, h2): (f64, f64), sigma: impl Fn(f64) -> f64) -> CandidateMoments {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let g = |x: f64, c: f64| (-(x - c) * (x - c) / (2.0 * 0.05 * 0.05)).exp();
        let draws = 4000;
        let mu: Vec<Vec<f64>> = (0..draws)
            .map(|_| {
                let (a, b): (f64, f64) = (rng.sample(StandardNormal), rng.sample(StandardNormal));
                x.iter().map(|&v| 1.0 + a * h1 * g(v, c1) + b * h2 * g(v, c2)).collect()
            })
            .collect();
        let sd: Vec<Vec<f64>> = (0..draws).map(|_| x.iter().map(|&v| sigma(v)).collect()).collect();
        let mu_r: Vec<&[f64]> = mu.iter().map(|v| v.as_slice()).collect();
        let sd_r: Vec<&[f64]> = sd.iter().map(|v| v.as_slice()).collect();
        CandidateMoments::from_draws(x, &mu_r, &sd_r)
    }

    fn argmax(v: &[f64]) -> usize {
        (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap()
    }

    #[test]
    fn moments_are_the_draws_mean_covariance_and_mean_noise_variance() {
        let x = [0.0, 1.0];
        let (m1, m2) = ([1.0, 2.0], [3.0, 0.0]);
        let (s1, s2) = ([1.0, 2.0], [3.0, 4.0]);
        let m = CandidateMoments::from_draws(&x, &[&m1, &m2], &[&s1, &s2]);
        assert_eq!(m.mean, vec![2.0, 1.0]);
        // centred: (-1, 1) and (1, -1): variances 1, covariance -1
        assert_eq!(m.cov, vec![1.0, -1.0, -1.0, 1.0]);
        assert_eq!(m.aleatoric, vec![5.0, 10.0]);
    }

    #[test]
    fn every_acquisition_but_total_avoids_the_noisy_region() {
        // Bump 1 at 0.2 (epistemic sd 1) where the noise is low; bump 2 at 0.7 (sd 0.9)
        // under a noise bump (sd 2.1): total variance points at the noise.
        let x = candidate_grid(0.0, 1.0, 201);
        let noise = |v: f64| 0.1 + 2.0 * (-(v - 0.7) * (v - 0.7) / (2.0 * 0.08 * 0.08)).exp();
        let m = two_bumps(&x, (0.2, 1.0), (0.7, 0.9), noise);
        let at = |kind| x[argmax(&m.score(&Acquisition::new(kind)))];
        assert!((at(AcquisitionKind::Epistemic) - 0.2).abs() < 0.011);
        assert!((at(AcquisitionKind::InfoGain) - 0.2).abs() < 0.011);
        assert!((at(AcquisitionKind::Total) - 0.7).abs() < 0.02, "total variance goes for the noise");
    }

    #[test]
    fn a_batch_visits_both_gaps_once_each() {
        let x = candidate_grid(0.0, 1.0, 201);
        let m = two_bumps(&x, (0.2, 1.0), (0.7, 0.9), |_| 0.05);
        let picks = m.suggest(&Acquisition::new(AcquisitionKind::Epistemic), 2);
        assert!((picks[0].0 - 0.2).abs() < 0.011, "{picks:?}");
        assert!((picks[1].0 - 0.7).abs() < 0.011, "the second pick goes to the other gap: {picks:?}");
        // Under heavy noise at the one gap, the batch still spreads: at least range / 4k apart.
        let noisy = two_bumps(&x, (0.2, 1.0), (0.7, 0.05), |v| if (v - 0.2).abs() < 0.1 { 3.0 } else { 0.05 });
        let picks = noisy.suggest(&Acquisition::new(AcquisitionKind::Epistemic), 4);
        for (i, a) in picks.iter().enumerate() {
            for b in &picks[i + 1..] {
                assert!((a.0 - b.0).abs() >= 1.0 / 16.0 - 1e-12, "{picks:?}");
            }
        }
        // Observing at 0.2 with noise sd 0.05 leaves var 1 * 0.05^2 / (1 + 0.05^2) there.
        let mut after = m.clone();
        let k = x.iter().position(|&v| (v - picks[0].0).abs() < 1e-12).unwrap();
        let before = after.var(k);
        after.observe(k);
        let expect = before * 0.0025 / (before + 0.0025);
        assert!((after.var(k) - expect).abs() < 1e-9, "{} vs {expect}", after.var(k));
    }

    #[test]
    fn expected_improvement_matches_quadrature() {
        for (gain, sd) in [(0.0, 1.0), (0.5, 0.3), (-1.0, 0.5), (2.0, 4.0), (-3.0, 1.0)] {
            // E[max(f, 0)], f ~ N(gain, sd^2), by the midpoint rule over +-12 sd.
            let k = 200_000;
            let (lo, hi) = (gain - 12.0 * sd, gain + 12.0 * sd);
            let h = (hi - lo) / k as f64;
            let q: f64 = (0..k)
                .map(|i| {
                    let f = lo + (i as f64 + 0.5) * h;
                    let z = (f - gain) / sd;
                    f.max(0.0) * (-0.5 * z * z).exp() / (sd * (2.0 * PI).sqrt()) * h
                })
                .sum();
            let ei = expected_improvement(gain, sd);
            assert!((ei - q).abs() < 1e-6 * (1.0 + q), "gain {gain} sd {sd}: {ei} vs {q}");
        }
        assert_eq!(expected_improvement(0.7, 0.0), 0.7);
        assert_eq!(expected_improvement(-0.7, 0.0), 0.0);
    }

    #[test]
    fn ucb_and_ei_follow_the_goal() {
        // Three candidates: mean 0, 1, 0.5 and epistemic sd 1, 0.1, 0.6.
        let x = [0.0, 1.0, 2.0];
        let sds = [1.0, 0.1, 0.6];
        let means = [0.0, 1.0, 0.5];
        let z = [1.0, -1.0];
        let mu: Vec<Vec<f64>> = z.iter().map(|s| (0..3).map(|i| means[i] + s * sds[i]).collect()).collect();
        let sig = vec![vec![0.1; 3]; 2];
        let m = CandidateMoments::from_draws(&x, &[&mu[0], &mu[1]], &[&sig[0], &sig[1]]);
        let ucb = |goal, kappa| {
            let a = Acquisition { kappa, goal, ..Acquisition::new(AcquisitionKind::Ucb) };
            x[argmax(&m.score(&a))]
        };
        // max: 0 + 2 = 2 beats 1 + 0.2 and 0.5 + 1.2; with kappa 0.1 the mean wins.
        assert_eq!(ucb(Goal::Max, 2.0), 0.0);
        assert_eq!(ucb(Goal::Max, 0.1), 1.0);
        // min: 0 - 2 is the lowest bound.
        assert_eq!(ucb(Goal::Min, 2.0), 0.0);
        let ei = Acquisition { best: 1.0, ..Acquisition::new(AcquisitionKind::Ei) };
        let s = m.score(&ei);
        assert!((s[1] - expected_improvement(0.0, 0.1)).abs() < 1e-12);
        assert!((s[0] - expected_improvement(-1.0, 1.0)).abs() < 1e-12);
        let ei_min = Acquisition { goal: Goal::Min, best: 0.0, ..ei };
        assert!((m.score(&ei_min)[1] - expected_improvement(-1.0, 0.1)).abs() < 1e-12);
    }

    #[test]
    fn marginal_moments_score_as_the_draws_do() {
        let x = candidate_grid(0.0, 1.0, 41);
        let m = two_bumps(&x, (0.2, 0.3), (0.7, 0.1), |v| 0.05 + 0.4 * v);
        let sd_e: Vec<f64> = (0..x.len()).map(|i| m.var(i).sqrt()).collect();
        let sd_a: Vec<f64> = m.aleatoric.iter().map(|a| a.sqrt()).collect();
        let d = CandidateMoments::from_marginals(&x, &m.mean, &sd_e, &sd_a);
        for r in ACQUISITIONS {
            let acq = Acquisition { best: 1.0, seed: 3, ..Acquisition::new(r.kind) };
            for (a, b) in d.score(&acq).iter().zip(m.score(&acq)) {
                assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{}: {a} vs {b}", r.name);
            }
            let (a, b) = (d.suggest(&acq, 1)[0], m.suggest(&acq, 1)[0]);
            assert!(a.0 == b.0 && (a.1 - b.1).abs() <= 1e-12 * b.1.abs().max(1.0), "{}: {a:?} vs {b:?}", r.name);
        }
    }

    #[test]
    fn random_picks_spread_over_the_candidates_and_follow_the_seed() {
        let x = candidate_grid(0.0, 1.0, 100);
        let m = two_bumps(&x, (0.2, 0.3), (0.7, 0.1), |_| 0.1);
        let pick = |seed| m.suggest(&Acquisition { seed, ..Acquisition::new(AcquisitionKind::Random) }, 1)[0].0;
        assert_eq!(pick(7), pick(7));
        let picks: Vec<f64> = (0..400).map(pick).collect();
        // Uniform over the candidates: a quarter of them in each quarter of the range.
        for q in 0..4 {
            let lo = q as f64 * 0.25;
            let k = picks.iter().filter(|&&p| p >= lo && p < lo + 0.25).count();
            assert!((60..=140).contains(&k), "quarter {q}: {k} of 400");
        }
        // It ignores the posterior: the epistemic variance is largest at 0.2, where a
        // tenth of the candidates lie (about 40 picks of 400 by chance).
        let near = picks.iter().filter(|&&p| (p - 0.2).abs() < 0.05).count();
        assert!(near < 80, "{near} of 400 within 0.05 of the variance peak");
        assert_eq!(incumbent(Goal::Max, [1.0, 3.0, 2.0]), 3.0);
        assert_eq!(incumbent(Goal::Min, [1.0, 3.0, 2.0]), 1.0);
        assert_eq!(incumbent(Goal::Min, []), 0.0);
    }

    #[test]
    fn names_round_trip_and_the_default_comes_first() {
        assert_eq!(ACQUISITIONS[0].kind, AcquisitionKind::Epistemic);
        for r in ACQUISITIONS {
            assert_eq!(AcquisitionKind::from_name(r.name), Some(r.kind));
            assert_eq!(r.kind.row().name, r.name);
        }
        assert_eq!(AcquisitionKind::names(", ", " or "), "epistemic, total, infogain, ucb, ei or random");
        assert_eq!(AcquisitionKind::from_name("expp"), None);
    }
}
