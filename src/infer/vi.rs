//! Mean-field variational inference, Bayes by Backprop (Blundell et al. 2015) with
//! the local reparameterisation trick for the dense layers (Kingma et al. 2015).
//!
//! q(w) = N(m, softplus(rho)^2) per parameter. The network's KL to its N(0, s^2)
//! prior is analytic; the noise parameters (few, with non-Gaussian priors in the
//! homoskedastic case) use the reparameterised single-sample estimate of
//! E_q[log p] plus the analytic entropy. The KL enters with a weight that ramps up
//! from 0 (a weight below 1 is a tempered posterior).

use rand::Rng;
use rand_distr::StandardNormal;

use rand_xoshiro::Xoshiro256PlusPlus;

use super::adam::Adam;
use super::method::{At, Handoff, MethodChain, Moved};
use super::target::Target;
use crate::model::activation::{softplus, softplus_inv};
use crate::model::{fastmath, EvalOptions, Model, ModelWorkspace};

#[derive(Clone, Debug, PartialEq)]
pub struct MeanField {
    pub m: Vec<f64>,
    pub rho: Vec<f64>,
    pub adam: Adam,
}

/// Reusable buffers of one VI step.
#[derive(Clone, Debug, Default)]
pub struct ViScratch {
    sd: Vec<f64>,
    sig: Vec<f64>,
    var: Vec<f64>,
    gm: Vec<f64>,
    gv: Vec<f64>,
    theta: Vec<f64>,
    xi: Vec<f64>,
    g_prior: Vec<f64>,
    g_all: Vec<f64>,
    g_theta: Vec<f64>,
    params: Vec<f64>,
    out: ndarray::Array2<f64>,
    d_out: ndarray::Array2<f64>,
    terms: Vec<f64>,
}

impl MeanField {
    /// Centred on `m` (the warm-start MAP) with every sd equal to `sd0`.
    pub fn new(m: Vec<f64>, sd0: f64) -> MeanField {
        let d = m.len();
        MeanField { m, rho: vec![softplus_inv(sd0); d], adam: Adam::new(2 * d) }
    }

    pub fn sd(&self, i: usize) -> f64 {
        softplus(self.rho[i])
    }

    /// A parameter vector drawn from q.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> Vec<f64> {
        (0..self.m.len()).map(|i| self.m[i] + self.sd(i) * rng.sample::<f64, _>(StandardNormal)).collect()
    }

    /// One stochastic-gradient step on the ELBO of the batch (log likelihood scaled by
    /// `scale` = N/B); returns the ELBO estimate.
    #[allow(clippy::too_many_arguments)]
    pub fn step<R: Rng>(
        &mut self,
        model: &Model,
        x: &[f64],
        y: &[f64],
        scale: f64,
        kl_weight: f64,
        lr: f64,
        rng: &mut R,
        ws: &mut ModelWorkspace,
        sc: &mut ViScratch,
    ) -> f64 {
        let d = self.m.len();
        let nd = model.mlp.dim();
        let nn = d - nd;
        // sd = softplus(rho), its derivative and the variance, once per parameter.
        sc.sd.resize(d, 0.0);
        sc.sig.resize(d, 0.0);
        sc.var.resize(d, 0.0);
        softplus_pass(&self.rho, &mut sc.sd, &mut sc.sig, &mut sc.var);
        sc.gm.clear();
        sc.gm.resize(d, 0.0);
        sc.gv.clear();
        sc.gv.resize(d, 0.0);
        // Noise parameters: theta = m + s xi.
        sc.theta.clear();
        sc.xi.clear();
        for i in nd..d {
            let xi: f64 = rng.sample(StandardNormal);
            sc.xi.push(xi);
            sc.theta.push(self.m[i] + sc.sd[i] * xi);
        }
        let shape = (x.len(), model.mlp.outputs());
        if sc.d_out.dim() != shape {
            sc.d_out = ndarray::Array2::zeros(shape);
        }
        sc.out.clone_from(model.mlp.forward_lrt(&self.m[..nd], &sc.var[..nd], x, rng, &mut ws.mlp));
        sc.g_theta.clear();
        sc.g_theta.resize(nn, 0.0);
        let opts = EvalOptions::default();
        let (ll, _) =
            model.log_lik_from_outputs(&sc.theta, x, y, &sc.out, scale, &opts, &mut sc.d_out, &mut sc.g_theta, &mut sc.terms);
        let (gm_net, gv_net) = (&mut sc.gm[..nd], &mut sc.gv[..nd]);
        model.mlp.backward_lrt(&self.m[..nd], &sc.var[..nd], &sc.d_out, &mut ws.mlp, gm_net, gv_net);

        // Network KL to N(0, s0^2), analytic.
        let v0 = model.prior_scale * model.prior_scale;
        sc.terms.resize(nd.max(sc.terms.len()), 0.0);
        kl_pass(&self.m[..nd], &sc.sd[..nd], &sc.var[..nd], v0, kl_weight, &mut sc.gm[..nd], &mut sc.gv[..nd], &mut sc.terms[..nd]);
        let mut kl = sc.terms[..nd].iter().sum::<f64>();
        // Noise parameters: E_q[log p(theta)] by the sample, entropy analytic.
        sc.g_all.clear();
        sc.g_all.resize(d, 0.0);
        sc.g_all[nd..].copy_from_slice(&sc.theta);
        sc.g_prior.clear();
        sc.g_prior.resize(d, 0.0);
        let lp_noise = model.log_prior_noise(&sc.g_all, &mut sc.g_prior);
        let mut entropy = 0.0;
        for k in 0..nn {
            let i = nd + k;
            let s = sc.sd[i];
            entropy += s.ln();
            let g = sc.g_theta[k] + kl_weight * sc.g_prior[i];
            sc.gm[i] = g;
            // d/ds of the sample term, plus the entropy's 1/s; stored as d/dvar below.
            let ds = g * sc.xi[k] + kl_weight / s;
            sc.gv[i] = ds / (2.0 * s);
        }
        kl -= lp_noise + entropy;

        // Chain rule var -> rho: dvar/drho = 2 s sigmoid(rho).
        sc.g_all.clear();
        sc.g_all.extend_from_slice(&sc.gm);
        sc.g_all.extend(sc.gv.iter().zip(&sc.sd).zip(&sc.sig).map(|((g, s), sg)| g * 2.0 * s * sg));
        sc.params.clear();
        sc.params.extend_from_slice(&self.m);
        sc.params.extend_from_slice(&self.rho);
        self.adam.ascend(&mut sc.params, &sc.g_all, lr);
        self.m.copy_from_slice(&sc.params[..d]);
        self.rho.copy_from_slice(&sc.params[d..]);
        ll - kl_weight * kl
    }
}

