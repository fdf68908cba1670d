//! Hand-written forward/backward kernels for the MLP at the sizes BayesBand uses
//! (widths 1-512, usually 1-32-16-8-2, batches of 10-2000 points).
//!
//! Layout: batch-major. Every layer's activations are stored unit by unit, each unit's
//! values over the batch contiguous (`width x np`, `np` = the batch rounded up to
//! [`LANES`]), so every inner loop runs over `LANES` points at once and vectorises.
//! A dense layer is computed in register tiles of up to 8 output units x `LANES`
//! points; the weight gradient in tiles of 4 x 2 (input, output) units, summed over the
//! batch in `LANES` partial sums and reduced in f64. The padded points have x = 0 and a
//! zero output gradient, so they add nothing to any gradient.
//!
//! Three kernels (docs/ARCHITECTURE.md §6 has the measurements that motivated them):
//! - [`Kernel::Fast`] (the default): f32 arithmetic, a rational tanh (the Eigen/XLA
//!   approximation, error < 1e-6), FMA; on x86_64 the AVX2+FMA instantiation is chosen
//!   at run time (`is_x86_feature_detected!`), never by `target-cpu=native`; in wasm32
//!   with `+simd128` the same loops compile to 128-bit SIMD. Outputs carry f32 rounding
//!   (relative ~1e-6); the last layer's bias is added in f64 and the output-gradient
//!   sums of the last layer's bias are f64.
//! - [`Kernel::Precise`]: the same loops in f64 with the exact std activations: agrees
//!   with the reference to rounding and passes the finite-difference gradient checks.
//! - [`Kernel::Reference`]: the original ndarray (`general_mat_mul`) code path.

// Index loops over fixed-size lane arrays are what the vectorisers handle best here.
#![allow(clippy::needless_range_loop)]

#[cfg(target_arch = "x86_64")]
mod avx512;
mod dense;
mod normal;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm;
mod words;

use ndarray::Array2;
use rand::RngCore;

use crate::config::Activation;
pub(crate) use dense::Bufs;
pub(crate) use normal::ln_f32;

/// Points processed together by every kernel loop; batches are padded to a multiple.
pub const LANES: usize = 8;

/// Which implementation `Mlp::forward`/`backward` use (the LRT passes always use the
/// reference code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// f32, rational tanh, SIMD chosen at run time: the hot path.
    Fast,
    /// f64 with exact activations, same loop structure as `Fast`.
    Precise,
    /// The original ndarray implementation (f64, `general_mat_mul`).
    Reference,
}

impl Default for Kernel {
    /// The shipped path. Finite-difference gradient checks (relative error < 1e-6,
    /// impossible in f32) select `Kernel::Precise` explicitly.
    fn default() -> Self {
        Kernel::Fast
    }
}

impl Kernel {
    /// What this kernel runs as on this machine, for benchmark reports.
    pub fn describe(self) -> &'static str {
        match (self, mlp_simd()) {
            (Kernel::Fast, Simd::Avx512) => "f32, rational tanh, x86_64 AVX-512 (run-time detected)",
            (Kernel::Fast, Simd::Avx2Fma) => "f32, rational tanh, x86_64 AVX2+FMA (run-time detected)",
            (Kernel::Fast, Simd::Wasm128) if cfg!(target_feature = "relaxed-simd") => {
                "f32, rational tanh, wasm simd128 + relaxed-simd (fused multiply-add)"
            }
            (Kernel::Fast, Simd::Wasm128) => "f32, rational tanh, wasm simd128",
            (Kernel::Fast, Simd::Portable) => "f32, rational tanh, portable auto-vectorised loops",
            (Kernel::Precise, _) => "f64, exact activations, portable loops",
            (Kernel::Reference, _) => "f64, ndarray general_mat_mul (original)",
        }
    }
}

/// The instruction set a kernel was compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Simd {
    /// Whatever the build target guarantees (SSE2 on x86_64), auto-vectorised.
    Portable,
    /// x86_64 with AVX2 and FMA, detected at run time.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    Avx2Fma,
    /// x86_64 with AVX-512 (avx512f + avx512vl) besides AVX2+FMA, detected at run time:
    /// the MLP kernels only ([`mlp_simd`]); bit for bit the AVX2 kernels' results.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    Avx512,
    /// wasm32 built with `+simd128`: explicit `core::arch::wasm32` kernels.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Wasm128,
}

/// The best instruction set available here.
#[inline]
pub(crate) fn simd() -> Simd {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return Simd::Avx2Fma;
        }
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        return Simd::Wasm128;
    }
    #[allow(unreachable_code)]
    Simd::Portable
}

/// The instruction set of the MLP forward/backward kernels: [`simd`], but AVX-512 where
/// the CPU has it (unless `BAYESBAND_NO_AVX512=1`, for comparisons). The other
/// vectorised parts (likelihood, Adam, words) keep asking [`simd`] for AVX2.
#[inline]
pub(crate) fn mlp_simd() -> Simd {
    let s = simd();
    #[cfg(target_arch = "x86_64")]
    {
        static AVX512: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if s == Simd::Avx2Fma
            && *AVX512.get_or_init(|| avx512::detected() && std::env::var_os("BAYESBAND_NO_AVX512").is_none_or(|v| v != "1"))
        {
            return Simd::Avx512;
        }
    }
    s
}

