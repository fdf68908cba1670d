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
use crate::model::kernels::ln_f32;
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
    s32: Softplus32,
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
        softplus_pass(&self.rho, &mut sc.s32, &mut sc.sd, &mut sc.sig, &mut sc.var);
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
        let mut kl = kl_pass(&self.m[..nd], &sc.sd[..nd], &sc.var[..nd], v0, kl_weight, &mut sc.gm[..nd], &mut sc.gv[..nd]);
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
/// exp(-|rho|) per parameter, in f32 (`rho32`, `sd32` and `sig32` are scratch):
/// branch-free polynomials in 8 lanes instead of f64's 4 with twice the polynomial
/// degree (libm's exp and log1p, three calls a parameter, were a fifth of a VI step; the
/// f64 polynomials still a tenth). sd and sig carry f32 rounding (relative ~3e-7, as
/// the f32 kernels the variances go into); var is sd^2 in f64. exp(-|rho|) is floored
/// at e^-87, so sd stays a normal positive number for any rho.
#[inline(always)]
fn softplus_loop(
    rho: &[f64],
    rho32: &mut [f32],
    sd32: &mut [f32],
    sig32: &mut [f32],
    sd: &mut [f64],
    sig: &mut [f64],
    var: &mut [f64],
) {
    let n = rho.len();
    let (rho32, sd32, sig32) = (&mut rho32[..n], &mut sd32[..n], &mut sig32[..n]);
    let (sd, sig, var) = (&mut sd[..n], &mut sig[..n], &mut var[..n]);
    for i in 0..n {
        rho32[i] = rho[i] as f32;
    }
    for i in 0..n {
        let r = rho32[i];
        let e = fastmath::exp_f32_nonpositive(-r.abs());
        let u = 1.0 + e;
        let d = u - 1.0;
        // ln(1 + e) by Goldberg's correction of the rounded u (as `fastmath::ln_1p`).
        let l = ln_f32::<false>(u) * (e / d);
        let l = if d == 0.0 { e } else { l };
        let inv = 1.0 / u;
        sd32[i] = r.max(0.0) + l;
        sig32[i] = if r >= 0.0 { inv } else { e * inv };
    }
    for i in 0..n {
        let s = sd32[i] as f64;
        sd[i] = s;
        sig[i] = sig32[i] as f64;
        var[i] = s * s;
    }
}

/// Lanes of the KL pass's sums.
const KL_LANES: usize = 4;

/// The network's KL(q || N(0, v0)) = sum over parameters of
/// 0.5 (ln v0 - ln var + (var + m^2) / v0 - 1), returned, and its gradient times `w`
/// subtracted from the mean's and the variance's gradients. sum ln sd = ln 2 x (sum of
/// the exponents of sd) + ln(product of their mantissas): one logarithm per lane instead
/// of one per parameter (sd is a normal number, see `softplus_loop`; a lane's product
/// of at most 256 mantissas in [1, 2) stays below 2^256).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn kl_loop(m: &[f64], sd: &[f64], var: &[f64], v0: f64, w: f64, gm: &mut [f64], gv: &mut [f64]) -> f64 {
    const L: usize = KL_LANES;
    const RENORM: usize = 256;
    let n = m.len();
    let (sd, var, gm, gv) = (&sd[..n], &var[..n], &mut gm[..n], &mut gv[..n]);
    let (a, b) = (w / v0, 0.5 * w / v0);
    let (mut quad, mut prod, mut expo) = ([0.0f64; L], [1.0f64; L], [0i64; L]);
    let mantissa = |x: f64| f64::from_bits((x.to_bits() & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let exponent = |x: f64| ((x.to_bits() >> 52) & 0x7ff) as i64 - 1023;
    let whole = n / L * L;
    let mut c = 0;
    while c < whole {
        let stop = (c + RENORM * L).min(whole);
        while c < stop {
            for l in 0..L {
                let (mi, v, s) = (m[c + l], var[c + l], sd[c + l]);
                quad[l] += v + mi * mi;
                prod[l] *= mantissa(s);
                expo[l] += exponent(s);
                gm[c + l] -= a * mi;
                gv[c + l] -= b - 0.5 * w / v;
            }
            c += L;
        }
        for l in 0..L {
            expo[l] += exponent(prod[l]);
            prod[l] = mantissa(prod[l]);
        }
    }
    let (mut q, mut ln_sd) = (0.0, 0.0);
    for i in whole..n {
        let (mi, v) = (m[i], var[i]);
        q += v + mi * mi;
        ln_sd += sd[i].ln();
        gm[i] -= a * mi;
        gv[i] -= b - 0.5 * w / v;
    }
    for l in 0..L {
        q += quad[l];
        ln_sd += prod[l].ln() + expo[l] as f64 * std::f64::consts::LN_2;
    }
    0.5 * (n as f64 * (v0.ln() - 1.0) + q / v0) - ln_sd
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn softplus_loop(
        rho: &[f64],
        rho32: &mut [f32],
        sd32: &mut [f32],
        sig32: &mut [f32],
        sd: &mut [f64],
        sig: &mut [f64],
        var: &mut [f64],
    ) {
        super::softplus_loop(rho, rho32, sd32, sig32, sd, sig, var)
    }

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn kl_loop(m: &[f64], sd: &[f64], var: &[f64], v0: f64, w: f64, gm: &mut [f64], gv: &mut [f64]) -> f64 {
        super::kl_loop(m, sd, var, v0, w, gm, gv)
    }
}

#[cfg(target_arch = "x86_64")]
fn avx2() -> bool {
    use crate::model::kernels::{simd, Simd};
    simd() == Simd::Avx2Fma
}

/// f32 scratch of [`softplus_pass`].
#[derive(Clone, Debug, Default)]
struct Softplus32 {
    rho: Vec<f32>,
    sd: Vec<f32>,
    sig: Vec<f32>,
}

fn softplus_pass(rho: &[f64], s32: &mut Softplus32, sd: &mut [f64], sig: &mut [f64], var: &mut [f64]) {
    let n = rho.len();
    for v in [&mut s32.rho, &mut s32.sd, &mut s32.sig] {
        v.resize(n, 0.0);
    }
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the CPU has the features the function is compiled for.
        return unsafe { x86::softplus_loop(rho, &mut s32.rho, &mut s32.sd, &mut s32.sig, sd, sig, var) };
    }
    softplus_loop(rho, &mut s32.rho, &mut s32.sd, &mut s32.sig, sd, sig, var)
}

