//! The multilayer perceptron: batch-major forward and hand-written backward pass over
//! one flat parameter vector, both for point weights (MAP, samplers) and for the local
//! reparameterisation trick of mean-field VI (Kingma, Salimans & Welling 2015).

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use rand::Rng;
use rand_distr::StandardNormal;

use super::kernels::{self, Bufs, Kernel};
use crate::config::Activation;

/// Shapes of the network and where each layer sits in the flat parameter vector.
/// Layer l maps `widths[l]` inputs to `widths[l+1]` outputs; weights are stored
/// row-major (inputs x outputs), then the biases.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub widths: Vec<usize>,
    pub activation: Activation,
    /// Which implementation `forward`/`backward` and `forward_lrt`/`backward_lrt` use
    /// (default [`Kernel::Fast`]; see [`Kernel`]).
    pub kernel: Kernel,
    offsets: Vec<usize>,
    dim: usize,
}

/// Preallocated buffers of one batch size; reused across calls.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    rows: usize,
    /// Pre-activations z_l and outputs a_l of every layer (a_0 is the input).
    z: Vec<Array2<f64>>,
    a: Vec<Array2<f64>>,
    /// Local reparameterisation: a_l^2, the noise draws and the pre-activation sd.
    a2: Vec<Array2<f64>>,
    eps: Vec<Array2<f64>>,
    sd: Vec<Array2<f64>>,
    /// Backward buffers: gradient w.r.t. pre-activation and w.r.t. layer input.
    dz: Vec<Array2<f64>>,
    da: Vec<Array2<f64>>,
    /// Buffers of the hand-written kernels (f32 fast path, f64 precise path), the
    /// outputs they return, and the kernel of the last `forward`.
    k32: Bufs<f32>,
    k64: Bufs<f64>,
    out: Array2<f64>,
    /// The kernel of the last forward pass, and whether it was an LRT pass.
    last: Option<(Kernel, bool)>,
}

impl Mlp {
    /// A network from 1 input through `hidden` to `outputs`.
    pub fn new(hidden: &[usize], outputs: usize, activation: Activation) -> Mlp {
        let mut widths = vec![1];
        widths.extend_from_slice(hidden);
        widths.push(outputs);
        let mut offsets = Vec::with_capacity(widths.len());
        let mut off = 0;
        for l in 0..widths.len() - 1 {
            offsets.push(off);
            off += widths[l] * widths[l + 1] + widths[l + 1];
        }
        Mlp { widths, activation, kernel: Kernel::default(), offsets, dim: off }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }
    pub fn layers(&self) -> usize {
        self.widths.len() - 1
    }
    pub fn outputs(&self) -> usize {
        *self.widths.last().unwrap()
    }
    /// Range of layer l's weights (inputs x outputs, row-major) in the flat vector.
    pub fn weight_range(&self, l: usize) -> std::ops::Range<usize> {
        let o = self.offsets[l];
        o..o + self.widths[l] * self.widths[l + 1]
    }
    /// Range of layer l's biases.
    pub fn bias_range(&self, l: usize) -> std::ops::Range<usize> {
        let o = self.offsets[l] + self.widths[l] * self.widths[l + 1];
        o..o + self.widths[l + 1]
    }

