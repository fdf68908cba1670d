//! The generic batch-major loops, instantiated for f32/f64 with and without FMA.
//! Every function is `#[inline(always)]` so the `#[target_feature]` wrappers compile
//! the whole pass with their instruction set.

use ndarray::Array2;

use super::{Real, LANES as L};
use crate::config::Activation;

/// Buffers of one batch size for one scalar type.
#[derive(Clone, Debug, Default)]
pub(crate) struct Bufs<T> {
    /// Points in the batch and the padded length (a multiple of `LANES`).
    pub n: usize,
    pub np: usize,
    /// Layer inputs: a[0] is x (1 x np), a[l] the output of hidden layer l (width x np).
    pub a: Vec<Vec<T>>,
    /// Derivative of each hidden layer's activation at its pre-activation.
    pub dact: Vec<Vec<T>>,
    /// The output layer's pre-bias values (outputs x np).
    pub zout: Vec<T>,
    /// Gradients w.r.t. each layer's pre-activation (width[l+1] x np).
    pub dz: Vec<Vec<T>>,
    /// The parameters converted to T, and each layer's weights transposed.
    pub w: Vec<T>,
    pub wt: Vec<T>,
    widths: Vec<usize>,
    /// Where each layer starts in the flat parameter vector.
    offs: Vec<usize>,
}

impl<T: Real> Bufs<T> {
    fn ensure(&mut self, widths: &[usize], n: usize) {
        if self.n == n && self.widths == widths && !self.a.is_empty() {
            return;
        }
        let np = n.div_ceil(L).max(1) * L;
        let nl = widths.len() - 1;
        self.n = n;
        self.np = np;
        self.widths = widths.to_vec();
        self.a = (0..nl).map(|l| vec![T::ZERO; widths[l] * np]).collect();
        self.dact = (0..nl - 1).map(|l| vec![T::ZERO; widths[l + 1] * np]).collect();
        self.zout = vec![T::ZERO; widths[nl] * np];
        self.dz = (0..nl).map(|l| vec![T::ZERO; widths[l + 1] * np]).collect();
        let dim: usize = (0..nl).map(|l| widths[l] * widths[l + 1] + widths[l + 1]).sum();
        self.offs = (0..nl).map(|l| (0..l).map(|m| widths[m] * widths[m + 1] + widths[m + 1]).sum()).collect();
        self.w = vec![T::ZERO; dim];
        self.wt = vec![T::ZERO; dim];
    }
}

/// What a dense layer does with its pre-activations (a const generic, so each variant
/// is compiled into its own vectorised loop): store them, store act(z) and act'(z)
/// (into `aux`), or store z times `aux` (backward: da * act'(z)).
pub(crate) const LINEAR: u8 = 0;
pub(crate) const TANH: u8 = 1;
pub(crate) const SILU: u8 = 2;
pub(crate) const RELU: u8 = 3;
pub(crate) const MUL: u8 = 4;

const fn act_code(act: Activation) -> u8 {
    match act {
        Activation::Tanh => TANH,
        Activation::Silu => SILU,
        Activation::Relu => RELU,
    }
}

pub(crate) const fn code_act(code: u8) -> Activation {
    match code {
        SILU => Activation::Silu,
        RELU => Activation::Relu,
        _ => Activation::Tanh,
    }
}

/// out[k][i] = epi(bias[k] + sum_j w[j][k] inp[j][i]) for k < nout, i < np.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dense<T: Real, const FMA: bool, const EPI: u8>(
    inp: &[T],
    nin: usize,
    w: &[T],
    bias: Option<&[T]>,
    nout: usize,
    np: usize,
    aux: &mut [T],
    out: &mut [T],
) {
    assert!(inp.len() >= nin * np && w.len() >= nin * nout && out.len() >= nout * np && np % L == 0);
    if let Some(b) = bias {
        assert!(b.len() >= nout);
    }
    if EPI != LINEAR {
        assert!(aux.len() >= nout * np);
    }
    let mut k0 = 0;
    while k0 + 8 <= nout {
        dense_tile::<T, FMA, EPI, 8>(inp, nin, w, bias, nout, np, k0, aux, out);
        k0 += 8;
    }
    if k0 + 4 <= nout {
        dense_tile::<T, FMA, EPI, 4>(inp, nin, w, bias, nout, np, k0, aux, out);
        k0 += 4;
    }
    if k0 + 2 <= nout {
        dense_tile::<T, FMA, EPI, 2>(inp, nin, w, bias, nout, np, k0, aux, out);
        k0 += 2;
    }
    if k0 < nout {
        dense_tile::<T, FMA, EPI, 1>(inp, nin, w, bias, nout, np, k0, aux, out);
    }
}