/// [`kl_loop`]: returns the KL, updates the gradients.
#[allow(clippy::too_many_arguments)]
fn kl_pass(m: &[f64], sd: &[f64], var: &[f64], v0: f64, w: f64, gm: &mut [f64], gv: &mut [f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: as above.
        return unsafe { x86::kl_loop(m, sd, var, v0, w, gm, gv) };
    }
    kl_loop(m, sd, var, v0, w, gm, gv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::activation::sigmoid;

    #[test]
    fn vectorised_passes_match_the_plain_formulas() {
        // rho from -100 (below the floor of exp) to 40, and n not a multiple of the lanes.
        let rho: Vec<f64> = (0..2803).map(|i| -100.0 + 0.05 * i as f64).collect();
        let n = rho.len();
        let (mut sd, mut sig, mut var) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        softplus_pass(&rho, &mut Softplus32::default(), &mut sd, &mut sig, &mut var);
        for i in 0..n {
            let r = rho[i];
            // The stable formula with std's exp and ln_1p (activation::softplus returns
            // e^z below -30, 1e-14 off at -31).
            let (s, g) = (r.max(0.0) + (-r.abs()).exp().ln_1p(), sigmoid(r));
            assert!(sd[i].is_normal() && sd[i] > 0.0, "softplus({r}) = {}", sd[i]);
            assert_eq!(var[i], sd[i] * sd[i]);
            if r < -87.0 {
                // exp(-|rho|) is floored at e^-87: a tiny sd that stays a number.
                assert!(sd[i] < 2e-38 && sig[i] < 2e-38, "softplus({r}) {} sigmoid {}", sd[i], sig[i]);
                continue;
            }
            // f32: rho rounded (relative 2^-24, which d ln sd / d rho <= 1 carries into
            // sd as |rho| 2^-24), then a few f32 roundings.
            let tol = (r.abs() / 2.0 + 4.0) * f32::EPSILON as f64;
            assert!((sd[i] - s).abs() <= tol * s, "softplus({r}) {} vs {s}", sd[i]);
            assert!((sig[i] - g).abs() <= tol * g, "sigmoid({r}) {} vs {g}", sig[i]);
        }
        // The KL pass on sds over 40 decades (more parameters than one renormalisation
        // of the mantissa products covers).
        let m: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let sd: Vec<f64> = (0..n).map(|i| 10f64.powf(-40.0 * ((i as f64 * 0.61).sin() * 0.5 + 0.5)) * 3.0).collect();
        let var: Vec<f64> = sd.iter().map(|s| s * s).collect();
        let (v0, w) = (1.7, 0.3);
        let (mut gm, mut gv) = (vec![0.1; n], vec![-0.2; n]);
        let kl = kl_pass(&m, &sd, &var, v0, w, &mut gm, &mut gv);
        let mut want = 0.0;
        for i in 0..n {
            let (mi, v) = (m[i], var[i]);
            want += 0.5 * ((v0 / v).ln() + (v + mi * mi) / v0 - 1.0);
            assert!((gm[i] - (0.1 - w * mi / v0)).abs() < 1e-15);
            assert!((gv[i] - (-0.2 - w * (0.5 / v0 - 0.5 / v))).abs() <= 1e-12 * gv[i].abs());
        }
        assert!((kl - want).abs() <= 1e-12 * want.abs(), "KL {kl} vs {want}");
    }
}