/// Floating-point types the kernels run in.
pub(crate) trait Real:
    Copy
    + Default
    + PartialOrd
    + std::fmt::Debug
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + 'static
{
    const ZERO: Self;
    fn of(v: f64) -> Self;
    fn to_f64(self) -> f64;
    /// a * b + c, fused when `FMA` (only instantiate `FMA = true` where the target has it).
    fn madd<const FMA: bool>(a: Self, b: Self, c: Self) -> Self;
    /// The activation and its derivative at z (FMA as in `madd`).
    fn act<const FMA: bool>(act: Activation, z: Self) -> (Self, Self);
    /// The square root.
    fn root(self) -> Self;
}

impl Real for f64 {
    const ZERO: f64 = 0.0;
    #[inline(always)]
    fn of(v: f64) -> f64 {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
        if FMA {
            a.mul_add(b, c)
        } else {
            a * b + c
        }
    }
    #[inline(always)]
    fn act<const FMA: bool>(act: Activation, z: f64) -> (f64, f64) {
        let a = act.apply(z);
        (a, act.derivative(z, a))
    }
    #[inline(always)]
    fn root(self) -> f64 {
        self.sqrt()
    }
}

impl Real for f32 {
    const ZERO: f32 = 0.0;
    #[inline(always)]
    fn of(v: f64) -> f32 {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
        if FMA {
            a.mul_add(b, c)
        } else {
            a * b + c
        }
    }
    #[inline(always)]
    fn act<const FMA: bool>(act: Activation, z: f32) -> (f32, f32) {
        match act {
            Activation::Tanh => {
                let a = fast_tanh_with::<FMA>(z);
                (a, 1.0 - a * a)
            }
            Activation::Silu => {
                let s = 0.5 + 0.5 * fast_tanh_with::<FMA>(0.5 * z);
                (z * s, s * (1.0 + z * (1.0 - s)))
            }
            Activation::Relu => {
                if z > 0.0 {
                    (z, 1.0)
                } else {
                    (0.0, 0.0)
                }
            }
        }
    }
    #[inline(always)]
    fn root(self) -> f32 {
        self.sqrt()
    }
}

/// Clamp of the rational tanh: beyond it tanh rounds to +-1 in f32.
pub const TANH_CLAMP: f32 = 7.905_311;

/// The rational tanh's numerator (times x) and denominator, polynomials in x^2, highest
/// power first (Eigen's / XLA's coefficients): every kernel evaluates them by Horner's
/// rule in this order, so the fast paths agree bit for bit where they fuse alike.
#[allow(clippy::excessive_precision)]
pub(crate) const TANH_P: [f32; 7] = [
    -2.760_768_477_423_55e-16,
    2.000_187_904_824_77e-13,
    -8.604_671_522_137_35e-11,
    5.122_297_090_371_14e-8,
    1.485_722_357_179_79e-5,
    6.372_619_288_754_36e-4,
    4.893_524_558_917_86e-3,
];
#[allow(clippy::excessive_precision)]
pub(crate) const TANH_Q: [f32; 4] = [1.198_258_394_667_02e-6, 1.185_347_056_866_54e-4, 2.268_434_632_439e-3, 4.893_525_185_543_85e-3];

/// The wasm tests' check (tests/e2e/wasm) of the simd128 parts of the LRT pass against
/// the generic loops they replace: the normal draws and the noise step, bit for bit, on
/// random words and variances (negative, zero, tiny and large among them). `Err` says
/// where they first differ.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[doc(hidden)]
pub fn wasm_lrt_parts_match_the_generic_loops() -> Result<(), String> {
    use dense::Arch;
    use rand::SeedableRng;
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
    for len in [16usize, 24, 40, 152, 1200, 8704] {
        let words: Vec<u64> = (0..len.div_ceil(2)).map(|_| rng.next_u64()).collect();
        let (mut a, mut b) = (vec![0f32; len], vec![0f32; len]);
        wasm::Wasm::normals(&words, &mut a);
        normal::fill::<f32, false>(&words, &mut b);
        if let Some(i) = (0..len).find(|&i| a[i].to_bits() != b[i].to_bits()) {
            return Err(format!("normals differ at {i} of {len}: {} vs {}", a[i], b[i]));
        }
        let q: Vec<f32> = (0..len)
            .map(|i| match i % 7 {
                0 => -1.0,
                1 => 0.0,
                2 => 1e-30,
                _ => (rng.next_u32() >> 8) as f32 * 1e-6,
            })
            .collect();
        let (mut za, mut zb): (Vec<f32>, Vec<f32>) = ((0..len).map(|i| i as f32 * 0.01).collect(), (0..len).map(|i| i as f32 * 0.01).collect());
        let (mut ea, mut eb) = (a.clone(), a.clone());
        wasm::Wasm::add_noise(&q, &mut ea, &mut za);
        dense::add_noise(&q, &mut eb, &mut zb);
        if let Some(i) = (0..len).find(|&i| za[i].to_bits() != zb[i].to_bits() || ea[i].to_bits() != eb[i].to_bits()) {
            return Err(format!("add_noise differs at {i} of {len} (q {}): z {} vs {}, eps {} vs {}", q[i], za[i], zb[i], ea[i], eb[i]));
        }
    }
    Ok(())
}

