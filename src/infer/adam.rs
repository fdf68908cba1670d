//! Adam (Kingma & Ba 2015), used for the warm start and for mean-field VI.
//! Written as ascent on an objective to be maximised (a log posterior or an ELBO).

/// The constants of one run of coordinates in `Adam::ascend`.
struct Run {
    b1: f64,
    b2: f64,
    c1: f64,
    c2: f64,
    lr: f64,
    eps: f64,
}

#[inline(always)]
fn run_loop(r: &Run, x: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64]) {
    let n = x.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        m[i] = r.b1 * m[i] + (1.0 - r.b1) * g[i];
        v[i] = r.b2 * v[i] + (1.0 - r.b2) * g[i] * g[i];
        x[i] += r.lr * (m[i] / r.c1) / ((v[i] / r.c2).sqrt() + r.eps);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_loop_avx2(r: &Run, x: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64]) {
    run_loop(r, x, g, m, v)
}

/// `run_loop` on the widest instruction set here (the same operations in the same
/// order: the results are bit for bit those of the scalar loop).
fn run_pass(r: &Run, x: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if crate::model::kernels::simd() == crate::model::kernels::Simd::Avx2Fma {
        // SAFETY: the CPU has the features the function is compiled for.
        return unsafe { run_loop_avx2(r, x, g, m, v) };
    }
    run_loop(r, x, g, m, v)
}

#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    pub m: Vec<f64>,
    pub v: Vec<f64>,
    pub t: u64,
    /// Step at which each coordinate's moments were last reset (see `restart`).
    start: Vec<u64>,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
}

impl Adam {
    /// The published defaults: beta1 0.9, beta2 0.999, eps 1e-8.
    pub fn new(dim: usize) -> Adam {
        Adam { m: vec![0.0; dim], v: vec![0.0; dim], t: 0, start: vec![0; dim], beta1: 0.9, beta2: 0.999, eps: 1e-8 }
    }

    /// One step of size `lr` along the gradient `g` of the objective to maximise.
    pub fn ascend(&mut self, x: &mut [f64], g: &[f64], lr: f64) {
        self.t += 1;
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        let n = x.len();
        let mut i = 0;
        // Runs of coordinates restarted at the same step share one bias correction, so
        // each run is one branch-free loop that vectorises.
        while i < n {
            let start = self.start[i];
            let j = i + self.start[i..n].iter().take_while(|&&s| s == start).count();
            // Bias correction counts the steps since this coordinate's restart.
            let k = (self.t - start).min(i32::MAX as u64) as i32;
            let (c1, c2) = (1.0 - b1.powi(k), 1.0 - b2.powi(k));
            let r = Run { b1, b2, c1, c2, lr, eps };
            run_pass(&r, &mut x[i..j], &g[i..j], &mut self.m[i..j], &mut self.v[i..j]);
            i = j;
        }
    }

    /// Forget the moments of the coordinates where `which` is true, as if they had
    /// just been created: a parameter that was frozen (or reset) must not inherit
    /// a bias correction made for steps it never took, or its first steps are
    /// several times the learning rate.
    pub fn restart(&mut self, which: impl Fn(usize) -> bool) {
        for i in 0..self.m.len() {
            if which(i) {
                self.m[i] = 0.0;
                self.v[i] = 0.0;
                self.start[i] = self.t;
            }
        }
    }

    /// The bias-corrected second moment: the starting preconditioner of pSGLD.
    pub fn second_moment(&self) -> Vec<f64> {
        (0..self.v.len())
            .map(|i| {
                let k = (self.t - self.start[i]).min(i32::MAX as u64) as i32;
                if k == 0 { self.v[i] } else { self.v[i] / (1.0 - self.beta2.powi(k)) }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_finds_the_maximum_of_a_concave_quadratic() {
        // f(x) = -sum a_i (x_i - c_i)^2 / 2, maximum at c.
        let (a, c) = ([1.0, 10.0, 0.1], [0.5, -2.0, 3.0]);
        let mut x = vec![0.0; 3];
        let mut opt = Adam::new(3);
        for k in 0..20000 {
            let g: Vec<f64> = (0..3).map(|i| -a[i] * (x[i] - c[i])).collect();
            let lr = if k < 15000 { 1e-2 } else { 1e-3 };
            opt.ascend(&mut x, &g, lr);
        }
        for i in 0..3 {
            assert!((x[i] - c[i]).abs() < 1e-2, "{x:?}");
        }
    }

    #[test]
    fn runs_give_bit_for_bit_the_per_coordinate_update() {
        // The update as published, one coordinate at a time, with restarts.
        let d = 37;
        let mut opt = Adam::new(d);
        let (mut m, mut v, mut start) = (vec![0.0; d], vec![0.0; d], vec![0u64; d]);
        let (mut x, mut y) = (vec![0.3; d], vec![0.3; d]);
        for t in 1..=60u64 {
            if t == 20 {
                opt.restart(|i| i % 3 == 1 || i > 30);
                for i in 0..d {
                    if i % 3 == 1 || i > 30 {
                        (m[i], v[i], start[i]) = (0.0, 0.0, t - 1);
                    }
                }
            }
            let g: Vec<f64> = (0..d).map(|i| -x[i] + (i as f64 * 0.37 + t as f64).sin()).collect();
            opt.ascend(&mut x, &g, 1e-2);
            for i in 0..d {
                let k = (t - start[i]) as i32;
                m[i] = 0.9 * m[i] + (1.0 - 0.9) * g[i];
                v[i] = 0.999 * v[i] + (1.0 - 0.999) * g[i] * g[i];
                y[i] += 1e-2 * (m[i] / (1.0 - 0.9f64.powi(k))) / ((v[i] / (1.0 - 0.999f64.powi(k))).sqrt() + 1e-8);
            }
            assert_eq!(x, y, "step {t}");
        }
    }
}
