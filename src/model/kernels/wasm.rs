//! wasm32 + simd128 kernels. The portable loops compile to 128-bit SIMD here (the
//! crate is built with `-C target-feature=+simd128`, see .cargo/config.toml).

use ndarray::Array2;

use super::{dense, Bufs};
use crate::config::Activation;

pub(super) fn forward(widths: &[usize], act: Activation, p: &[f64], x: &[f64], b: &mut Bufs<f32>, out: &mut Array2<f64>) {
    dense::forward::<f32, false>(widths, act, p, x, b, out)
}

pub(super) fn backward(widths: &[usize], p: &[f64], d_out: &Array2<f64>, b: &mut Bufs<f32>, grad: &mut [f64]) {
    dense::backward::<f32, false, dense::Generic<false>>(widths, p, d_out, b, grad)
}
