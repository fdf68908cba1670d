//! wasm32 benchmark and kernel check, driven by run.js (see run.sh).

use bayesband::config::ModelConfig;
use bayesband::data::Scaling;
use bayesband::model::kernels::Kernel;
use bayesband::model::{EvalOptions, Model, ModelWorkspace};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct Bench {
    model: Model,
    p: Vec<f64>,
    g: Vec<f64>,
    x: Vec<f64>,
    y: Vec<f64>,
    ws: ModelWorkspace,
}

#[wasm_bindgen]
impl Bench {
    #[wasm_bindgen(constructor)]
    pub fn new(n: usize, kernel: u32) -> Bench {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let x: Vec<f64> = (0..n).map(|i| -1.7 + 3.4 * i as f64 / (n - 1) as f64).collect();
        let y = x.iter().map(|&v| (2.0 * v).sin() + 0.2 * rng.sample::<f64, _>(StandardNormal)).collect();
        let sc = Scaling { x_mean: 0.0, x_sd: 1.0, y_mean: 0.0, y_sd: 1.0 };
        let mut model = Model::new(&ModelConfig::default(), &x, &sc, 1.0);
        model.mlp.kernel = match kernel { 0 => Kernel::Fast, 1 => Kernel::Precise, _ => Kernel::Reference };
        let mut r = Xoshiro256PlusPlus::seed_from_u64(7);
        let p = model.init(&mut r);
        let g = vec![0.0; model.dim()];
        Bench { model, p, g, x, y, ws: ModelWorkspace::default() }
    }
    pub fn run(&mut self, calls: usize) -> f64 {
        let mut s = 0.0;
        for k in 0..calls {
            self.p[k % 8] += 1e-12;
            s += self.model.log_posterior(&self.p, &self.x, &self.y, 1.0, &EvalOptions::default(), &mut self.ws, &mut self.g).log_post;
        }
        s
    }
    /// Microseconds per call of the network's forward pass, the likelihood and the
    /// backward pass (the prior is the rest), over `calls` gradients: where a gradient's
    /// time goes in this engine.
    pub fn parts(&mut self, calls: usize) -> String {
        let nd = self.model.mlp.dim();
        let opts = EvalOptions::default();
        let mut d_out = ndarray::Array2::zeros((self.x.len(), self.model.mlp.outputs()));
        let mut terms = Vec::new();
        let mut t = [0.0f64; 3];
        for k in 0..calls {
            self.p[k % 8] += 1e-12;
            let t0 = perf_now();
            let out = self.model.mlp.forward(&self.p, &self.x, &mut self.ws.mlp).clone();
            let t1 = perf_now();
            let (noise_p, g_noise) = (&self.p[nd..], &mut self.g[nd..]);
            self.model.log_lik_from_outputs(noise_p, &self.x, &self.y, &out, 1.0, &opts, &mut d_out, g_noise, &mut terms);
            let t2 = perf_now();
            self.model.mlp.backward(&self.p, &d_out, &mut self.ws.mlp, &mut self.g[..nd]);
            let t3 = perf_now();
            t[0] += t1 - t0;
            t[1] += t2 - t1;
            t[2] += t3 - t2;
        }
        let us = |v: f64| 1000.0 * v / calls as f64;
        format!("forward {:.2} us, likelihood {:.2} us, backward {:.2} us", us(t[0]), us(t[1]), us(t[2]))
    }
    pub fn describe(&self) -> String {
        format!("{:?}: {}", self.model.mlp.kernel, self.model.mlp.kernel.describe())
    }
}

/// Max |fast - precise| of outputs and gradients (relative to the largest), over nets,
/// activations and batch sizes: the wasm kernels checked against the exact path.
/// The simd128 LRT parts against the generic loops (`Ok` or where they differ).
#[wasm_bindgen]
pub fn check_lrt_parts() -> String {
    match bayesband::model::kernels::wasm_lrt_parts_match_the_generic_loops() {
        Ok(()) => "simd128 LRT parts (normals, noise step): bit-identical to the generic loops".into(),
        Err(e) => format!("simd128 LRT parts DIFFER: {e}"),
    }
}

