//! Stochastic-gradient Langevin dynamics (Welling & Teh 2011) with the polynomially
//! decaying step eps_t = a (b + t)^-0.55, a chosen so that eps_0 = step_size / N
//! (the step is given per data point because the log posterior is summed over N).

use rand::Rng;
use rand_distr::StandardNormal;

/// Decay exponent of Welling & Teh's schedule.
pub const SGLD_DECAY: f64 = 0.55;

#[derive(Clone, Debug, PartialEq)]
pub struct Sgld {
    /// Step at t = 0.
    pub eps0: f64,
    /// Offset b of the schedule.
    pub b: f64,
}

impl Sgld {
    pub fn new(step_size: f64, n: usize, b: f64) -> Sgld {
        Sgld { eps0: step_size / n.max(1) as f64, b }
    }

    /// The step size at sampler step t, times `factor` (the cyclical schedule).
    pub fn step_at(&self, t: usize) -> f64 {
        self.eps0 * ((self.b + t as f64) / self.b).powf(-SGLD_DECAY)
    }

    /// theta += eps/2 grad + N(0, eps).
    pub fn update<R: Rng>(&self, theta: &mut [f64], grad: &[f64], eps: f64, rng: &mut R) {
        let (sd, half) = (eps.sqrt(), 0.5 * eps);
        for (th, g) in theta.iter_mut().zip(grad) {
            let xi: f64 = rng.sample(StandardNormal);
            *th += half * g + sd * xi;
        }
    }
}