    fn weights<'a>(&self, p: &'a [f64], l: usize) -> ArrayView2<'a, f64> {
        ArrayView2::from_shape((self.widths[l], self.widths[l + 1]), &p[self.weight_range(l)]).unwrap()
    }

    /// Random initial weights: N(0, 1/fan_in) weights so tanh units start in their
    /// linear range; first-layer biases N(0, 1) spread the units' kinks over the
    /// standardised x range; other biases 0.
    pub fn init<R: Rng>(&self, rng: &mut R, out: &mut [f64]) {
        self.init_with(rng, out, |fan_in| 1.0 / (fan_in as f64).sqrt());
    }

    /// Like `init`, but every weight drawn from N(0, sd^2) whatever its fan-in.
    pub fn init_weights_sd<R: Rng>(&self, rng: &mut R, out: &mut [f64], sd: f64) {
        self.init_with(rng, out, |_| sd);
    }

    fn init_with<R: Rng>(&self, rng: &mut R, out: &mut [f64], weight_sd: impl Fn(usize) -> f64) {
        for l in 0..self.layers() {
            let sd = weight_sd(self.widths[l]);
            for w in &mut out[self.weight_range(l)] {
                *w = sd * rng.sample::<f64, _>(StandardNormal);
            }
            for b in &mut out[self.bias_range(l)] {
                *b = if l == 0 { rng.sample::<f64, _>(StandardNormal) } else { 0.0 };
            }
        }
    }

    fn ensure(&self, ws: &mut Workspace, rows: usize, lrt: bool) {
        let l = self.layers();
        let fresh = ws.rows != rows || ws.z.len() != l || (lrt && ws.eps.len() != l);
        if !fresh {
            return;
        }
        ws.rows = rows;
        ws.z = (0..l).map(|i| Array2::zeros((rows, self.widths[i + 1]))).collect();
        ws.a = (0..=l).map(|i| Array2::zeros((rows, self.widths[i]))).collect();
        ws.dz = (0..l).map(|i| Array2::zeros((rows, self.widths[i + 1]))).collect();
        ws.da = (0..l).map(|i| Array2::zeros((rows, self.widths[i]))).collect();
        if lrt {
            ws.a2 = (0..l).map(|i| Array2::zeros((rows, self.widths[i]))).collect();
            ws.eps = (0..l).map(|i| Array2::zeros((rows, self.widths[i + 1]))).collect();
            ws.sd = (0..l).map(|i| Array2::zeros((rows, self.widths[i + 1]))).collect();
        } else {
            ws.a2.clear();
            ws.eps.clear();
            ws.sd.clear();
        }
    }

    fn activate(&self, ws: &mut Workspace, l: usize) {
        let act = self.activation;
        let (z, a) = (&ws.z[l], &mut ws.a[l + 1]);
        a.zip_mut_with(z, |a, &z| *a = act.apply(z));
    }

    /// Forward pass with point weights; returns the network outputs (rows x outputs).
    pub fn forward<'w>(&self, p: &[f64], x: &[f64], ws: &'w mut Workspace) -> &'w Array2<f64> {
        ws.last = Some((self.kernel, false));
        match self.kernel {
            Kernel::Fast => {
                kernels::forward_f32(&self.widths, self.activation, p, x, &mut ws.k32, &mut ws.out);
                &ws.out
            }
            Kernel::Precise => {
                kernels::forward_f64(&self.widths, self.activation, p, x, &mut ws.k64, &mut ws.out);
                &ws.out
            }
            Kernel::Reference => self.forward_reference(p, x, ws),
        }
    }

    /// Backward pass after `forward`: adds d objective / d params to `grad`, given
    /// `d_out` = d objective / d outputs (rows x outputs).
    pub fn backward(&self, p: &[f64], d_out: &Array2<f64>, ws: &mut Workspace, grad: &mut [f64]) {
        assert_eq!(ws.last, Some((self.kernel, false)), "Mlp::backward: run forward with the same kernel first");
        match self.kernel {
            Kernel::Fast => kernels::backward_f32(&self.widths, p, d_out, &mut ws.k32, &mut grad[..self.dim]),
            Kernel::Precise => kernels::backward_f64(&self.widths, p, d_out, &mut ws.k64, &mut grad[..self.dim]),
            Kernel::Reference => self.backward_reference(p, d_out, ws, grad),
        }
    }

    /// The original ndarray forward pass (kept as the plain reference).
    fn forward_reference<'w>(&self, p: &[f64], x: &[f64], ws: &'w mut Workspace) -> &'w Array2<f64> {
        self.ensure(ws, x.len(), false);
        ws.a[0].column_mut(0).iter_mut().zip(x).for_each(|(a, &x)| *a = x);
        let last = self.layers() - 1;
        for l in 0..self.layers() {
            let w = self.weights(p, l);
            let b = &p[self.bias_range(l)];
            {
                let z = &mut ws.z[l];
                for mut row in z.rows_mut() {
                    row.iter_mut().zip(b).for_each(|(z, &b)| *z = b);
                }
                general_mat_mul(1.0, &ws.a[l], &w, 1.0, z);
            }
            if l < last {
                self.activate(ws, l);
            }
        }
        &ws.z[last]
    }

    fn backward_reference(&self, p: &[f64], d_out: &Array2<f64>, ws: &mut Workspace, grad: &mut [f64]) {
        let last = self.layers() - 1;
        ws.dz[last].assign(d_out);
        for l in (0..self.layers()).rev() {
            let (wr, br) = (self.weight_range(l), self.bias_range(l));
            {
                let (gw, gb) = grad[wr.start..br.end].split_at_mut(wr.len());
                let mut gw = ArrayViewMut2::from_shape((self.widths[l], self.widths[l + 1]), gw).unwrap();
                general_mat_mul(1.0, &ws.a[l].t(), &ws.dz[l], 1.0, &mut gw);
                for row in ws.dz[l].rows() {
                    gb.iter_mut().zip(row).for_each(|(g, &d)| *g += d);
                }
            }
            if l > 0 {
                let w = self.weights(p, l);
                general_mat_mul(1.0, &ws.dz[l], &w.t(), 0.0, &mut ws.da[l]);
                let act = self.activation;
                let (lo, hi) = ws.dz.split_at_mut(l);
                let _ = hi;
                let dz_prev = &mut lo[l - 1];
                ndarray::Zip::from(dz_prev)
                    .and(&ws.da[l])
                    .and(&ws.z[l - 1])
                    .and(&ws.a[l])
                    .for_each(|dz, &da, &z, &a| *dz = da * act.derivative(z, a));
            }
        }
    }

    /// Forward pass under a factorised Gaussian over the weights with means `m` and
    /// variances `v`, sampling each pre-activation from its exact Gaussian
    /// (local reparameterisation): mean = a·M + m_b, var = a²·V + v_b. Every kernel
    /// takes the same draws from `rng` (see `kernels::dense::forward_lrt`).
    pub fn forward_lrt<'w, R: Rng>(
        &self,
        m: &[f64],
        v: &[f64],
        x: &[f64],
        rng: &mut R,
        ws: &'w mut Workspace,
    ) -> &'w Array2<f64> {
        ws.last = Some((self.kernel, true));
        match self.kernel {
            Kernel::Fast => {
                kernels::forward_lrt_f32(&self.widths, self.activation, m, v, x, rng, &mut ws.k32, &mut ws.out);
                &ws.out
            }
            Kernel::Precise => {
                kernels::forward_lrt_f64(&self.widths, self.activation, m, v, x, rng, &mut ws.k64, &mut ws.out);
                &ws.out
            }
            Kernel::Reference => self.forward_lrt_reference(m, v, x, rng, ws),
        }
    }

    /// Backward pass after `forward_lrt`: adds the gradients w.r.t. the means (`gm`)
    /// and the variances (`gv`).
    pub fn backward_lrt(
        &self,
        m: &[f64],
        v: &[f64],
        d_out: &Array2<f64>,
        ws: &mut Workspace,
        gm: &mut [f64],
        gv: &mut [f64],
    ) {
        assert_eq!(ws.last, Some((self.kernel, true)), "Mlp::backward_lrt: run forward_lrt with the same kernel first");
        let (gm, gv) = (&mut gm[..self.dim], &mut gv[..self.dim]);
        match self.kernel {
            Kernel::Fast => kernels::backward_lrt_f32(&self.widths, m, d_out, &mut ws.k32, gm, gv),
            Kernel::Precise => kernels::backward_lrt_f64(&self.widths, m, d_out, &mut ws.k64, gm, gv),
            Kernel::Reference => self.backward_lrt_reference(m, v, d_out, ws, gm, gv),
        }
    }

    /// The original ndarray LRT forward pass (the plain reference), with the kernels'
    /// draws.
    fn forward_lrt_reference<'w, R: Rng>(
        &self,
        m: &[f64],
        v: &[f64],
        x: &[f64],
        rng: &mut R,
        ws: &'w mut Workspace,
    ) -> &'w Array2<f64> {
        self.ensure(ws, x.len(), true);
        let (np, noise) = kernels::lrt_noise(&self.widths, x.len(), rng);
        for (e, d) in ws.eps.iter_mut().zip(&noise) {
            e.indexed_iter_mut().for_each(|((i, q), e)| *e = d[q * np + i]);
        }
        ws.a[0].column_mut(0).iter_mut().zip(x).for_each(|(a, &x)| *a = x);
        let last = self.layers() - 1;
        for l in 0..self.layers() {
            let (mw, vw) = (self.weights(m, l), self.weights(v, l));
            let (mb, vb) = (&m[self.bias_range(l)], &v[self.bias_range(l)]);
            ws.a2[l].zip_mut_with(&ws.a[l], |q, &a| *q = a * a);
            {
                let sd = &mut ws.sd[l];
                for mut row in sd.rows_mut() {
                    row.iter_mut().zip(vb).for_each(|(s, &b)| *s = b);
                }
                general_mat_mul(1.0, &ws.a2[l], &vw, 1.0, sd);
                sd.mapv_inplace(|q| q.max(0.0).sqrt());
            }
            {
                let z = &mut ws.z[l];
                for mut row in z.rows_mut() {
                    row.iter_mut().zip(mb).for_each(|(z, &b)| *z = b);
                }
                general_mat_mul(1.0, &ws.a[l], &mw, 1.0, z);
                ndarray::Zip::from(z).and(&ws.sd[l]).and(&ws.eps[l]).for_each(|z, &s, &e| *z += s * e);
            }
            if l < last {
                self.activate(ws, l);
            }
        }
        &ws.z[last]
    }

    fn backward_lrt_reference(
        &self,
        m: &[f64],
        v: &[f64],
        d_out: &Array2<f64>,
        ws: &mut Workspace,
        gm: &mut [f64],
        gv: &mut [f64],
    ) {
        let last = self.layers() - 1;
        ws.dz[last].assign(d_out);
        for l in (0..self.layers()).rev() {
            let (wr, br) = (self.weight_range(l), self.bias_range(l));
            let shape = (self.widths[l], self.widths[l + 1]);
            // d/d var of the pre-activation: dz · eps / (2 sd); reuse the eps buffer.
            ndarray::Zip::from(&mut ws.eps[l]).and(&ws.sd[l]).and(&ws.dz[l]).for_each(|e, &s, &d| {
                *e = if s > 0.0 { d * *e / (2.0 * s) } else { 0.0 };
            });
            {
                let (gmw, gmb) = gm[wr.start..br.end].split_at_mut(wr.len());
                let mut gmw = ArrayViewMut2::from_shape(shape, gmw).unwrap();
                general_mat_mul(1.0, &ws.a[l].t(), &ws.dz[l], 1.0, &mut gmw);
                for row in ws.dz[l].rows() {
                    gmb.iter_mut().zip(row).for_each(|(g, &d)| *g += d);
                }
                let (gvw, gvb) = gv[wr.start..br.end].split_at_mut(wr.len());
                let mut gvw = ArrayViewMut2::from_shape(shape, gvw).unwrap();
                general_mat_mul(1.0, &ws.a2[l].t(), &ws.eps[l], 1.0, &mut gvw);
                for row in ws.eps[l].rows() {
                    gvb.iter_mut().zip(row).for_each(|(g, &d)| *g += d);
                }
            }
            if l > 0 {
                let (mw, vw) = (self.weights(m, l), self.weights(v, l));
                // d a = dz·Mᵀ + 2 a ⊙ (dvar·Vᵀ)
                general_mat_mul(1.0, &ws.eps[l], &vw.t(), 0.0, &mut ws.da[l]);
                ws.da[l].zip_mut_with(&ws.a[l], |d, &a| *d *= 2.0 * a);
                general_mat_mul(1.0, &ws.dz[l], &mw.t(), 1.0, &mut ws.da[l]);
                let act = self.activation;
                let (lo, _) = ws.dz.split_at_mut(l);
                ndarray::Zip::from(&mut lo[l - 1])
                    .and(&ws.da[l])
                    .and(&ws.z[l - 1])
                    .and(&ws.a[l])
                    .for_each(|dz, &da, &z, &a| *dz = da * act.derivative(z, a));
            }
        }
    }
}