/// [`Arch::dense`] with the activation chosen at run time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dense_act<T: Real, A: Arch<T>>(
    act: Activation,
    inp: &[T],
    nin: usize,
    w: &[T],
    bias: Option<&[T]>,
    nout: usize,
    np: usize,
    dact: &mut [T],
    out: &mut [T],
) {
    match act_code(act) {
        TANH => A::dense::<TANH>(inp, nin, w, bias, nout, np, dact, out),
        SILU => A::dense::<SILU>(inp, nin, w, bias, nout, np, dact, out),
        _ => A::dense::<RELU>(inp, nin, w, bias, nout, np, dact, out),
    }
}

/// Output units k0..k0+KB of [`dense`], `L` points at a time, accumulators in registers.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dense_tile<T: Real, const FMA: bool, const EPI: u8, const KB: usize>(
    inp: &[T],
    nin: usize,
    w: &[T],
    bias: Option<&[T]>,
    nout: usize,
    np: usize,
    k0: usize,
    aux: &mut [T],
    out: &mut [T],
) {
    let mut c = 0;
    while c < np {
        let mut acc = [[T::ZERO; L]; KB];
        if let Some(b) = bias {
            for kb in 0..KB {
                acc[kb] = [b[k0 + kb]; L];
            }
        }
        for j in 0..nin {
            // SAFETY: j < nin, c + L <= np and inp.len() >= nin * np (asserted by `dense`);
            // k0 + KB <= nout and w.len() >= nin * nout.
            let (a, wr) = unsafe {
                (
                    &*(inp.as_ptr().add(j * np + c) as *const [T; L]),
                    &*(w.as_ptr().add(j * nout + k0) as *const [T; KB]),
                )
            };
            for kb in 0..KB {
                let wv = wr[kb];
                for l in 0..L {
                    acc[kb][l] = T::madd::<FMA>(wv, a[l], acc[kb][l]);
                }
            }
        }
        for kb in 0..KB {
            let at = (k0 + kb) * np + c;
            // SAFETY: at + L <= nout * np <= out.len() (asserted by `dense`); the Act and
            // Mul slices are at least as long.
            let o = unsafe { &mut *(out.as_mut_ptr().add(at) as *mut [T; L]) };
            if EPI == LINEAR {
                *o = acc[kb];
            } else if EPI == MUL {
                let m = unsafe { &*(aux.as_ptr().add(at) as *const [T; L]) };
                for l in 0..L {
                    o[l] = acc[kb][l] * m[l];
                }
            } else {
                let d = unsafe { &mut *(aux.as_mut_ptr().add(at) as *mut [T; L]) };
                for l in 0..L {
                    let (v, dv) = T::act::<FMA>(code_act(EPI), acc[kb][l]);
                    o[l] = v;
                    d[l] = dv;
                }
            }
        }
        c += L;
    }
}

/// The two hot kernels of one instruction set: the generic loops here, or explicit
/// SIMD versions (for the weight gradient LLVM's SLP vectoriser packs the reduction
/// across the tile instead of across the batch lanes; wasm has no FMA to fuse).
pub(crate) trait Arch<T: Real> {
    /// out[k][i] = EPI(bias[k] + sum_j w[j][k] inp[j][i]) (k < nout, i < np); `aux` is
    /// act'(z) for the activation codes, the multiplier for `MUL`, unused for `LINEAR`.
    #[allow(clippy::too_many_arguments)]
    fn dense<const EPI: u8>(
        inp: &[T],
        nin: usize,
        w: &[T],
        bias: Option<&[T]>,
        nout: usize,
        np: usize,
        aux: &mut [T],
        out: &mut [T],
    );
    /// g[j][k] += sum_i a[j][i] dz[k][i] (j < nin, k < nout, i < np), g in f64.
    fn weight_grad(a: &[T], nin: usize, dz: &[T], nout: usize, np: usize, g: &mut [f64]);
    /// g[k] += sum_i dz[k][i].
    #[inline(always)]
    fn row_sums(dz: &[T], nout: usize, np: usize, g: &mut [f64]) {
        row_sums(dz, nout, np, g)
    }
}