/// One VI chain: q starts at the warm start's end point; each unit is one ELBO step
/// at the cosine-decayed learning rate, with the KL weight ramped up over the first
/// `kl_ramp_frac` of the units.
#[derive(Clone, Debug)]
pub struct ViChain {
    q: MeanField,
    scratch: ViScratch,
}

impl ViChain {
    pub fn start(h: &Handoff) -> Box<dyn MethodChain> {
        Box::new(ViChain { q: MeanField::new(h.params.to_vec(), h.inf.vi_init_sd), scratch: ViScratch::default() })
    }
}

impl MethodChain for ViChain {
    fn box_clone(&self) -> Box<dyn MethodChain> {
        Box::new(self.clone())
    }

    fn advance(&mut self, params: &mut [f64], rng: &mut Xoshiro256PlusPlus, target: &mut Target, at: &At) -> Moved {
        let inf = at.inf;
        let frac = at.ts as f64 / at.units.max(1) as f64;
        let ramp = if inf.kl_ramp_frac > 0.0 { (frac / inf.kl_ramp_frac).min(1.0) } else { 1.0 };
        let lr = inf.vi_lr_final + 0.5 * (inf.vi_lr - inf.vi_lr_final) * (1.0 + (std::f64::consts::PI * frac).cos());
        let (x, y, scale) = (target.x, target.y, target.scale);
        let q = &mut self.q;
        let elbo = q.step(target.model, x, y, scale, inf.kl_weight * ramp, lr, rng, target.ws, &mut self.scratch);
        params.copy_from_slice(&q.m);
        Moved { loss: -elbo / target.n as f64, gradients: 1 }
    }

    fn sample_q(&self, rng: &mut Xoshiro256PlusPlus) -> Option<Vec<f64>> {
        Some(self.q.sample(rng))
    }

    fn q_moments(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        let q = &self.q;
        Some((q.m.clone(), (0..q.m.len()).map(|i| q.sd(i)).collect()))
    }
}