/// Sum over rows, as a helper for tests and bias gradients.
pub fn column_sums(a: &Array2<f64>) -> Vec<f64> {
    a.sum_axis(Axis(0)).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn objective(mlp: &Mlp, p: &[f64], x: &[f64], c: &Array2<f64>, ws: &mut Workspace) -> f64 {
        let out = mlp.forward(p, x, ws);
        (out * c).sum() + 0.5 * out.mapv(|o| o * o).sum()
    }

    #[test]
    fn backward_matches_finite_differences_for_every_activation() {
        let x = [-1.3, -0.2, 0.4, 1.1, 2.0];
        for act in [Activation::Tanh, Activation::Silu, Activation::Relu] {
            let mut mlp = Mlp::new(&[5, 4], 2, act);
            mlp.kernel = Kernel::Precise;
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
            let mut p = vec![0.0; mlp.dim()];
            mlp.init(&mut rng, &mut p);
            p.iter_mut().for_each(|v| *v += 0.1 * rng.sample::<f64, _>(StandardNormal));
            let c = Array2::from_shape_fn((5, 2), |(i, j)| 0.3 * i as f64 - 0.5 * j as f64);
            let mut ws = Workspace::default();
            let out = mlp.forward(&p, &x, &mut ws).clone();
            let d_out = &c + &out;
            let mut g = vec![0.0; mlp.dim()];
            mlp.backward(&p, &d_out, &mut ws, &mut g);
            for i in 0..mlp.dim() {
                let h = 1e-5;
                let (mut pp, mut pm) = (p.clone(), p.clone());
                pp[i] += h;
                pm[i] -= h;
                let fd = (objective(&mlp, &pp, &x, &c, &mut ws) - objective(&mlp, &pm, &x, &c, &mut ws)) / (2.0 * h);
                let err = (fd - g[i]).abs() / (1e-6 + fd.abs().max(g[i].abs()));
                assert!(err < 1e-6 || (fd - g[i]).abs() < 1e-9, "{act:?} param {i}: fd {fd} vs {}", g[i]);
            }
        }
    }

    #[test]
    fn lrt_with_zero_variance_equals_the_point_forward_pass() {
        for kernel in [Kernel::Precise, Kernel::Reference, Kernel::Fast] {
            let mut mlp = Mlp::new(&[6, 3], 2, Activation::Tanh);
            mlp.kernel = kernel;
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
            let mut p = vec![0.0; mlp.dim()];
            mlp.init(&mut rng, &mut p);
            let v = vec![0.0; mlp.dim()];
            let x = [-1.0, 0.0, 0.5];
            let mut ws = Workspace::default();
            let a = mlp.forward(&p, &x, &mut ws).clone();
            let b = mlp.forward_lrt(&p, &v, &x, &mut rng, &mut ws).clone();
            // The fast kernel runs the same f32 sums in both passes.
            let tol = if kernel == Kernel::Fast { 1e-6 } else { 1e-14 };
            assert!((a - b).iter().all(|d| d.abs() < tol), "{kernel:?}");
        }
    }

    #[test]
    fn lrt_backward_matches_finite_differences_with_fixed_noise() {
        // Same seed for every evaluation = the same eps draws, so the sampled output is a
        // deterministic function of (m, v) and can be differentiated numerically. Three
        // hidden layers, so the variance term of d/d input (2 a ⊙ dvar·Vᵀ) is chained.
        for (kernel, act) in
            [(Kernel::Precise, Activation::Tanh), (Kernel::Precise, Activation::Silu), (Kernel::Reference, Activation::Tanh)]
        {
            let mut mlp = Mlp::new(&[4, 3, 3], 2, act);
            mlp.kernel = kernel;
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
            let mut m = vec![0.0; mlp.dim()];
            mlp.init(&mut rng, &mut m);
            let v: Vec<f64> = (0..mlp.dim()).map(|i| 0.01 + 0.02 * (i % 5) as f64).collect();
            let x = [-1.2, 0.3, 0.9, 1.5, -0.4];
            let c = Array2::from_shape_fn((5, 2), |(i, j)| 0.2 * i as f64 + 0.7 * j as f64 - 0.4);
            let obj = |m: &[f64], v: &[f64], ws: &mut Workspace| {
                let mut r = Xoshiro256PlusPlus::seed_from_u64(99);
                let out = mlp.forward_lrt(m, v, &x, &mut r, ws);
                (out * &c).sum() + 0.5 * out.mapv(|o| o * o).sum()
            };
            let mut ws = Workspace::default();
            let mut r = Xoshiro256PlusPlus::seed_from_u64(99);
            let out = mlp.forward_lrt(&m, &v, &x, &mut r, &mut ws).clone();
            let d_out = &c + &out;
            let (mut gm, mut gv) = (vec![0.0; mlp.dim()], vec![0.0; mlp.dim()]);
            mlp.backward_lrt(&m, &v, &d_out, &mut ws, &mut gm, &mut gv);
            let h = 1e-6;
            for i in 0..mlp.dim() {
                let (mut a, mut b) = (m.clone(), m.clone());
                a[i] += h;
                b[i] -= h;
                let fd = (obj(&a, &v, &mut ws) - obj(&b, &v, &mut ws)) / (2.0 * h);
                assert!((fd - gm[i]).abs() <= 1e-6 * fd.abs().max(1.0), "{kernel:?} {act:?} mean {i}: {fd} vs {}", gm[i]);
                let (mut a, mut b) = (v.clone(), v.clone());
                a[i] += h;
                b[i] -= h;
                let fd = (obj(&m, &a, &mut ws) - obj(&m, &b, &mut ws)) / (2.0 * h);
                assert!((fd - gv[i]).abs() <= 1e-6 * fd.abs().max(1.0), "{kernel:?} {act:?} var {i}: {fd} vs {}", gv[i]);
            }
        }
    }
}
