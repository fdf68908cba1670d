//! The three BNNs as one log posterior over a flat parameter vector:
//! `[network weights | noise parameters]`, in fitting units (docs/ARCHITECTURE.md §2).
//!
//! - homoskedastic: one output mu; extra parameter log sigma, sigma ~ HalfNormal(1)
//!   (or a fixed, known sigma: the test-only conjugate setting);
//! - two-head: outputs (mu, o), sigma = softplus(o) + floor;
//! - noise model: one output mu; extra parameters theta of a [`NoiseLaw`].
//!
//! Every weight and bias has prior N(0, s^2).

pub mod activation;
pub mod fastmath;
pub mod formula;
pub mod kernels;
mod loglik;
pub mod mlp;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[doc(hidden)]
pub use loglik::wasm_pass_matches_the_scalar_pass as wasm_loglik_matches_the_scalar_pass;
pub mod noise_law;

use ndarray::Array2;
use rand::Rng;

use crate::config::{ModelConfig, ModelKind};
use crate::data::Scaling;
use activation::{softplus, softplus_inv};
pub use mlp::{Mlp, Workspace};
pub use noise_law::NoiseLaw;

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// How sigma(x) is produced.
#[derive(Clone, Debug, PartialEq)]
pub enum Noise {
    /// sigma = exp(theta[0]) with HalfNormal(1) prior on sigma, or a known fixed sigma.
    Homoskedastic { fixed: Option<f64> },
    /// sigma = softplus(second output) + floor.
    TwoHead { floor: f64 },
    Law(NoiseLaw),
}

/// Options of one likelihood evaluation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EvalOptions {
    /// Mean-only warm-up: use this constant log sigma instead of the model's noise.
    pub const_log_sigma: Option<f64>,
    /// beta-NLL weight exponent (0 = the plain likelihood).
    pub beta_nll: f64,
}

/// What one evaluation returns besides the gradient.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Eval {
    /// Log prior + scaled log likelihood.
    pub log_post: f64,
    /// The scaled log likelihood alone.
    pub log_lik: f64,
    /// d log_post / d const_log_sigma when the warm-up override is on.
    pub d_const_log_sigma: f64,
}

/// A model ready to evaluate: the network, the noise, the prior.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub mlp: Mlp,
    pub noise: Noise,
    pub prior_scale: f64,
    dim: usize,
}

/// Buffers for one batch size.
#[derive(Clone, Debug, Default)]
pub struct ModelWorkspace {
    pub mlp: Workspace,
    d_out: Array2<f64>,
    g_noise: Vec<f64>,
    /// Per-point likelihood terms (scratch of the vectorised two-head likelihood).
    terms: Vec<f64>,
}