/// tanh as the rational function Eigen and XLA use for f32 (odd degree-13 numerator,
/// even degree-6 denominator; max abs error < 1e-6 against the exact tanh): branch-free,
/// so loops over it vectorise.
#[inline(always)]
pub fn fast_tanh(x: f32) -> f32 {
    fast_tanh_with::<false>(x)
}

/// [`fast_tanh`] with fused multiply-adds in the polynomials when `FMA`.
#[inline(always)]
pub(crate) fn fast_tanh_with<const FMA: bool>(x: f32) -> f32 {
    let x = if x > TANH_CLAMP { TANH_CLAMP } else { x };
    let x = if x < -TANH_CLAMP { -TANH_CLAMP } else { x };
    let x2 = x * x;
    let (mut p, mut q) = (TANH_P[0], TANH_Q[0]);
    for &k in &TANH_P[1..] {
        p = <f32 as Real>::madd::<FMA>(p, x2, k);
    }
    for &k in &TANH_Q[1..] {
        q = <f32 as Real>::madd::<FMA>(q, x2, k);
    }
    p * x / q
}

/// Forward pass of `widths` (layer l: `widths[l]` -> `widths[l+1]`, weights row-major
/// inputs x outputs then biases, consecutive in `p`) at `x`; writes `out` (rows x outputs).
pub(crate) fn forward_f32(widths: &[usize], act: Activation, p: &[f64], x: &[f64], b: &mut Bufs<f32>, out: &mut Array2<f64>) {
    forward_f32_with(mlp_simd(), widths, act, p, x, b, out)
}