/// The generic loops, with or without fused multiply-adds.
pub(crate) struct Generic<const FMA: bool>;

impl<T: Real, const FMA: bool> Arch<T> for Generic<FMA> {
    #[inline(always)]
    fn dense<const EPI: u8>(
        inp: &[T],
        nin: usize,
        w: &[T],
        bias: Option<&[T]>,
        nout: usize,
        np: usize,
        aux: &mut [T],
        out: &mut [T],
    ) {
        dense::<T, FMA, EPI>(inp, nin, w, bias, nout, np, aux, out)
    }
    #[inline(always)]
    fn weight_grad(a: &[T], nin: usize, dz: &[T], nout: usize, np: usize, g: &mut [f64]) {
        weight_grad::<T, FMA>(a, nin, dz, nout, np, g)
    }
}

/// g[j][k] += sum_i a[j][i] dz[k][i] (j < nin, k < nout, i < np), g in f64.
#[inline(always)]
fn weight_grad<T: Real, const FMA: bool>(a: &[T], nin: usize, dz: &[T], nout: usize, np: usize, g: &mut [f64]) {
    assert!(a.len() >= nin * np && dz.len() >= nout * np && g.len() >= nin * nout && np % L == 0);
    let mut j0 = 0;
    while j0 + 4 <= nin {
        wgrad_row::<T, FMA, 4>(a, dz, nout, np, j0, g);
        j0 += 4;
    }
    if j0 + 2 <= nin {
        wgrad_row::<T, FMA, 2>(a, dz, nout, np, j0, g);
        j0 += 2;
    }
    if j0 < nin {
        wgrad_row::<T, FMA, 1>(a, dz, nout, np, j0, g);
    }
}

#[inline(always)]
fn wgrad_row<T: Real, const FMA: bool, const JB: usize>(a: &[T], dz: &[T], nout: usize, np: usize, j0: usize, g: &mut [f64]) {
    let mut k0 = 0;
    while k0 + 2 <= nout {
        wgrad_tile::<T, FMA, JB, 2>(a, dz, nout, np, j0, k0, g);
        k0 += 2;
    }
    if k0 < nout {
        wgrad_tile::<T, FMA, JB, 1>(a, dz, nout, np, j0, k0, g);
    }
}

#[inline(always)]
fn wgrad_tile<T: Real, const FMA: bool, const JB: usize, const KB: usize>(
    a: &[T],
    dz: &[T],
    nout: usize,
    np: usize,
    j0: usize,
    k0: usize,
    g: &mut [f64],
) {
    let mut acc = [[[T::ZERO; L]; KB]; JB];
    let mut c = 0;
    while c < np {
        for jb in 0..JB {
            // SAFETY: j0 + JB <= nin, k0 + KB <= nout, c + L <= np (asserted by `weight_grad`).
            let av: [T; L] = unsafe { *(a.as_ptr().add((j0 + jb) * np + c) as *const [T; L]) };
            for kb in 0..KB {
                let dv: [T; L] = unsafe { *(dz.as_ptr().add((k0 + kb) * np + c) as *const [T; L]) };
                for l in 0..L {
                    acc[jb][kb][l] = T::madd::<FMA>(av[l], dv[l], acc[jb][kb][l]);
                }
            }
        }
        c += L;
    }
    for jb in 0..JB {
        for kb in 0..KB {
            g[(j0 + jb) * nout + k0 + kb] += lane_sum(&acc[jb][kb]);
        }
    }
}

/// Sum of L lanes in f64, pairwise.
#[inline(always)]
pub(crate) fn lane_sum<T: Real>(v: &[T; L]) -> f64 {
    let mut s = [0.0f64; L];
    for l in 0..L {
        s[l] = v[l].to_f64();
    }
    let mut w = L / 2;
    while w > 0 {
        for l in 0..w {
            s[l] += s[l + w];
        }
        w /= 2;
    }
    s[0]
}

/// g[k] += sum_i dz[k][i].
#[inline(always)]
fn row_sums<T: Real>(dz: &[T], nout: usize, np: usize, g: &mut [f64]) {
    for k in 0..nout {
        let mut acc = [T::ZERO; L];
        for chunk in dz[k * np..(k + 1) * np].chunks_exact(L) {
            for l in 0..L {
                acc[l] = acc[l] + chunk[l];
            }
        }
        g[k] += lane_sum(&acc);
    }
}

