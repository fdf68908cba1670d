//! Preconditioned SGLD (Li, Chen, Carlson & Carin 2016, Algorithm 1) with an RMSprop
//! preconditioner G = 1 / (lambda + sqrt(V)); the small Gamma correction term is
//! dropped, as in the paper's experiments.

use rand::Rng;
use rand_distr::StandardNormal;

#[derive(Clone, Debug, PartialEq)]
pub struct Psgld {
    /// Running mean of the squared gradient.
    pub v: Vec<f64>,
    pub alpha: f64,
    pub lambda: f64,
    /// When frozen, V no longer adapts (see `InferenceConfig::psgld_freeze`).
    pub frozen: bool,
}

impl Psgld {
    /// Start from a second-moment estimate (Adam's at the end of the warm start):
    /// V = 0 would make the first step 1/lambda times too large.
    pub fn new(v0: Vec<f64>, alpha: f64, lambda: f64) -> Psgld {
        Psgld { v: v0, alpha, lambda, frozen: false }
    }

    /// The diagonal preconditioner G = 1 / (lambda + sqrt(V)).
    pub fn preconditioner(&self) -> Vec<f64> {
        self.v.iter().map(|v| 1.0 / (self.lambda + v.sqrt())).collect()
    }

    /// theta += eps/2 G grad + N(0, eps G).
    pub fn update<R: Rng>(&mut self, theta: &mut [f64], grad: &[f64], eps: f64, rng: &mut R) {
        let (a, l) = (self.alpha, self.lambda);
        for i in 0..theta.len() {
            let g = grad[i];
            if !self.frozen {
                self.v[i] = a * self.v[i] + (1.0 - a) * g * g;
            }
            let pre = 1.0 / (l + self.v[i].sqrt());
            let xi: f64 = rng.sample(StandardNormal);
            theta[i] += 0.5 * eps * pre * g + (eps * pre).sqrt() * xi;
        }
    }
}