impl Model {
    /// Build the model for training inputs `x_fit` (fitting units); `y_spread` is the sd
    /// of y in fitting units (the two-head floor and the noise law's are
    /// `cfg.sigma_floor` of it). Panics on a noise law that [`Model::try_new`] refuses
    /// (settings that passed `FitConfig::validate` fail only on data-dependent priors).
    pub fn new(cfg: &ModelConfig, x_fit: &[f64], scaling: &Scaling, y_spread: f64) -> Model {
        Model::try_new(cfg, x_fit, scaling, y_spread).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Model::new`], or why the noise law cannot be used with these data.
    pub fn try_new(cfg: &ModelConfig, x_fit: &[f64], scaling: &Scaling, y_spread: f64) -> Result<Model, String> {
        let outputs = if cfg.kind == ModelKind::TwoHead { 2 } else { 1 };
        let mlp = Mlp::new(&cfg.hidden, outputs, cfg.activation);
        let noise = match cfg.kind {
            ModelKind::Homoskedastic => Noise::Homoskedastic { fixed: cfg.fixed_sigma },
            ModelKind::TwoHead => Noise::TwoHead { floor: cfg.sigma_floor * y_spread.max(1e-300) },
            ModelKind::NoiseModel => Noise::Law(NoiseLaw::new(cfg, x_fit, scaling, y_spread)?),
        };
        let mut m = Model { mlp, noise, prior_scale: cfg.prior_scale, dim: 0 };
        m.dim = m.mlp.dim() + m.n_noise();
        Ok(m)
    }

    /// Before a fit: whether the noise law is finite on the training data (fitting
    /// units) where the fit starts; a message saying where it is not.
    pub fn check_noise(&self, x: &[f64], y: &[f64]) -> Result<(), String> {
        match &self.noise {
            Noise::Law(l) => l.check(x, y),
            _ => Ok(()),
        }
    }

    /// After a divergence: where the noise law is not finite (or its slope is not) on the
    /// batch at parameters `p`, in words (None: it is finite, there is no law, or the
    /// parameters it needs are not finite themselves).
    pub fn noise_fault(&self, p: &[f64], x: &[f64]) -> Option<String> {
        let Noise::Law(l) = &self.noise else { return None };
        // The network's weights matter only to a law that reads mu.
        let needed = if l.uses_mu() { p } else { self.noise_params(p) };
        if needed.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let mut ws = Workspace::default();
        let mu: Vec<f64> = if l.uses_mu() {
            let out = self.mlp.forward(p, x, &mut ws);
            (0..x.len()).map(|i| out[[i, 0]]).collect()
        } else {
            vec![0.0; x.len()]
        };
        l.fault(self.noise_params(p), x, &mu).map(|(w, _)| format!("the noise formula {}: {w}", l.formula))
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of noise parameters after the network weights.
    pub fn n_noise(&self) -> usize {
        match &self.noise {
            Noise::Homoskedastic { fixed: None } => 1,
            Noise::Homoskedastic { fixed: Some(_) } | Noise::TwoHead { .. } => 0,
            Noise::Law(l) => l.n_params(),
        }
    }

    pub fn noise_params<'a>(&self, p: &'a [f64]) -> &'a [f64] {
        &p[self.mlp.dim()..]
    }

    /// Initial parameters: network weights drawn from their prior N(0, s^2), noise at
    /// sd 0.3 (fitting units; the warm-up replaces it).
    ///
    /// Starting the warm start from a prior draw (rather than from small fan-in-scaled
    /// weights) leaves its mode among large-weight functions, close to where the posterior
    /// mass of a wide BNN lies, and so shortens the sampler's transient from the mode to
    /// the typical set. Measured with 6 seeds, 1 chain, 20k steps (mean NLL): nb_exp
    /// exponential law -0.121 -> -0.163, two-head -0.080 -> -0.099; bump two-head -0.780
    /// -> -0.812; nb_step two-head 0.028 -> 0.018; slightly worse elsewhere (nb_step step
    /// law -0.013 -> 0.011, linear two-head 0.110 -> 0.119, linear law 0.095 -> 0.109).
    pub fn init<R: Rng>(&self, rng: &mut R) -> Vec<f64> {
        let mut p = vec![0.0; self.dim];
        self.mlp.init_weights_sd(rng, &mut p[..self.mlp.dim()], self.prior_scale);
        self.hand_off_sigma(&mut p, 0.3);
        p
    }

    /// Make the model's noise a constant `sigma` (after the mean-only warm-up).
    pub fn hand_off_sigma(&self, p: &mut [f64], sigma: f64) {
        let nd = self.mlp.dim();
        match &self.noise {
            Noise::Homoskedastic { fixed: None } => p[nd] = sigma.max(1e-6).ln(),
            Noise::Homoskedastic { fixed: Some(_) } => {}
            Noise::TwoHead { floor } => {
                let last = self.mlp.layers() - 1;
                let (wr, br) = (self.mlp.weight_range(last), self.mlp.bias_range(last));
                for (k, w) in p[wr].iter_mut().enumerate() {
                    if k % 2 == 1 {
                        *w = 0.0;
                    }
                }
                p[br.start + 1] = softplus_inv((sigma - floor).max(1e-6));
            }
            Noise::Law(l) => {
                // The law's mu at the hand-off points, when it reads mu.
                let mu: Option<Vec<f64>> = l.uses_mu().then(|| {
                    let mut ws = Workspace::default();
                    let out = self.mlp.forward(p, l.init_x(), &mut ws);
                    (0..l.init_x().len()).map(|i| out[[i, 0]]).collect()
                });
                let (_, z) = p.split_at_mut(nd);
                l.constant_init(sigma, z, mu.as_deref());
            }
        }
    }

    /// Which parameters belong to the noise (two-head: the noise head's weights and
    /// bias; otherwise the extra parameters). Used to freeze them during the warm-up.
    pub fn is_noise_param(&self, i: usize) -> bool {
        match &self.noise {
            Noise::TwoHead { .. } => {
                let last = self.mlp.layers() - 1;
                let (wr, br) = (self.mlp.weight_range(last), self.mlp.bias_range(last));
                (wr.contains(&i) && (i - wr.start) % 2 == 1) || i == br.start + 1
            }
            _ => i >= self.mlp.dim(),
        }
    }

    /// Log prior of the network weights, N(0, s^2) each, up to a constant; adds its gradient.
    pub fn log_prior_weights(&self, p: &[f64], g: &mut [f64]) -> f64 {
        let inv_v = 1.0 / (self.prior_scale * self.prior_scale);
        let mut ss = 0.0;
        for (w, gw) in p[..self.mlp.dim()].iter().zip(&mut g[..self.mlp.dim()]) {
            ss += w * w;
            *gw -= w * inv_v;
        }
        -0.5 * ss * inv_v
    }

    /// Log prior of the noise parameters (on their unconstrained scale, Jacobian
    /// included); adds its gradient.
    pub fn log_prior_noise(&self, p: &[f64], g: &mut [f64]) -> f64 {
        let nd = self.mlp.dim();
        match &self.noise {
            Noise::Homoskedastic { fixed: None } => {
                // sigma ~ HalfNormal(1) sampled as s = log sigma: log p = -sigma^2/2 + s.
                let s = p[nd];
                let sig2 = (2.0 * s).exp();
                g[nd] += 1.0 - sig2;
                s - 0.5 * sig2
            }
            Noise::Law(l) => l.log_prior(&p[nd..], &mut g[nd..]),
            _ => 0.0,
        }
    }

    /// The log likelihood given the network outputs `out`, summed over the batch and
    /// multiplied by `scale` (N/B for minibatches). Writes d/d outputs into `d_out`
    /// and adds d/d noise parameters into `g_noise`.
    #[allow(clippy::too_many_arguments)]
    pub fn log_lik_from_outputs(
        &self,
        noise_p: &[f64],
        x: &[f64],
        y: &[f64],
        out: &Array2<f64>,
        scale: f64,
        opts: &EvalOptions,
        d_out: &mut Array2<f64>,
        g_noise: &mut [f64],
        terms: &mut Vec<f64>,
    ) -> (f64, f64) {
        // The default model's plain likelihood: one vectorised pass (see `loglik`).
        if let (None, Noise::TwoHead { floor }, 0.0) = (opts.const_log_sigma, &self.noise, opts.beta_nll) {
            if let (Some(o), Some(d)) = (out.as_slice(), d_out.as_slice_mut()) {
                return (loglik::two_head(o, y, *floor, scale, d, terms), 0.0);
            }
        }
        // A noise law: one pass of its compiled formula over the batch (`terms` is its
        // scratch).
        if let (None, Noise::Law(l)) = (opts.const_log_sigma, &self.noise) {
            if let (Some(mu), Some(d), 1) = (out.as_slice(), d_out.as_slice_mut(), out.ncols()) {
                return (l.log_lik(noise_p, x, y, mu, scale, opts.beta_nll, d, g_noise, terms), 0.0);
            }
        }
        self.log_lik_per_point(noise_p, x, y, out, scale, opts, d_out, g_noise)
    }

    /// The likelihood point by point, for every model and option.
    #[allow(clippy::too_many_arguments)]
    fn log_lik_per_point(
        &self,
        noise_p: &[f64],
        x: &[f64],
        y: &[f64],
        out: &Array2<f64>,
        scale: f64,
        opts: &EvalOptions,
        d_out: &mut Array2<f64>,
        g_noise: &mut [f64],
    ) -> (f64, f64) {
        let mut ll = 0.0;
        let mut d_const = 0.0;
        let mut gl = if matches!(self.noise, Noise::Law(_)) { vec![0.0; self.n_noise()] } else { Vec::new() };
        let beta = opts.beta_nll;
        for i in 0..x.len() {
            let mu = out[[i, 0]];
            let (sigma, dsig_dmu, dsig_do) = match (opts.const_log_sigma, &self.noise) {
                (Some(c), _) => (c.exp(), 0.0, 0.0),
                (None, Noise::Homoskedastic { fixed: Some(s) }) => (*s, 0.0, 0.0),
                (None, Noise::Homoskedastic { fixed: None }) => (noise_p[0].exp(), 0.0, 0.0),
                (None, Noise::TwoHead { floor }) => {
                    // softplus and its derivative share one exp(-|o|).
                    let o = out[[i, 1]];
                    let e = (-o.abs()).exp();
                    let sp = o.max(0.0) + e.ln_1p();
                    let sg = if o >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
                    (sp + floor, 0.0, sg)
                }
                (None, Noise::Law(l)) => {
                    let (s, dmu) = l.sigma_grad(noise_p, x[i], mu, &mut gl);
                    (s, dmu, 0.0)
                }
            };
            let r = y[i] - mu;
            let inv = 1.0 / sigma;
            let z2 = r * r * inv * inv;
            // beta-NLL (Seitzer et al. 2022): weight each point by stop_grad(sigma^(2 beta)).
            let w = if beta > 0.0 { scale * sigma.powf(2.0 * beta) } else { scale };
            ll += w * (-HALF_LN_2PI - sigma.ln() - 0.5 * z2);
            let dmu = w * r * inv * inv;
            let dsig = w * (z2 - 1.0) * inv;
            d_out[[i, 0]] = dmu + dsig * dsig_dmu;
            if d_out.ncols() > 1 {
                d_out[[i, 1]] = dsig * dsig_do;
            }
            match (opts.const_log_sigma, &self.noise) {
                (Some(_), _) => d_const += dsig * sigma,
                (None, Noise::Homoskedastic { fixed: None }) => g_noise[0] += dsig * sigma,
                (None, Noise::Law(l)) => {
                    for k in 0..l.n_params() {
                        g_noise[k] += dsig * gl[k];
                    }
                }
                _ => {}
            }
        }
        (ll, d_const)
    }

    /// Log posterior (log prior + `scale` x log likelihood of the batch) and its
    /// gradient, written into `grad` (overwritten).
    #[allow(clippy::too_many_arguments)]
    pub fn log_posterior(
        &self,
        p: &[f64],
        x: &[f64],
        y: &[f64],
        scale: f64,
        opts: &EvalOptions,
        ws: &mut ModelWorkspace,
        grad: &mut [f64],
    ) -> Eval {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let nd = self.mlp.dim();
        let outs = self.mlp.outputs();
        if ws.d_out.dim() != (x.len(), outs) {
            ws.d_out = Array2::zeros((x.len(), outs));
        }
        let out = self.mlp.forward(p, x, &mut ws.mlp);
        let (noise_p, g_noise) = (&p[nd..], &mut grad[nd..]);
        let (ll, d_const) = self.log_lik_from_outputs(noise_p, x, y, out, scale, opts, &mut ws.d_out, g_noise, &mut ws.terms);
        let d_out = std::mem::take(&mut ws.d_out);
        self.mlp.backward(p, &d_out, &mut ws.mlp, &mut grad[..nd]);
        ws.d_out = d_out;
        let lp = self.log_prior_weights(p, grad) + self.log_prior_noise(p, grad);
        Eval { log_post: lp + ll, log_lik: ll, d_const_log_sigma: d_const }
    }

    /// The network mean and the noise sd at `x` (fitting units) for parameters `p`.
    pub fn predict(&self, p: &[f64], x: &[f64], ws: &mut ModelWorkspace, mu: &mut [f64], sigma: &mut [f64]) {
        let nd = self.mlp.dim();
        let out = self.mlp.forward(p, x, &mut ws.mlp);
        for i in 0..x.len() {
            mu[i] = out[[i, 0]];
            sigma[i] = match &self.noise {
                Noise::Homoskedastic { fixed: Some(s) } => *s,
                Noise::Homoskedastic { fixed: None } => p[nd].exp(),
                Noise::TwoHead { floor } => softplus(out[[i, 1]]) + floor,
                Noise::Law(_) => 0.0,
            };
        }
        if let Noise::Law(l) = &self.noise {
            l.sigma(&p[nd..], x, mu, sigma, &mut ws.terms);
        }
    }

    /// Scratch space for the noise-parameter gradient (used by VI).
    pub fn noise_grad_buffer<'a>(&self, ws: &'a mut ModelWorkspace) -> &'a mut Vec<f64> {
        ws.g_noise.resize(self.n_noise(), 0.0);
        &mut ws.g_noise
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Activation, NoiseLawKind};
    use rand::SeedableRng;
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn the_vectorised_two_head_likelihood_matches_the_per_point_one() {
        let cfg = ModelConfig { kind: ModelKind::TwoHead, hidden: vec![4], ..ModelConfig::default() };
        let x: Vec<f64> = (0..203).map(|i| -2.0 + 4.0 * i as f64 / 202.0).collect();
        let model = Model::new(&cfg, &x, &Scaling::identity(), 1.0);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let y: Vec<f64> = x.iter().map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
        // Noise-head outputs from deep in the floor to far above it, and exact zeros.
        let mut out = Array2::zeros((x.len(), 2));
        for i in 0..x.len() {
            out[[i, 0]] = 0.5 * rng.sample::<f64, _>(StandardNormal);
            out[[i, 1]] = match i % 5 {
                0 => 0.0,
                1 => 40.0 * rng.sample::<f64, _>(StandardNormal),
                2 => -745.0 + rng.random::<f64>(),
                _ => 3.0 * rng.sample::<f64, _>(StandardNormal),
            };
        }
        let opts = EvalOptions::default();
        let (mut da, mut db) = (Array2::zeros((x.len(), 2)), Array2::zeros((x.len(), 2)));
        let mut terms = Vec::new();
        let (fast, _) = model.log_lik_from_outputs(&[], &x, &y, &out, 1.7, &opts, &mut da, &mut [], &mut terms);
        let (plain, _) = model.log_lik_per_point(&[], &x, &y, &out, 1.7, &opts, &mut db, &mut []);
        assert!((fast - plain).abs() <= 1e-12 * plain.abs(), "{fast} vs {plain}");
        // Relative agreement; below 1e-200 (o < -460: exp(o) itself is clamped at
        // e^-708 by the fast exp) only the absolute difference matters.
        for (a, b) in da.iter().zip(db.iter()) {
            assert!((a - b).abs() <= 1e-12 * b.abs() + 1e-200, "{a:e} vs {b:e}");
        }
    }

    fn configs() -> Vec<ModelConfig> {
        let mut v = Vec::new();
        for act in [Activation::Tanh, Activation::Silu, Activation::Relu] {
            for kind in [ModelKind::Homoskedastic, ModelKind::TwoHead] {
                v.push(ModelConfig { kind, activation: act, hidden: vec![6, 4], ..ModelConfig::default() });
            }
        }
        for law in NoiseLawKind::presets() {
            v.push(ModelConfig { kind: ModelKind::NoiseModel, noise_law: law, hidden: vec![6, 4], ..ModelConfig::default() });
        }
        // Custom formulas: one that reads mu through a square root, one below the floor
        // in places, one with stated priors.
        for (f, p) in [("sqrt(a + b*mu^2)", "a ~ positive; b ~ positive"), ("a + b*x", "b ~ normal(0, 0.01)"), ("a*x^2 + c*tanh(mu)", "a ~ normal(0.1, 0.3)")] {
            v.push(ModelConfig {
                kind: ModelKind::NoiseModel,
                noise_law: NoiseLawKind::CUSTOM,
                noise_formula: f.into(),
                noise_priors: p.into(),
                hidden: vec![6, 4],
                ..ModelConfig::default()
            });
        }
        v.push(ModelConfig { kind: ModelKind::Homoskedastic, hidden: vec![], fixed_sigma: Some(0.3), ..ModelConfig::default() });
        v
    }

    fn check_gradient(model: &Model, p: &[f64], x: &[f64], y: &[f64], opts: &EvalOptions, what: &str) {
        let mut model = model.clone();
        model.mlp.kernel = crate::model::kernels::Kernel::Precise;
        let model = &model;
        let mut ws = ModelWorkspace::default();
        let mut g = vec![0.0; model.dim()];
        let e = model.log_posterior(p, x, y, 1.7, opts, &mut ws, &mut g);
        let mut scratch = vec![0.0; model.dim()];
        let mut f = |q: &[f64]| model.log_posterior(q, x, y, 1.7, opts, &mut ws, &mut scratch).log_post;
        for i in 0..model.dim() {
            // h = 1e-5: truncation (h^2 f''') stays under 6e-7 relative here, and the
            // round-off of the difference (the last bits of the vectorised ln/exp depend
            // on the CPU's FMA) is a tenth of that at h = 1e-6, which reached 2.4e-6.
            let h = 1e-5 * p[i].abs().max(1.0);
            let (mut a, mut b) = (p.to_vec(), p.to_vec());
            a[i] += h;
            b[i] -= h;
            let fd = (f(&a) - f(&b)) / (2.0 * h);
            let rel = (fd - g[i]).abs() / fd.abs().max(g[i].abs()).max(1e-2);
            assert!(rel < 1e-6, "{what}: param {i}: fd {fd} vs analytic {}", g[i]);
        }
        if let Some(c) = opts.const_log_sigma {
            let h = 1e-6;
            let mut o = *opts;
            o.const_log_sigma = Some(c + h);
            let up = model.log_posterior(p, x, y, 1.7, &o, &mut ws, &mut scratch).log_post;
            o.const_log_sigma = Some(c - h);
            let dn = model.log_posterior(p, x, y, 1.7, &o, &mut ws, &mut scratch).log_post;
            let fd = (up - dn) / (2.0 * h);
            assert!((fd - e.d_const_log_sigma).abs() < 1e-6 * fd.abs().max(1.0), "{what}: d const sigma");
        }
    }

    #[test]
    fn log_posterior_gradient_matches_finite_differences_for_every_model_law_and_activation() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let x: Vec<f64> = (0..9).map(|i| -1.6 + 0.4 * i as f64).collect();
        let y: Vec<f64> = x.iter().map(|&v| (2.0 * v).sin() + 0.2 * rng.sample::<f64, _>(StandardNormal)).collect();
        let sc = Scaling { x_mean: 1.0, x_sd: 2.0, y_mean: 0.5, y_sd: 1.5 };
        for cfg in configs() {
            let model = Model::new(&cfg, &x, &sc, 1.0);
            let mut p = model.init(&mut rng);
            p.iter_mut().for_each(|v| *v += 0.2 * rng.sample::<f64, _>(StandardNormal));
            let what = format!("{:?}/{}/{}/{:?}", cfg.kind, cfg.noise_law.name(), cfg.noise_formula, cfg.activation);
            check_gradient(&model, &p, &x, &y, &EvalOptions::default(), &what);
            let opts = EvalOptions { const_log_sigma: Some(-0.9), beta_nll: 0.0 };
            check_gradient(&model, &p, &x, &y, &opts, &format!("{what} warm-up"));
        }
    }

    #[test]
    fn hand_off_makes_the_noise_constant() {
        let sc = Scaling { x_mean: 0.0, x_sd: 1.0, y_mean: 0.0, y_sd: 1.0 };
        let x: Vec<f64> = (0..20).map(|i| -1.5 + 0.15 * i as f64).collect();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        for kind in [ModelKind::Homoskedastic, ModelKind::TwoHead] {
            let cfg = ModelConfig { kind, ..ModelConfig::default() };
            let model = Model::new(&cfg, &x, &sc, 1.0);
            let mut p = model.init(&mut rng);
            model.hand_off_sigma(&mut p, 0.27);
            let (mut mu, mut s) = (vec![0.0; x.len()], vec![0.0; x.len()]);
            model.predict(&p, &x, &mut ModelWorkspace::default(), &mut mu, &mut s);
            assert!(s.iter().all(|&v| (v - 0.27).abs() < 1e-9), "{kind:?}: {s:?}");
        }
    }

    #[test]
    fn the_noise_laws_batch_likelihood_matches_the_per_point_one() {
        let x: Vec<f64> = (0..57).map(|i| -2.0 + 4.0 * i as f64 / 56.0).collect();
        let sc = Scaling { x_mean: 1.3, x_sd: 0.7, y_mean: -0.4, y_sd: 2.2 };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let y: Vec<f64> = x.iter().map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
        let laws: Vec<(NoiseLawKind, &str, &str)> = NoiseLawKind::presets()
            .map(|k| (k, "", ""))
            .chain([(NoiseLawKind::CUSTOM, "a + b*x", ""), (NoiseLawKind::CUSTOM, "sqrt(a + b*mu^2)*exp(c*x)", "a ~ positive; b ~ positive")])
            .collect();
        for (law, formula, priors) in laws {
            for beta in [0.0, 0.5] {
                let cfg = ModelConfig {
                    kind: ModelKind::NoiseModel,
                    noise_law: law,
                    noise_formula: formula.into(),
                    noise_priors: priors.into(),
                    hidden: vec![4],
                    ..ModelConfig::default()
                };
                let model = Model::new(&cfg, &x, &sc, 1.0);
                let k = model.n_noise();
                let z: Vec<f64> = (0..k).map(|_| 0.5 * rng.sample::<f64, _>(StandardNormal)).collect();
                let mut out = Array2::zeros((x.len(), 1));
                out.iter_mut().for_each(|v| *v = 0.8 * rng.sample::<f64, _>(StandardNormal));
                let opts = EvalOptions { const_log_sigma: None, beta_nll: beta };
                let (mut da, mut db) = (Array2::zeros((x.len(), 1)), Array2::zeros((x.len(), 1)));
                let (mut ga, mut gb) = (vec![0.0; k], vec![0.0; k]);
                let mut terms = Vec::new();
                let (fast, _) = model.log_lik_from_outputs(&z, &x, &y, &out, 1.7, &opts, &mut da, &mut ga, &mut terms);
                let (plain, _) = model.log_lik_per_point(&z, &x, &y, &out, 1.7, &opts, &mut db, &mut gb);
                let what = format!("{} {formula} beta {beta}", law.name());
                assert!((fast - plain).abs() <= 1e-12 * plain.abs(), "{what}: {fast} vs {plain}");
                for (a, b) in da.iter().zip(db.iter()).chain(ga.iter().zip(&gb)) {
                    assert!((a - b).abs() <= 1e-10 * b.abs().max(1e-3), "{what}: {a:e} vs {b:e}");
                }
            }
        }
    }

    #[test]
    fn hand_off_makes_every_preset_nearly_constant() {
        let sc = Scaling { x_mean: 2.0, x_sd: 1.2, y_mean: 0.5, y_sd: 1.4 };
        let x: Vec<f64> = (0..40).map(|i| -1.6 + 3.2 * i as f64 / 39.0).collect();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for law in NoiseLawKind::presets() {
            let cfg = ModelConfig { kind: ModelKind::NoiseModel, noise_law: law, hidden: vec![6], ..ModelConfig::default() };
            let model = Model::new(&cfg, &x, &sc, 1.0);
            let mut p = model.init(&mut rng);
            model.hand_off_sigma(&mut p, 0.3);
            let (mut mu, mut s) = (vec![0.0; x.len()], vec![0.0; x.len()]);
            model.predict(&p, &x, &mut ModelWorkspace::default(), &mut mu, &mut s);
            let avg = s.iter().sum::<f64>() / s.len() as f64;
            let worst = s.iter().map(|v| (v / 0.3).ln().abs()).fold(0.0, f64::max);
            assert!((avg / 0.3 - 1.0).abs() < 0.1 && worst < 0.5, "{}: mean {avg}, worst log ratio {worst}", law.name());
        }
    }
}