/// Forward pass; see `kernels::forward_f32`.
#[inline(always)]
pub(crate) fn forward<T: Real, A: Arch<T>>(
    widths: &[usize],
    act: Activation,
    p: &[f64],
    x: &[f64],
    b: &mut Bufs<T>,
    out: &mut Array2<f64>,
) {
    let n = x.len();
    let nl = widths.len() - 1;
    b.ensure(widths, n);
    let np = b.np;
    for (a, &v) in b.a[0].iter_mut().zip(x) {
        *a = T::of(v);
    }
    b.a[0][n..].iter_mut().for_each(|a| *a = T::ZERO);
    let dim = b.w.len();
    for (w, &v) in b.w.iter_mut().zip(&p[..dim]) {
        *w = T::of(v);
    }
    let outs = widths[nl];
    if out.dim() != (n, outs) || !out.is_standard_layout() {
        *out = Array2::zeros((n, outs));
    }
    let mut off = 0;
    for l in 0..nl {
        let (j, k) = (widths[l], widths[l + 1]);
        let wl = &b.w[off..off + j * k];
        if l + 1 < nl {
            let bl = &b.w[off + j * k..off + j * k + k];
            let (lo, hi) = b.a.split_at_mut(l + 1);
            dense_act::<T, A>(act, &lo[l], j, wl, Some(bl), k, np, &mut b.dact[l], &mut hi[0]);
        } else {
            A::dense::<LINEAR>(&b.a[l], j, wl, None, k, np, &mut [], &mut b.zout);
            // The last bias in f64: a zero-weight head gives exactly its bias.
            let bias = &p[off + j * k..off + j * k + k];
            let o = out.as_slice_mut().unwrap();
            for i in 0..n {
                for q in 0..k {
                    o[i * k + q] = bias[q] + b.zout[q * np + i].to_f64();
                }
            }
        }
        off += j * k + k;
    }
}

/// Backward pass after [`forward`] with the same widths and batch.
#[inline(always)]
pub(crate) fn backward<T: Real, A: Arch<T>>(
    widths: &[usize],
    p: &[f64],
    d_out: &Array2<f64>,
    b: &mut Bufs<T>,
    grad: &mut [f64],
) {
    let nl = widths.len() - 1;
    let (n, np) = (b.n, b.np);
    assert!(b.widths == widths && !b.a.is_empty(), "Mlp::backward needs a forward pass with the same kernel first");
    assert_eq!(d_out.dim(), (n, widths[nl]), "d_out has the wrong shape");
    let offs = std::mem::take(&mut b.offs);
    let last = nl - 1;
    let outs = widths[nl];
    {
        // dz of the output layer (padded with zeros), and the last layer's bias gradient
        // straight from the f64 output gradient.
        let d = d_out.as_standard_layout();
        let ds = d.as_slice().expect("standard layout");
        let dz = &mut b.dz[last];
        let gb = &mut grad[offs[last] + widths[last] * outs..offs[last] + widths[last] * outs + outs];
        for q in 0..outs {
            let row = &mut dz[q * np..(q + 1) * np];
            let mut s = 0.0;
            for (r, &v) in row[..n].iter_mut().zip(ds[q..].iter().step_by(outs)) {
                *r = T::of(v);
                s += v;
            }
            row[n..].iter_mut().for_each(|r| *r = T::ZERO);
            gb[q] += s;
        }
    }
    for l in (0..nl).rev() {
        let (j, k, off) = (widths[l], widths[l + 1], offs[l]);
        A::weight_grad(&b.a[l], j, &b.dz[l], k, np, &mut grad[off..off + j * k]);
        if l < last {
            A::row_sums(&b.dz[l], k, np, &mut grad[off + j * k..off + j * k + k]);
        }
        if l > 0 {
            // W^T (k x j, row-major) for da = dz W^T.
            let wt = &mut b.wt[off..off + j * k];
            for (jj, prow) in p[off..off + j * k].chunks_exact(k).enumerate() {
                for (col, &v) in wt[jj..].iter_mut().step_by(j).zip(prow) {
                    *col = T::of(v);
                }
            }
            let (lo, hi) = b.dz.split_at_mut(l);
            A::dense::<MUL>(&hi[0], k, &b.wt[off..off + j * k], None, j, np, &mut b.dact[l - 1], &mut lo[l - 1]);
        }
    }
    b.offs = offs;
}
