//! Preconditioned SGLD (Li, Chen, Carlson & Carin 2016, Algorithm 1) with an RMSprop
//! preconditioner G = 1 / (lambda + sqrt(V)); the small Gamma correction term is
//! dropped, as in the paper's experiments.

use rand::Rng;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::mala::MalaMonitor;
use super::method::{cyclical_factor, At, Handoff, MethodChain, Moved};
use super::target::Target;

#[derive(Clone, Debug, PartialEq)]
pub struct Psgld {
    /// Running mean of the squared gradient.
    pub v: Vec<f64>,
    pub alpha: f64,
    pub lambda: f64,
    /// When frozen, V no longer adapts (see `InferenceConfig::psgld_freeze`).
    pub frozen: bool,
    /// Per-update scratch: G, sqrt(eps G) and the normal draws. Once frozen, G and
    /// sqrt(eps G) are kept for as long as eps stays the same (`scaled_eps`), so an
    /// update is one multiply-add per parameter instead of two square roots and a
    /// division (most of a whole fit's time at N = 40 went there).
    pre: Vec<f64>,
    noise_sd: Vec<f64>,
    scaled_eps: Option<f64>,
    xi: Vec<f64>,
}

impl Psgld {
    /// Start from a second-moment estimate (Adam's at the end of the warm start):
    /// V = 0 would make the first step 1/lambda times too large.
    pub fn new(v0: Vec<f64>, alpha: f64, lambda: f64) -> Psgld {
        Psgld { v: v0, alpha, lambda, frozen: false, pre: Vec::new(), noise_sd: Vec::new(), scaled_eps: None, xi: Vec::new() }
    }

    /// The diagonal preconditioner G = 1 / (lambda + sqrt(V)).
    pub fn preconditioner(&self) -> Vec<f64> {
        self.v.iter().map(|v| 1.0 / (self.lambda + v.sqrt())).collect()
    }

    /// theta += eps/2 G grad + N(0, eps G).
    pub fn update<R: Rng>(&mut self, theta: &mut [f64], grad: &[f64], eps: f64, rng: &mut R) {
        let d = theta.len();
        // The draws first, one per parameter in order (the same stream as drawing inside
        // the loop), so the arithmetic below runs in vectorisable loops.
        self.xi.clear();
        self.xi.extend((0..d).map(|_| rng.sample::<f64, _>(StandardNormal)));
        let (a, l) = (self.alpha, self.lambda);
        if !self.frozen {
            for (v, g) in self.v.iter_mut().zip(grad) {
                *v = a * *v + (1.0 - a) * g * g;
            }
            self.scaled_eps = None;
        }
        if self.scaled_eps != Some(eps) {
            self.pre.clear();
            self.pre.extend(self.v.iter().map(|v| 1.0 / (l + v.sqrt())));
            self.noise_sd.clear();
            self.noise_sd.extend(self.pre.iter().map(|p| (eps * p).sqrt()));
            self.scaled_eps = self.frozen.then_some(eps);
        }
        let half = 0.5 * eps;
        for i in 0..d {
            theta[i] += half * self.pre[i] * grad[i] + self.noise_sd[i] * self.xi[i];
        }
    }
}

/// One pSGLD chain: eps = `step_size` (times the cyclical factor); the preconditioner
/// starts from the warm start's second moments and freezes when burn-in ends
/// (`psgld_freeze`), from when on its moves are scored as MALA proposals.
#[derive(Clone, Debug)]
pub struct PsgldChain {
    p: Psgld,
    mala: MalaMonitor,
    /// The frozen preconditioner, once frozen.
    frozen_pre: Option<Vec<f64>>,
    grad: Vec<f64>,
}

impl PsgldChain {
    pub fn start(h: &Handoff) -> Box<dyn MethodChain> {
        let inf = h.inf;
        Box::new(PsgldChain {
            p: Psgld::new(h.adam.second_moment(), inf.psgld_alpha, inf.psgld_lambda),
            mala: MalaMonitor::default(),
            frozen_pre: None,
            grad: vec![0.0; h.params.len()],
        })
    }
}

impl MethodChain for PsgldChain {
    fn box_clone(&self) -> Box<dyn MethodChain> {
        Box::new(self.clone())
    }

    fn advance(&mut self, params: &mut [f64], rng: &mut Xoshiro256PlusPlus, target: &mut Target, at: &At) -> Moved {
        let log_post = target.logp_grad(params, &mut self.grad);
        let full = target.full_batch();
        if full {
            self.mala.after_move(params, &self.grad, log_post);
        }
        let inf = at.inf;
        let eps = inf.step_size * cyclical_factor(inf, at.ts, at.units);
        if inf.psgld_freeze && at.ts >= at.burn && !self.p.frozen {
            self.p.frozen = true;
            self.frozen_pre = Some(self.p.preconditioner());
            self.mala.reset();
        }
        if let (true, Some(pre)) = (full, &self.frozen_pre) {
            self.mala.before_move(params, &self.grad, log_post, eps, Some(pre));
        }
        self.p.update(params, &self.grad, eps, rng);
        Moved { loss: -log_post / target.n as f64, gradients: 1 }
    }

    fn mala(&self) -> Option<&MalaMonitor> {
        Some(&self.mala)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// The update as written in the paper, one parameter at a time.
    fn plain(p: &mut Psgld, theta: &mut [f64], grad: &[f64], eps: f64, rng: &mut Xoshiro256PlusPlus) {
        for i in 0..theta.len() {
            let g = grad[i];
            if !p.frozen {
                p.v[i] = p.alpha * p.v[i] + (1.0 - p.alpha) * g * g;
            }
            let pre = 1.0 / (p.lambda + p.v[i].sqrt());
            let xi: f64 = rng.sample(StandardNormal);
            theta[i] += 0.5 * eps * pre * g + (eps * pre).sqrt() * xi;
        }
    }

    #[test]
    fn the_cached_update_equals_the_plain_one_bit_for_bit() {
        let d = 37;
        let mut fast = Psgld::new((0..d).map(|i| 0.1 + i as f64 * 0.01).collect(), 0.99, 1e-5);
        let mut slow = fast.clone();
        let (mut ta, mut tb) = (vec![0.3; d], vec![0.3; d]);
        let (mut ra, mut rb) = (Xoshiro256PlusPlus::seed_from_u64(5), Xoshiro256PlusPlus::seed_from_u64(5));
        for step in 0..60 {
            if step == 20 {
                fast.frozen = true;
                slow.frozen = true;
            }
            // The step changes mid-run (live edits, cyclical schedules): the cache follows.
            let eps = if step < 40 { 1e-3 } else { 2.5e-4 };
            let grad: Vec<f64> = ta.iter().enumerate().map(|(i, t)| -t + (i as f64 * 0.37 + step as f64).sin()).collect();
            fast.update(&mut ta, &grad, eps, &mut ra);
            plain(&mut slow, &mut tb, &grad, eps, &mut rb);
            assert_eq!(ta, tb, "step {step}");
            assert_eq!(fast.v, slow.v, "step {step}");
        }
    }
}
