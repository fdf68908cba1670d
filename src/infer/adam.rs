//! Adam (Kingma & Ba 2015), used for the warm start and for mean-field VI.
//! Written as ascent on an objective to be maximised (a log posterior or an ELBO).

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
        let (b1, b2) = (self.beta1, self.beta2);
        let (mut c1, mut c2) = (0.0, 0.0);
        let mut last_start = u64::MAX;
        for i in 0..x.len() {
            if self.start[i] != last_start {
                // Bias correction counts the steps since this coordinate's restart.
                last_start = self.start[i];
                let k = (self.t - last_start).min(i32::MAX as u64) as i32;
                c1 = 1.0 - b1.powi(k);
                c2 = 1.0 - b2.powi(k);
            }
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g[i];
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g[i] * g[i];
            x[i] += lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + self.eps);
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
}