/// The f64x2 two-head likelihood against the scalar pass (`Ok` or where they differ).
#[wasm_bindgen]
pub fn check_loglik() -> String {
    match bayesband::model::wasm_loglik_matches_the_scalar_pass() {
        Ok(()) => "simd128 two-head likelihood: bit-identical to the scalar pass".into(),
        Err(e) => format!("simd128 two-head likelihood DIFFERS: {e}"),
    }
}

#[wasm_bindgen]
pub fn check() -> String {
    use bayesband::config::Activation;
    use bayesband::model::{Mlp, Workspace};
    use ndarray::Array2;
    let mut worst = (0.0f64, 0.0f64);
    for (hidden, outs) in [(vec![32, 16, 8], 2), (vec![13, 7, 3], 2), (vec![1], 1), (vec![], 2), (vec![70, 5], 3)] {
        for act in [Activation::Tanh, Activation::Silu, Activation::Relu] {
            for n in [1usize, 7, 8, 9, 40, 151, 500] {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(n as u64);
                let mut mlp = Mlp::new(&hidden, outs, act);
                let mut p = vec![0.0; mlp.dim()];
                mlp.init(&mut rng, &mut p);
                p.iter_mut().for_each(|v| *v += 0.3 * rng.sample::<f64, _>(StandardNormal));
                let x: Vec<f64> = (0..n).map(|_| 2.0 * rng.sample::<f64, _>(StandardNormal)).collect();
                let d = Array2::from_shape_fn((n, outs), |_| rng.sample::<f64, _>(StandardNormal));
                let mut res = Vec::new();
                for k in [Kernel::Precise, Kernel::Fast] {
                    mlp.kernel = k;
                    let mut ws = Workspace::default();
                    let o = mlp.forward(&p, &x, &mut ws).clone();
                    let mut g = vec![0.0; mlp.dim()];
                    mlp.backward(&p, &d, &mut ws, &mut g);
                    res.push((o, g));
                }
                let so = res[0].0.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                let sg = res[0].1.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                let eo = res[0].0.iter().zip(&res[1].0).fold(0.0f64, |m, (a, b)| m.max((a - b).abs())) / so;
                let eg = res[0].1.iter().zip(&res[1].1).fold(0.0f64, |m, (a, b)| m.max((a - b).abs())) / sg;
                if !(eo <= 2e-5 && eg <= 2e-4) {
                    return format!("FAIL {hidden:?}/{outs}/{act:?}/n={n}: outputs {eo:e}, gradients {eg:e}");
                }
                worst = (worst.0.max(eo), worst.1.max(eg));
            }
        }
    }
    format!("ok: worst relative error outputs {:.2e}, gradients {:.2e} ({})", worst.0, worst.1, Kernel::Fast.describe())
}

/// A whole default fit of bump (N = 150, data seed 1), two-head, by `method` (its own
/// defaults, as the CLI's `--method`): milliseconds of wall time. The VI-against-pSGLD
/// ratio of the browser's worker without the page (issue 9, item 16).
#[wasm_bindgen]
pub fn fit_ms(method: &str) -> f64 {
    use bayesband::config::{FitConfig, Method, ModelKind};
    use bayesband::data::Synthetic;
    use bayesband::infer::Fit;
    let data = Synthetic::Bump.generate(150, 1);
    let mut c = FitConfig::default();
    c.model.kind = ModelKind::TwoHead;
    c.inference.method = Method::from_name(method).expect("a method name");
    c.inference.draws = c.inference.method.spec().default_draws;
    let t0 = js_sys_now();
    let mut fit = Fit::new(c, &data).expect("a valid fit");
    while !fit.is_finished() {
        fit.step(500).expect("no divergence");
    }
    let _ = fit.snapshot(&data.grid(200, 0.05));
    js_sys_now() - t0
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn js_sys_now() -> f64;
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn perf_now() -> f64;
}