pub(crate) fn forward_f32_with(
    simd: Simd,
    widths: &[usize],
    act: Activation,
    p: &[f64],
    x: &[f64],
    b: &mut Bufs<f32>,
    out: &mut Array2<f64>,
) {
    match simd {
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2Fma => {
            // SAFETY: `Simd::Avx2Fma` is only produced after detecting avx2 and fma (and
            // tests only force it when detected).
            assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
            unsafe { x86::forward_avx2(widths, act, p, x, b, out) }
        }
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => {
            assert!(avx512::detected());
            // SAFETY: the features were just checked.
            unsafe { avx512::forward(widths, act, p, x, b, out) }
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Simd::Wasm128 => wasm::forward(widths, act, p, x, b, out),
        _ => dense::forward::<f32, dense::Generic<false>>(widths, act, p, x, b, out),
    }
}

/// Backward pass after [`forward_f32`]: adds d objective / d params to `grad`.
pub(crate) fn backward_f32(widths: &[usize], p: &[f64], d_out: &Array2<f64>, b: &mut Bufs<f32>, grad: &mut [f64]) {
    backward_f32_with(mlp_simd(), widths, p, d_out, b, grad)
}

pub(crate) fn backward_f32_with(
    simd: Simd,
    widths: &[usize],
    p: &[f64],
    d_out: &Array2<f64>,
    b: &mut Bufs<f32>,
    grad: &mut [f64],
) {
    match simd {
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2Fma => {
            assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
            // SAFETY: the features were just checked.
            unsafe { x86::backward_avx2(widths, p, d_out, b, grad) }
        }
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => {
            assert!(avx512::detected());
            // SAFETY: the features were just checked.
            unsafe { avx512::backward(widths, p, d_out, b, grad) }
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Simd::Wasm128 => wasm::backward(widths, p, d_out, b, grad),
        _ => dense::backward::<f32, dense::Generic<false>>(widths, p, d_out, b, grad),
    }
}

/// The exact f64 forward pass (portable loops, std activations).
pub(crate) fn forward_f64(widths: &[usize], act: Activation, p: &[f64], x: &[f64], b: &mut Bufs<f64>, out: &mut Array2<f64>) {
    dense::forward::<f64, dense::Generic<false>>(widths, act, p, x, b, out)
}

/// Backward pass after [`forward_f64`].
pub(crate) fn backward_f64(widths: &[usize], p: &[f64], d_out: &Array2<f64>, b: &mut Bufs<f64>, grad: &mut [f64]) {
    dense::backward::<f64, dense::Generic<false>>(widths, p, d_out, b, grad)
}

/// Draw the random words of one LRT forward pass at `n` points into `b` (the same
/// words, so the same noise, for every kernel given the same generator state; see
/// [`words`]).
fn draw_words<T: Real, R: RngCore>(widths: &[usize], n: usize, rng: &mut R, b: &mut Bufs<T>) {
    words::fill(rng, dense::lrt_words(widths, n), &mut b.words);
}

/// The draws an LRT pass at `n` points takes from `rng`, layer by layer in the kernels'
/// batch-major layout (unit by unit, [`dense::padded`]`(n)` points each, zero in the
/// padding), computed as the portable kernels compute them: for the reference code.
pub(crate) fn lrt_noise<R: RngCore>(widths: &[usize], n: usize, rng: &mut R) -> (usize, Vec<Vec<f64>>) {
    let np = dense::padded(n);
    let mut words = Vec::new();
    self::words::fill(rng, dense::lrt_words(widths, n), &mut words);
    let mut at = 0;
    let eps = widths[1..]
        .iter()
        .map(|&k| {
            let mut e = vec![0.0; k * np];
            normal::fill::<f64, false>(&words[at..at + k * np / 2], &mut e);
            at += k * np / 2;
            for row in e.chunks_exact_mut(np) {
                row[n..].iter_mut().for_each(|v| *v = 0.0);
            }
            e
        })
        .collect();
    (np, eps)
}

/// The local reparameterisation forward pass (see [`dense::forward_lrt`]) in f32 on the
/// best instruction set here; the noise comes from `rng`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_lrt_f32<R: RngCore>(
    widths: &[usize],
    act: Activation,
    m: &[f64],
    v: &[f64],
    x: &[f64],
    rng: &mut R,
    b: &mut Bufs<f32>,
    out: &mut Array2<f64>,
) {
    forward_lrt_f32_with(mlp_simd(), widths, act, m, v, x, rng, b, out)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_lrt_f32_with<R: RngCore>(
    simd: Simd,
    widths: &[usize],
    act: Activation,
    m: &[f64],
    v: &[f64],
    x: &[f64],
    rng: &mut R,
    b: &mut Bufs<f32>,
    out: &mut Array2<f64>,
) {
    draw_words(widths, x.len(), rng, b);
    match simd {
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2Fma => {
            assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
            // SAFETY: the features were just checked.
            unsafe { x86::forward_lrt_avx2(widths, act, m, v, x, b, out) }
        }
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => {
            assert!(avx512::detected());
            // SAFETY: the features were just checked.
            unsafe { avx512::forward_lrt(widths, act, m, v, x, b, out) }
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Simd::Wasm128 => wasm::forward_lrt(widths, act, m, v, x, b, out),
        _ => dense::forward_lrt::<f32, dense::Generic<false>>(widths, act, m, v, x, b, out),
    }
}

/// Backward pass after [`forward_lrt_f32`]: adds d objective / d means to `gm` and
/// d objective / d variances to `gv`.
pub(crate) fn backward_lrt_f32(widths: &[usize], m: &[f64], d_out: &Array2<f64>, b: &mut Bufs<f32>, gm: &mut [f64], gv: &mut [f64]) {
    backward_lrt_f32_with(mlp_simd(), widths, m, d_out, b, gm, gv)
}

pub(crate) fn backward_lrt_f32_with(
    simd: Simd,
    widths: &[usize],
    m: &[f64],
    d_out: &Array2<f64>,
    b: &mut Bufs<f32>,
    gm: &mut [f64],
    gv: &mut [f64],
) {
    match simd {
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2Fma => {
            assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
            // SAFETY: the features were just checked.
            unsafe { x86::backward_lrt_avx2(widths, m, d_out, b, gm, gv) }
        }
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => {
            assert!(avx512::detected());
            // SAFETY: the features were just checked.
            unsafe { avx512::backward_lrt(widths, m, d_out, b, gm, gv) }
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Simd::Wasm128 => wasm::backward_lrt(widths, m, d_out, b, gm, gv),
        _ => dense::backward_lrt::<f32, dense::Generic<false>>(widths, m, d_out, b, gm, gv),
    }
}

/// The exact f64 LRT forward pass (portable loops, std activations), with the same
/// draws as [`forward_lrt_f32`] from the same generator state.
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_lrt_f64<R: RngCore>(
    widths: &[usize],
    act: Activation,
    m: &[f64],
    v: &[f64],
    x: &[f64],
    rng: &mut R,
    b: &mut Bufs<f64>,
    out: &mut Array2<f64>,
) {
    draw_words(widths, x.len(), rng, b);
    dense::forward_lrt::<f64, dense::Generic<false>>(widths, act, m, v, x, b, out)
}

/// Backward pass after [`forward_lrt_f64`].
pub(crate) fn backward_lrt_f64(widths: &[usize], m: &[f64], d_out: &Array2<f64>, b: &mut Bufs<f64>, gm: &mut [f64], gv: &mut [f64]) {
    dense::backward_lrt::<f64, dense::Generic<false>>(widths, m, d_out, b, gm, gv)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    use std::arch::x86_64::*;
    use super::normal::{COSF_P, LN2_HI, LN2_LO, LOGF_P, SINF_P};

    /// The portable loops compiled with AVX2 and FMA enabled.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn forward_avx2(
        widths: &[usize],
        act: Activation,
        p: &[f64],
        x: &[f64],
        b: &mut Bufs<f32>,
        out: &mut Array2<f64>,
    ) {
        dense::forward::<f32, Avx2>(widths, act, p, x, b, out)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn backward_avx2(widths: &[usize], p: &[f64], d_out: &Array2<f64>, b: &mut Bufs<f32>, grad: &mut [f64]) {
        dense::backward::<f32, Avx2>(widths, p, d_out, b, grad)
    }

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn forward_lrt_avx2(
        widths: &[usize],
        act: Activation,
        m: &[f64],
        v: &[f64],
        x: &[f64],
        b: &mut Bufs<f32>,
        out: &mut Array2<f64>,
    ) {
        dense::forward_lrt::<f32, Avx2>(widths, act, m, v, x, b, out)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn backward_lrt_avx2(
        widths: &[usize],
        m: &[f64],
        d_out: &Array2<f64>,
        b: &mut Bufs<f32>,
        gm: &mut [f64],
        gv: &mut [f64],
    ) {
        dense::backward_lrt::<f32, Avx2>(widths, m, d_out, b, gm, gv)
    }

    /// Explicit AVX2+FMA kernels: dense tiles of 8 output units x 8 points with a
    /// vectorised rational tanh (reciprocal + one Newton step instead of a division), and
    /// weight-gradient tiles of 4 inputs x 2 outputs (8 accumulators).
    pub(super) struct Avx2;

    impl dense::Arch<f32> for Avx2 {
        #[inline(always)]
        fn dense<const EPI: u8>(
            inp: &[f32],
            nin: usize,
            w: &[f32],
            bias: Option<&[f32]>,
            nout: usize,
            np: usize,
            aux: &mut [f32],
            out: &mut [f32],
        ) {
            assert!(inp.len() >= nin * np && w.len() >= nin * nout && out.len() >= nout * np && np % LANES == 0);
            if let Some(b) = bias {
                assert!(b.len() >= nout);
            }
            if EPI != dense::LINEAR {
                assert!(aux.len() >= nout * np);
            }
            assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
            // SAFETY: features checked; every tile stays inside the asserted lengths.
            unsafe { dense_avx2::<EPI>(inp, nin, w, bias, nout, np, aux, out) }
        }
        #[inline(always)]
        fn weight_grad(a: &[f32], nin: usize, dz: &[f32], nout: usize, np: usize, g: &mut [f64]) {
            assert!(a.len() >= nin * np && dz.len() >= nout * np && g.len() >= nin * nout && np % LANES == 0);
            assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
            // SAFETY: features checked; the tiles stay inside the asserted lengths.
            unsafe { weight_grad_avx2(a, nin, dz, nout, np, g) }
        }

        #[inline(always)]
        fn row_sums(dz: &[f32], nout: usize, np: usize, g: &mut [f64]) {
            assert!(dz.len() >= nout * np && g.len() >= nout && np % LANES == 0);
            assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
            // SAFETY: features checked; reads stay inside the asserted length.
            unsafe { row_sums_avx2(dz, nout, np, g) }
        }

        #[inline(always)]
        fn activate(act: Activation, z: &[f32], a: &mut [f32], d: &mut [f32]) {
            if act != Activation::Tanh {
                return dense::activate::<f32, true>(act, z, a, d);
            }
            let n = z.len();
            assert!(a.len() >= n && d.len() >= n && n % LANES == 0);
            assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
            // SAFETY: features checked; every 8-lane access is inside the asserted lengths.
            unsafe { tanh_avx2(z, a, d) }
        }

        #[inline(always)]
        fn add_noise(q: &[f32], eps: &mut [f32], z: &mut [f32]) {
            let n = q.len();
            assert!(eps.len() >= n && z.len() >= n && n % LANES == 0);
            assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
            // SAFETY: features checked; every 8-lane access is inside the asserted lengths.
            unsafe { add_noise_avx2(q, eps, z) }
        }

        #[inline(always)]
        fn normals(bits: &[u64], out: &mut [f32]) {
            let whole = out.len() / 16;
            assert!(bits.len() >= out.len().div_ceil(2));
            assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
            // SAFETY: features checked; chunk c reads words 8c..8c+8 and writes draws
            // 16c..16c+16, inside the asserted lengths.
            unsafe {
                for c in 0..whole {
                    normals16(bits.as_ptr().add(8 * c), out.as_mut_ptr().add(16 * c));
                }
            }
            super::normal::fill::<f32, true>(&bits[8 * whole..], &mut out[16 * whole..]);
        }
    }

    /// [`super::normal::fill`] for one chunk (8 words, 16 draws) in AVX2+FMA: the same
    /// arithmetic as `normal::pair::<true>` lane by lane.
    #[inline(always)]
    #[allow(clippy::excessive_precision)]
    unsafe fn normals16(bits: *const u64, out: *mut f32) {
        // Each word as two 32-bit halves: the low half's top 24 bits pick the angle, the
        // high half's top 23 bits the radius. De-interleave words 0-3 and 4-7.
        let idx = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
        let w0 = _mm256_permutevar8x32_epi32(_mm256_loadu_si256(bits as *const __m256i), idx);
        let w1 = _mm256_permutevar8x32_epi32(_mm256_loadu_si256(bits.add(4) as *const __m256i), idx);
        let lo = _mm256_permute2x128_si256::<0x20>(w0, w1);
        let hi = _mm256_permute2x128_si256::<0x31>(w0, w1);
        // No closures or iterator folds around the intrinsics: a closure does not
        // inherit this function's target features, so where LLVM leaves it out of line
        // (it did once the AVX-512 kernels shared it) every `_mm256_*` became a call.
        let u1 = _mm256_mul_ps(_mm256_add_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32::<9>(hi)), splat8(0.5)), splat8(1.0 / 8_388_608.0));
        // ln u1 (Cephes logf, as normal::ln_f32).
        let ub = _mm256_castps_si256(u1);
        let e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32::<23>(ub), _mm256_set1_epi32(127)));
        let mant = _mm256_castsi256_ps(_mm256_or_si256(
            _mm256_and_si256(ub, _mm256_set1_epi32(0x007f_ffff)),
            _mm256_set1_epi32(0x3f80_0000),
        ));
        let big = _mm256_cmp_ps::<_CMP_GT_OQ>(mant, splat8(std::f32::consts::SQRT_2));
        let mant = _mm256_blendv_ps(mant, _mm256_mul_ps(mant, splat8(0.5)), big);
        let e = _mm256_add_ps(e, _mm256_and_ps(big, splat8(1.0)));
        let x = _mm256_sub_ps(mant, splat8(1.0));
        let z = _mm256_mul_ps(x, x);
        let p = horner8(&LOGF_P, x);
        let mut y = _mm256_mul_ps(_mm256_mul_ps(p, x), z);
        y = _mm256_fmadd_ps(e, splat8(LN2_LO), y);
        y = _mm256_fmadd_ps(z, splat8(-0.5), y);
        let ln = _mm256_fmadd_ps(e, splat8(LN2_HI), _mm256_add_ps(x, y));
        let t = _mm256_mul_ps(splat8(-2.0), ln);
        // t >= 1.1e-7 (u1 <= 1 - 2^-24): sqrt as t / sqrt(t).
        let r = _mm256_mul_ps(t, rsqrt8(t));
        // The angle: quadrant q and phi in (-pi/4, pi/4).
        let a = _mm256_srli_epi32::<8>(lo);
        let q = _mm256_srli_epi32::<22>(a);
        let frac = _mm256_mul_ps(
            _mm256_add_ps(_mm256_cvtepi32_ps(_mm256_and_si256(a, _mm256_set1_epi32(0x003f_ffff))), splat8(0.5)),
            splat8(1.0 / 4_194_304.0),
        );
        let phi = _mm256_mul_ps(_mm256_sub_ps(frac, splat8(0.5)), splat8(std::f32::consts::FRAC_PI_2));
        let z = _mm256_mul_ps(phi, phi);
        let sp = horner8(&SINF_P, z);
        let sin = _mm256_fmadd_ps(_mm256_mul_ps(sp, z), phi, phi);
        let cp = horner8(&COSF_P, z);
        let cos = _mm256_fmadd_ps(_mm256_mul_ps(cp, z), z, _mm256_fmadd_ps(z, splat8(-0.5), splat8(1.0)));
        // Rotate by q quarter turns: swap on odd q, negate cos on q = 1, 2, sin on q = 2, 3.
        let one = _mm256_set1_epi32(1);
        let swap = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(q, one), one));
        let c1 = _mm256_blendv_ps(cos, sin, swap);
        let s1 = _mm256_blendv_ps(sin, cos, swap);
        let two = _mm256_set1_epi32(2);
        let neg_c = _mm256_slli_epi32::<30>(_mm256_and_si256(_mm256_add_epi32(q, one), two));
        let neg_s = _mm256_slli_epi32::<30>(_mm256_and_si256(q, two));
        let c2 = _mm256_xor_ps(c1, _mm256_castsi256_ps(neg_c));
        let s2 = _mm256_xor_ps(s1, _mm256_castsi256_ps(neg_s));
        _mm256_storeu_ps(out, _mm256_mul_ps(r, c2));
        _mm256_storeu_ps(out.add(8), _mm256_mul_ps(r, s2));
    }

    #[inline(always)]
    unsafe fn splat8(v: f32) -> __m256 {
        _mm256_set1_ps(v)
    }

    /// c[0] x^(n-1) + ... + c[n-1] by Horner's rule in fused multiply-adds (as the
    /// scalar `normal` functions' folds, lane by lane).
    #[inline(always)]
    unsafe fn horner8(c: &[f32], x: __m256) -> __m256 {
        let mut p = _mm256_set1_ps(c[0]);
        for &k in &c[1..] {
            p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(k));
        }
        p
    }

    /// 1/sqrt(q) by `rsqrt` and one Newton step (relative error ~1e-7, as the division
    /// of [`tanh8`]), for q >= f32::MIN_POSITIVE.
    #[inline(always)]
    unsafe fn rsqrt8(q: __m256) -> __m256 {
        let r = _mm256_rsqrt_ps(q);
        let h = _mm256_mul_ps(_mm256_mul_ps(q, r), r);
        _mm256_mul_ps(_mm256_mul_ps(r, _mm256_set1_ps(0.5)), _mm256_sub_ps(_mm256_set1_ps(3.0), h))
    }

    /// [`dense::add_noise`] with [`rsqrt8`] instead of a square root and a division
    /// (variances below f32::MIN_POSITIVE, sd < 1.1e-19, count as 0).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn add_noise_avx2(q: &[f32], eps: &mut [f32], z: &mut [f32]) {
        let (tiny, half) = (_mm256_set1_ps(f32::MIN_POSITIVE), _mm256_set1_ps(0.5));
        for i in (0..q.len()).step_by(LANES) {
            let qv = _mm256_loadu_ps(q.as_ptr().add(i));
            let pos = _mm256_cmp_ps::<_CMP_GE_OQ>(qv, tiny);
            let r = _mm256_and_ps(rsqrt8(_mm256_max_ps(qv, tiny)), pos);
            let e = _mm256_loadu_ps(eps.as_ptr().add(i));
            let s = _mm256_mul_ps(qv, r);
            _mm256_storeu_ps(z.as_mut_ptr().add(i), _mm256_fmadd_ps(s, e, _mm256_loadu_ps(z.as_ptr().add(i))));
            _mm256_storeu_ps(eps.as_mut_ptr().add(i), _mm256_mul_ps(_mm256_mul_ps(e, half), r));
        }
    }

    /// a = tanh z and d = 1 - a^2 with [`tanh8`], over lengths that are multiples of 8.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tanh_avx2(z: &[f32], a: &mut [f32], d: &mut [f32]) {
        let one = _mm256_set1_ps(1.0);
        for i in (0..z.len()).step_by(LANES) {
            let t = tanh8(_mm256_loadu_ps(z.as_ptr().add(i)));
            _mm256_storeu_ps(a.as_mut_ptr().add(i), t);
            _mm256_storeu_ps(d.as_mut_ptr().add(i), _mm256_fnmadd_ps(t, t, one));
        }
    }

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn dense_avx2<const EPI: u8>(
        inp: &[f32],
        nin: usize,
        w: &[f32],
        bias: Option<&[f32]>,
        nout: usize,
        np: usize,
        aux: &mut [f32],
        out: &mut [f32],
    ) {
        let mut k0 = 0;
        while k0 + 4 <= nout {
            dtile::<EPI, 4>(inp, nin, w, bias, nout, np, k0, aux, out);
            k0 += 4;
        }
        if k0 + 2 <= nout {
            dtile::<EPI, 2>(inp, nin, w, bias, nout, np, k0, aux, out);
            k0 += 2;
        }
        if k0 < nout {
            dtile::<EPI, 1>(inp, nin, w, bias, nout, np, k0, aux, out);
        }
    }

    /// The rational tanh of [`fast_tanh`], 8 lanes, 1/q by `rcp` and one Newton step
    /// (relative error ~1e-7 on top of the approximation's).
    #[inline(always)]
    pub(super) unsafe fn tanh8(x: __m256) -> __m256 {
        let c = _mm256_set1_ps(TANH_CLAMP);
        let x = _mm256_max_ps(_mm256_min_ps(x, c), _mm256_sub_ps(_mm256_setzero_ps(), c));
        let x2 = _mm256_mul_ps(x, x);
        let p = _mm256_mul_ps(horner8(&TANH_P, x2), x);
        let q = horner8(&TANH_Q, x2);
        let r = _mm256_rcp_ps(q);
        let r = _mm256_fmadd_ps(r, _mm256_fnmadd_ps(q, r, _mm256_set1_ps(1.0)), r);
        _mm256_mul_ps(p, r)
    }

    /// [`tanh8`] over a slice (tests).
    #[cfg(test)]
    pub(super) fn tanh_slice(v: &mut [f32]) {
        assert!(v.len() % 8 == 0 && std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
        #[target_feature(enable = "avx2,fma")]
        unsafe fn go(v: &mut [f32]) {
            for c in v.chunks_exact_mut(8) {
                _mm256_storeu_ps(c.as_mut_ptr(), tanh8(_mm256_loadu_ps(c.as_ptr())));
            }
        }
        // SAFETY: features checked.
        unsafe { go(v) }
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn dtile<const EPI: u8, const KB: usize>(
        inp: &[f32],
        nin: usize,
        w: &[f32],
        bias: Option<&[f32]>,
        nout: usize,
        np: usize,
        k0: usize,
        aux: &mut [f32],
        out: &mut [f32],
    ) {
        let (ip, wp) = (inp.as_ptr(), w.as_ptr());
        let (op, xp) = (out.as_mut_ptr(), aux.as_mut_ptr());
        let mut c = 0;
        while c + 2 * LANES <= np {
            dchunk::<EPI, KB, 2>(ip, nin, wp, bias, nout, np, k0, c, xp, op);
            c += 2 * LANES;
        }
        if c < np {
            dchunk::<EPI, KB, 1>(ip, nin, wp, bias, nout, np, k0, c, xp, op);
        }
    }

    /// Output units k0..k0+KB at points c..c + CH * 8: KB x CH accumulators.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn dchunk<const EPI: u8, const KB: usize, const CH: usize>(
        ip: *const f32,
        nin: usize,
        wp: *const f32,
        bias: Option<&[f32]>,
        nout: usize,
        np: usize,
        k0: usize,
        c: usize,
        xp: *mut f32,
        op: *mut f32,
    ) {
        let one = _mm256_set1_ps(1.0);
        let mut acc = [[_mm256_setzero_ps(); CH]; KB];
        if let Some(b) = bias {
            for kb in 0..KB {
                acc[kb] = [_mm256_set1_ps(*b.get_unchecked(k0 + kb)); CH];
            }
        }
        for j in 0..nin {
            let a: [__m256; CH] = std::array::from_fn(|h| _mm256_loadu_ps(ip.add(j * np + c + h * LANES)));
            for kb in 0..KB {
                let wv = _mm256_broadcast_ss(&*wp.add(j * nout + k0 + kb));
                for h in 0..CH {
                    acc[kb][h] = _mm256_fmadd_ps(wv, a[h], acc[kb][h]);
                }
            }
        }
        for kb in 0..KB {
            for h in 0..CH {
                let at = (k0 + kb) * np + c + h * LANES;
                let z = acc[kb][h];
                if EPI == dense::LINEAR {
                    _mm256_storeu_ps(op.add(at), z);
                } else if EPI == dense::MUL {
                    _mm256_storeu_ps(op.add(at), _mm256_mul_ps(z, _mm256_loadu_ps(xp.add(at))));
                } else if EPI == dense::TANH {
                    let a = tanh8(z);
                    _mm256_storeu_ps(op.add(at), a);
                    _mm256_storeu_ps(xp.add(at), _mm256_fnmadd_ps(a, a, one));
                } else {
                    let mut zs = [0.0f32; 8];
                    _mm256_storeu_ps(zs.as_mut_ptr(), z);
                    for (l, &zl) in zs.iter().enumerate() {
                        let (v, d) = <f32 as Real>::act::<true>(dense::code_act(EPI), zl);
                        *op.add(at + l) = v;
                        *xp.add(at + l) = d;
                    }
                }
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn row_sums_avx2(dz: &[f32], nout: usize, np: usize, g: &mut [f64]) {
        for (k, gk) in g.iter_mut().enumerate().take(nout) {
            let p = dz.as_ptr().add(k * np);
            let mut acc = [_mm256_setzero_ps(); 2];
            let mut c = 0;
            while c + 2 * LANES <= np {
                acc[0] = _mm256_add_ps(acc[0], _mm256_loadu_ps(p.add(c)));
                acc[1] = _mm256_add_ps(acc[1], _mm256_loadu_ps(p.add(c + LANES)));
                c += 2 * LANES;
            }
            if c < np {
                acc[0] = _mm256_add_ps(acc[0], _mm256_loadu_ps(p.add(c)));
            }
            *gk += hsum(acc[0]) + hsum(acc[1]);
        }
    }

    /// Sum of 8 f32 lanes in f64.
    #[inline(always)]
    pub(super) unsafe fn hsum(v: __m256) -> f64 {
        let lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
        let hi = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(v));
        let s = _mm256_add_pd(lo, hi);
        let s2 = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd::<1>(s));
        _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)))
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn weight_grad_avx2(a: &[f32], nin: usize, dz: &[f32], nout: usize, np: usize, g: &mut [f64]) {
        let mut j0 = 0;
        while j0 + 4 <= nin {
            row::<4>(a, dz, nout, np, j0, g);
            j0 += 4;
        }
        while j0 < nin {
            row::<1>(a, dz, nout, np, j0, g);
            j0 += 1;
        }
    }

    #[inline(always)]
    unsafe fn row<const JB: usize>(a: &[f32], dz: &[f32], nout: usize, np: usize, j0: usize, g: &mut [f64]) {
        let mut k0 = 0;
        while k0 + 2 <= nout {
            tile::<JB, 2>(a, dz, nout, np, j0, k0, g);
            k0 += 2;
        }
        if k0 < nout {
            tile::<JB, 1>(a, dz, nout, np, j0, k0, g);
        }
    }

    #[inline(always)]
    pub(super) unsafe fn tile<const JB: usize, const KB: usize>(
        a: &[f32],
        dz: &[f32],
        nout: usize,
        np: usize,
        j0: usize,
        k0: usize,
        g: &mut [f64],
    ) {
        let mut acc = [[_mm256_setzero_ps(); KB]; JB];
        let (ap, dp) = (a.as_ptr(), dz.as_ptr());
        let mut c = 0;
        while c < np {
            let dv: [__m256; KB] = std::array::from_fn(|kb| _mm256_loadu_ps(dp.add((k0 + kb) * np + c)));
            for jb in 0..JB {
                let av = _mm256_loadu_ps(ap.add((j0 + jb) * np + c));
                for kb in 0..KB {
                    acc[jb][kb] = _mm256_fmadd_ps(av, dv[kb], acc[jb][kb]);
                }
            }
            c += LANES;
        }
        for jb in 0..JB {
            for kb in 0..KB {
                let t = hsum(acc[jb][kb]);
                g[(j0 + jb) * nout + k0 + kb] += t;
            }
        }
    }
}

#[cfg(test)]
mod tests;
