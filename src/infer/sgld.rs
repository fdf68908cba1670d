//! Stochastic-gradient Langevin dynamics (Welling & Teh 2011) with the polynomially
//! decaying step eps_t = a (b + t)^-0.55, a chosen so that eps_0 = step_size / N
//! (the step is given per data point because the log posterior is summed over N).

use rand::Rng;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::mala::MalaMonitor;
use super::method::{cyclical_factor, At, Handoff, MethodChain, Moved};
use super::target::Target;

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

/// One SGLD chain: the decaying step from `step_size` (read at every step, so a live
/// change restarts the schedule's scale, not its clock), times the cyclical factor;
/// full-batch moves are scored as MALA proposals.
#[derive(Clone, Debug)]
pub struct SgldChain {
    mala: MalaMonitor,
    grad: Vec<f64>,
}

impl SgldChain {
    pub fn start(h: &Handoff) -> Box<dyn MethodChain> {
        Box::new(SgldChain { mala: MalaMonitor::default(), grad: vec![0.0; h.params.len()] })
    }
}

impl MethodChain for SgldChain {
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
        let s = Sgld::new(inf.sgld_step_size, target.n, inf.sgld_decay_offset);
        let eps = s.step_at(at.ts) * cyclical_factor(inf, at.ts, at.units);
        if full {
            self.mala.before_move(params, &self.grad, log_post, eps, None);
        }
        s.update(params, &self.grad, eps, rng);
        Moved { loss: -log_post / target.n as f64, gradients: 1 }
    }

    fn mala(&self) -> Option<&MalaMonitor> {
        Some(&self.mala)
    }
}
