//! Step-size diagnostic: the Metropolis-Hastings acceptance probability that each
//! Langevin move would have had as a MALA proposal (Roberts & Tweedie 1996).
//!
//! The samplers do not accept or reject (SG-MCMC never does), but the acceptance
//! probability measures their discretisation error at no extra gradient cost: the
//! next step evaluates the log posterior and its gradient at the new point anyway.
//! With a well-sized step it stays high; a step several times too large drives it
//! towards zero long before the loss explodes.

/// One Langevin move theta -> theta' = theta + eps/2 G g + sqrt(eps G) xi, remembered
/// until the log posterior and gradient at theta' are known.
#[derive(Clone, Debug, Default)]
pub struct MalaMonitor {
    theta: Vec<f64>,
    grad: Vec<f64>,
    log_post: f64,
    eps: f64,
    /// The diagonal preconditioner of the move (empty = identity).
    pre: Vec<f64>,
    /// 1 / (2 eps G_i), kept while eps and G stay the same (a frozen pSGLD
    /// preconditioner and a constant step: the usual case), so scoring a move is
    /// multiply-adds only.
    inv_two_var: Vec<f64>,
    pending: bool,
    /// Running mean of the acceptance probability and how many moves it covers.
    pub mean_accept: f64,
    pub moves: usize,
}

impl MalaMonitor {
    /// Remember a move about to be made from `theta` (with its log posterior and
    /// gradient) with step `eps` and preconditioner `pre`.
    pub fn before_move(&mut self, theta: &[f64], grad: &[f64], log_post: f64, eps: f64, pre: Option<&[f64]>) {
        self.theta.clear();
        self.theta.extend_from_slice(theta);
        self.grad.clear();
        self.grad.extend_from_slice(grad);
        self.log_post = log_post;
        let pre = pre.unwrap_or(&[]);
        if eps != self.eps || self.pre != pre || self.inv_two_var.len() != theta.len() {
            self.eps = eps;
            self.pre.clear();
            self.pre.extend_from_slice(pre);
            self.inv_two_var.clear();
            let g = |i: usize| if self.pre.is_empty() { 1.0 } else { self.pre[i] };
            self.inv_two_var.extend((0..theta.len()).map(|i| 1.0 / (2.0 * eps * g(i))));
        }
        self.pending = true;
    }

    /// Score the remembered move now that the new point's log posterior and gradient are known.
    pub fn after_move(&mut self, theta_new: &[f64], grad_new: &[f64], log_post_new: f64) -> Option<f64> {
        if !self.pending {
            return None;
        }
        self.pending = false;
        let half = 0.5 * self.eps;
        let mut fwd = 0.0; // log q(new | old), up to the shared normalising constant
        let mut bwd = 0.0; // log q(old | new)
        for i in 0..theta_new.len() {
            let hg = if self.pre.is_empty() { half } else { half * self.pre[i] };
            let step = theta_new[i] - self.theta[i];
            let a = step - hg * self.grad[i];
            let b = -step - hg * grad_new[i];
            fwd -= a * a * self.inv_two_var[i];
            bwd -= b * b * self.inv_two_var[i];
        }
        let log_alpha = log_post_new - self.log_post + bwd - fwd;
        let accept = if log_alpha.is_nan() { 0.0 } else { log_alpha.min(0.0).exp() };
        self.moves += 1;
        self.mean_accept += (accept - self.mean_accept) / self.moves as f64;
        Some(accept)
    }

    pub fn reset(&mut self) {
        self.pending = false;
        self.mean_accept = 0.0;
        self.moves = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Langevin on a standard normal in `d` dimensions with step eps; mean acceptance.
    fn acceptance(d: usize, eps: f64) -> f64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut th: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
        let lp = |t: &[f64]| -0.5 * t.iter().map(|v| v * v).sum::<f64>();
        let mut m = MalaMonitor::default();
        for _ in 0..2000 {
            let g: Vec<f64> = th.iter().map(|v| -v).collect();
            m.after_move(&th, &g, lp(&th));
            m.before_move(&th, &g, lp(&th), eps, None);
            for (t, gi) in th.iter_mut().zip(&g) {
                *t += 0.5 * eps * gi + eps.sqrt() * rng.sample::<f64, _>(StandardNormal);
            }
        }
        m.mean_accept
    }

    #[test]
    fn acceptance_is_near_one_for_small_steps_and_falls_as_the_step_grows() {
        // For a Gaussian target MALA's acceptance falls like exp(-c eps^3 d) for small
        // steps (Roberts & Rosenthal 1998): tiny steps accept almost surely.
        let a: Vec<f64> = [1e-3, 0.05, 0.2, 0.5].iter().map(|&e| acceptance(100, e)).collect();
        assert!(a[0] > 0.99, "{a:?}");
        assert!(a.windows(2).all(|w| w[1] < w[0]), "{a:?}");
        assert!(a[3] < 0.85, "{a:?}");
    }

    /// log q(to | from) of a preconditioned Langevin proposal, written out directly.
    fn log_q(to: &[f64], from: &[f64], grad_from: &[f64], eps: f64, pre: &[f64]) -> f64 {
        (0..to.len())
            .map(|i| {
                let mean = from[i] + 0.5 * eps * pre[i] * grad_from[i];
                -(to[i] - mean).powi(2) / (2.0 * eps * pre[i])
            })
            .sum()
    }

    #[test]
    fn each_move_is_scored_as_the_mh_acceptance_of_its_proposal() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let d = 9;
        let pre: Vec<f64> = (0..d).map(|i| 0.5 + 0.1 * i as f64).collect();
        let lp = |t: &[f64]| -0.5 * t.iter().map(|v| v * v).sum::<f64>();
        let grad = |t: &[f64]| t.iter().map(|v| -v).collect::<Vec<f64>>();
        let mut th: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
        let mut m = MalaMonitor::default();
        for step in 0..12 {
            // The step and the preconditioner change along the way; the cache must follow.
            let eps = if step < 6 { 0.3 } else { 0.05 };
            let g = if step % 4 == 3 { vec![1.0; d] } else { pre.clone() };
            let gr = grad(&th);
            m.before_move(&th, &gr, lp(&th), eps, Some(&g));
            let new: Vec<f64> = (0..d)
                .map(|i| th[i] + 0.5 * eps * g[i] * gr[i] + (eps * g[i]).sqrt() * rng.sample::<f64, _>(StandardNormal))
                .collect();
            let gn = grad(&new);
            let got = m.after_move(&new, &gn, lp(&new)).unwrap();
            let log_alpha = lp(&new) - lp(&th) + log_q(&th, &new, &gn, eps, &g) - log_q(&new, &th, &gr, eps, &g);
            let want = log_alpha.min(0.0).exp();
            assert!((got - want).abs() < 1e-12, "step {step}: {got} vs {want}");
            th = new;
        }
    }
}