/// sd = softplus(rho), sig = its derivative sigmoid(rho) and var = sd^2, sharing one
/// exp(-|rho|) per parameter; `fastmath` so the loop vectorises (libm's exp and log1p,
/// three calls a parameter, were a fifth of a VI step).
#[inline(always)]
fn softplus_loop(rho: &[f64], sd: &mut [f64], sig: &mut [f64], var: &mut [f64]) {
    let n = rho.len();
    let (sd, sig, var) = (&mut sd[..n], &mut sig[..n], &mut var[..n]);
    for i in 0..n {
        let r = rho[i];
        let e = fastmath::exp(-r.abs());
        let s = r.max(0.0) + fastmath::ln_1p(e);
        let inv = 1.0 / (1.0 + e);
        sd[i] = s;
        sig[i] = if r >= 0.0 { inv } else { e * inv };
        var[i] = s * s;
    }
}

/// Per network parameter: its term of KL(q || N(0, v0)) and the KL's weighted gradient
/// subtracted from the mean's and the variance's gradients.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn kl_loop(m: &[f64], sd: &[f64], var: &[f64], v0: f64, w: f64, gm: &mut [f64], gv: &mut [f64], terms: &mut [f64]) {
    let n = m.len();
    let (sd, var, gm, gv, terms) = (&sd[..n], &var[..n], &mut gm[..n], &mut gv[..n], &mut terms[..n]);
    let ln_v0 = v0.ln();
    for i in 0..n {
        let (mi, v) = (m[i], var[i]);
        terms[i] = 0.5 * (ln_v0 - 2.0 * fastmath::ln(sd[i]) + (v + mi * mi) / v0 - 1.0);
        gm[i] -= w * mi / v0;
        gv[i] -= w * (0.5 / v0 - 0.5 / v);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn softplus_loop(rho: &[f64], sd: &mut [f64], sig: &mut [f64], var: &mut [f64]) {
        super::softplus_loop(rho, sd, sig, var)
    }

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn kl_loop(m: &[f64], sd: &[f64], var: &[f64], v0: f64, w: f64, gm: &mut [f64], gv: &mut [f64], t: &mut [f64]) {
        super::kl_loop(m, sd, var, v0, w, gm, gv, t)
    }
}

#[cfg(target_arch = "x86_64")]
fn avx2() -> bool {
    use crate::model::kernels::{simd, Simd};
    simd() == Simd::Avx2Fma
}

fn softplus_pass(rho: &[f64], sd: &mut [f64], sig: &mut [f64], var: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the CPU has the features the function is compiled for.
        return unsafe { x86::softplus_loop(rho, sd, sig, var) };
    }
    softplus_loop(rho, sd, sig, var)
}

#[allow(clippy::too_many_arguments)]
fn kl_pass(m: &[f64], sd: &[f64], var: &[f64], v0: f64, w: f64, gm: &mut [f64], gv: &mut [f64], terms: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: as above.
        return unsafe { x86::kl_loop(m, sd, var, v0, w, gm, gv, terms) };
    }
    kl_loop(m, sd, var, v0, w, gm, gv, terms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::activation::sigmoid;

    #[test]
    fn vectorised_passes_match_the_plain_formulas() {
        let rho: Vec<f64> = (0..400).map(|i| -40.0 + 0.2 * i as f64).collect();
        let n = rho.len();
        let (mut sd, mut sig, mut var) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        softplus_pass(&rho, &mut sd, &mut sig, &mut var);
        for i in 0..n {
            // The stable formula with std's exp and ln_1p (activation::softplus returns
            // e^z below -30, 1e-14 off at -31).
            let (s, g) = (rho[i].max(0.0) + (-rho[i].abs()).exp().ln_1p(), sigmoid(rho[i]));
            assert!((sd[i] - s).abs() <= 4.0 * f64::EPSILON * s, "softplus({}) {} vs {s}", rho[i], sd[i]);
            assert!((sig[i] - g).abs() <= 4.0 * f64::EPSILON * g, "sigmoid({}) {} vs {g}", rho[i], sig[i]);
            assert_eq!(var[i], sd[i] * sd[i]);
        }
        let m: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let (v0, w) = (1.7, 0.3);
        let (mut gm, mut gv, mut t) = (vec![0.1; n], vec![-0.2; n], vec![0.0; n]);
        kl_pass(&m, &sd, &var, v0, w, &mut gm, &mut gv, &mut t);
        for i in 0..n {
            let (mi, v) = (m[i], var[i]);
            let kl = 0.5 * ((v0 / v).ln() + (v + mi * mi) / v0 - 1.0);
            assert!((t[i] - kl).abs() <= 1e-12 * kl.abs().max(1.0), "KL term {i}: {} vs {kl}", t[i]);
            assert!((gm[i] - (0.1 - w * mi / v0)).abs() < 1e-15);
            assert!((gv[i] - (-0.2 - w * (0.5 / v0 - 0.5 / v))).abs() <= 1e-12 * gv[i].abs());
        }
    }
}
