//! The generic batch-major loops, instantiated for f32/f64 with and without FMA.
//! Every function is `#[inline(always)]` so the `#[target_feature]` wrappers compile
//! the whole pass with their instruction set.

use ndarray::Array2;

use super::{normal, Real, LANES as L};
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
    /// The local reparameterisation passes' own buffers (empty until first used), and
    /// the random words the next LRT pass draws its noise from (two draws a word).
    pub lrt: Lrt<T>,
    pub words: Vec<u64>,
}

/// Buffers of [`forward_lrt`] and [`backward_lrt`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Lrt<T> {
    /// Squared layer inputs (width[l] x np).
    pub a2: Vec<Vec<T>>,
    /// The standard normal draw of every pre-activation (width[l+1] x np, zero in the
    /// padding; after the forward pass eps / (2 sd)) and its variance.
    pub eps: Vec<Vec<T>>,
    pub sd: Vec<Vec<T>>,
    /// Scratch of the widest layer: the noisy pre-activations (forward); the gradient
    /// w.r.t. the pre-activation variance and the two terms of the gradient w.r.t. the
    /// layer input (backward).
    pub z: Vec<T>,
    pub dv: Vec<T>,
    pub t1: Vec<T>,
    pub t2: Vec<T>,
    /// The variances converted to T, and each layer's variances transposed.
    pub v: Vec<T>,
    pub vt: Vec<T>,
}

/// Points padded to a multiple of `LANES` (at least one block).
pub(crate) fn padded(n: usize) -> usize {
    n.div_ceil(L).max(1) * L
}

/// Random words one LRT forward pass at `n` points consumes: two draws a word, one
/// draw per pre-activation of every layer, padding included.
pub(crate) fn lrt_words(widths: &[usize], n: usize) -> usize {
    widths[1..].iter().sum::<usize>() * padded(n) / 2
}

impl<T: Real> Bufs<T> {
    fn ensure(&mut self, widths: &[usize], n: usize) {
        if self.n == n && self.widths == widths && !self.a.is_empty() {
            return;
        }
        let np = padded(n);
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
        self.lrt = Lrt::default();
    }

    /// `ensure`, then the LRT buffers for the same shapes.
    fn ensure_lrt(&mut self, widths: &[usize], n: usize) {
        self.ensure(widths, n);
        let nl = widths.len() - 1;
        if self.lrt.eps.len() == nl {
            return;
        }
        let np = self.np;
        let wide = widths.iter().copied().max().unwrap_or(1) * np;
        let dim = self.w.len();
        self.lrt = Lrt {
            a2: (0..nl).map(|l| vec![T::ZERO; widths[l] * np]).collect(),
            eps: (0..nl).map(|l| vec![T::ZERO; widths[l + 1] * np]).collect(),
            sd: (0..nl).map(|l| vec![T::ZERO; widths[l + 1] * np]).collect(),
            z: vec![T::ZERO; wide],
            dv: vec![T::ZERO; wide],
            t1: vec![T::ZERO; wide],
            t2: vec![T::ZERO; wide],
            v: vec![T::ZERO; dim],
            vt: vec![T::ZERO; dim],
        };
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
    /// a = act(z) and d = act'(z), elementwise (the LRT passes add noise to z first).
    #[inline(always)]
    fn activate(act: Activation, z: &[T], a: &mut [T], d: &mut [T]) {
        activate::<T, false>(act, z, a, d)
    }
    /// Standard normal draws, two per word of `bits` (see [`normal::fill`]).
    #[inline(always)]
    fn normals(bits: &[u64], out: &mut [T]) {
        normal::fill::<T, false>(bits, out)
    }
    /// The LRT noise of one layer: with sd = sqrt(q) (q the pre-activation variance),
    /// z += sd eps, then eps becomes eps / (2 sd), what the backward pass needs (0 where
    /// q <= 0).
    #[inline(always)]
    fn add_noise(q: &[T], eps: &mut [T], z: &mut [T]) {
        add_noise(q, eps, z)
    }
}

/// [`Arch::add_noise`] with a square root and a division.
#[inline(always)]
pub(crate) fn add_noise<T: Real>(q: &[T], eps: &mut [T], z: &mut [T]) {
    let n = q.len();
    let (eps, z) = (&mut eps[..n], &mut z[..n]);
    let half = T::of(0.5);
    for i in 0..n {
        let pos = q[i] > T::ZERO;
        let s = if pos { q[i].root() } else { T::ZERO };
        z[i] = T::madd::<false>(s, eps[i], z[i]);
        let w = eps[i] * (half / s);
        eps[i] = if pos { w } else { T::ZERO };
    }
}

/// [`Arch::activate`] with the activation a compile-time constant in each loop.
#[inline(always)]
pub(crate) fn activate<T: Real, const FMA: bool>(act: Activation, z: &[T], a: &mut [T], d: &mut [T]) {
    match act_code(act) {
        TANH => activate_code::<T, FMA, TANH>(z, a, d),
        SILU => activate_code::<T, FMA, SILU>(z, a, d),
        _ => activate_code::<T, FMA, RELU>(z, a, d),
    }
}

#[inline(always)]
fn activate_code<T: Real, const FMA: bool, const EPI: u8>(z: &[T], a: &mut [T], d: &mut [T]) {
    let n = z.len();
    let (a, d) = (&mut a[..n], &mut d[..n]);
    for i in 0..n {
        let (v, dv) = T::act::<FMA>(code_act(EPI), z[i]);
        a[i] = v;
        d[i] = dv;
    }
}

/// The generic loops, with or without fused multiply-adds.
pub(crate) struct Generic<const FMA: bool>;

impl<T: Real, const FMA: bool> Arch<T> for Generic<FMA> {
    #[inline(always)]
    fn activate(act: Activation, z: &[T], a: &mut [T], d: &mut [T]) {
        activate::<T, FMA>(act, z, a, d)
    }
    #[inline(always)]
    fn normals(bits: &[u64], out: &mut [T]) {
        normal::fill::<T, FMA>(bits, out)
    }
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

/// W^T (k x j, row-major) of the j x k row-major `w`.
#[inline(always)]
fn transpose<T: Real, S: Copy>(w: &[S], j: usize, k: usize, conv: impl Fn(S) -> T, wt: &mut [T]) {
    for (jj, row) in w[..j * k].chunks_exact(k).enumerate() {
        for (col, &v) in wt[jj..].iter_mut().step_by(j).zip(row) {
            *col = conv(v);
        }
    }
}

/// Forward pass under a factorised Gaussian over the weights (means `m`, variances
/// `v`, flat like the point parameters), each pre-activation drawn from its exact
/// Gaussian (local reparameterisation): mean a·M + m_b, variance a²·V + v_b. The draws
/// come from `b.words` (at least [`lrt_words`] words, filled by the caller): layer
/// by layer, unit by unit, two per word. Writes `out` (rows x outputs); the last
/// layer's mean bias is added in f64, as in [`forward`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_lrt<T: Real, A: Arch<T>>(
    widths: &[usize],
    act: Activation,
    m: &[f64],
    v: &[f64],
    x: &[f64],
    b: &mut Bufs<T>,
    out: &mut Array2<f64>,
) {
    let n = x.len();
    let nl = widths.len() - 1;
    b.ensure_lrt(widths, n);
    let np = b.np;
    let Bufs { a, dact, zout, w, lrt, words, .. } = b;
    assert!(words.len() >= lrt_words(widths, n), "forward_lrt: draw the random words first");
    for (a, &v) in a[0].iter_mut().zip(x) {
        *a = T::of(v);
    }
    a[0][n..].iter_mut().for_each(|a| *a = T::ZERO);
    let dim = w.len();
    for (w, &v) in w.iter_mut().zip(&m[..dim]) {
        *w = T::of(v);
    }
    for (w, &v) in lrt.v.iter_mut().zip(&v[..dim]) {
        *w = T::of(v);
    }
    let mut at = 0;
    for e in lrt.eps.iter_mut() {
        let count = e.len() / 2;
        A::normals(&words[at..at + count], e);
        at += count;
        for row in e.chunks_exact_mut(np) {
            row[n..].iter_mut().for_each(|v| *v = T::ZERO);
        }
    }
    let outs = widths[nl];
    if out.dim() != (n, outs) || !out.is_standard_layout() {
        *out = Array2::zeros((n, outs));
    }
    let mut off = 0;
    for l in 0..nl {
        let (j, k) = (widths[l], widths[l + 1]);
        let (wl, bl) = (&w[off..off + j * k], &w[off + j * k..off + j * k + k]);
        let (vl, vb) = (&lrt.v[off..off + j * k], &lrt.v[off + j * k..off + j * k + k]);
        {
            let (inp, sq) = (&a[l][..j * np], &mut lrt.a2[l][..j * np]);
            for i in 0..j * np {
                sq[i] = inp[i] * inp[i];
            }
        }
        let (q, eps) = (&mut lrt.sd[l][..k * np], &mut lrt.eps[l][..k * np]);
        A::dense::<LINEAR>(&lrt.a2[l], j, vl, Some(vb), k, np, &mut [], q);
        if l + 1 < nl {
            let z = &mut lrt.z[..k * np];
            A::dense::<LINEAR>(&a[l], j, wl, Some(bl), k, np, &mut [], z);
            A::add_noise(q, eps, z);
            let (_, hi) = a.split_at_mut(l + 1);
            A::activate(act, z, &mut hi[0], &mut dact[l]);
        } else {
            A::dense::<LINEAR>(&a[l], j, wl, None, k, np, &mut [], zout);
            A::add_noise(q, eps, zout);
            let bias = &m[off + j * k..off + j * k + k];
            let o = out.as_slice_mut().unwrap();
            for i in 0..n {
                for qq in 0..k {
                    o[i * k + qq] = bias[qq] + zout[qq * np + i].to_f64();
                }
            }
        }
        off += j * k + k;
    }
}

/// Backward pass after [`forward_lrt`] with the same widths and batch: adds the
/// gradients w.r.t. the means to `gm` and w.r.t. the variances to `gv`, given `d_out`.
/// With z = mean + sd eps: d/d mean = dz, d/d var = dz eps / (2 sd) (0 where sd = 0),
/// and d/d a = dz·Mᵀ + 2 a ⊙ (dvar·Vᵀ).
#[inline(always)]
pub(crate) fn backward_lrt<T: Real, A: Arch<T>>(
    widths: &[usize],
    m: &[f64],
    d_out: &Array2<f64>,
    b: &mut Bufs<T>,
    gm: &mut [f64],
    gv: &mut [f64],
) {
    let nl = widths.len() - 1;
    let (n, np) = (b.n, b.np);
    assert!(b.widths == widths && b.lrt.eps.len() == nl, "Mlp::backward_lrt needs forward_lrt with the same kernel first");
    assert_eq!(d_out.dim(), (n, widths[nl]), "d_out has the wrong shape");
    let Bufs { a, dact, dz, wt, offs, lrt, .. } = b;
    let last = nl - 1;
    let outs = widths[nl];
    {
        let d = d_out.as_standard_layout();
        let ds = d.as_slice().expect("standard layout");
        let dzl = &mut dz[last];
        let gb = &mut gm[offs[last] + widths[last] * outs..offs[last] + widths[last] * outs + outs];
        for q in 0..outs {
            let row = &mut dzl[q * np..(q + 1) * np];
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
        {
            // d/d var = dz eps / (2 sd); the forward pass left eps / (2 sd) in `eps`.
            let (dzl, w, dv) = (&dz[l][..k * np], &lrt.eps[l][..k * np], &mut lrt.dv[..k * np]);
            for i in 0..k * np {
                dv[i] = dzl[i] * w[i];
            }
        }
        A::weight_grad(&a[l], j, &dz[l], k, np, &mut gm[off..off + j * k]);
        if l < last {
            A::row_sums(&dz[l], k, np, &mut gm[off + j * k..off + j * k + k]);
        }
        A::weight_grad(&lrt.a2[l], j, &lrt.dv, k, np, &mut gv[off..off + j * k]);
        A::row_sums(&lrt.dv, k, np, &mut gv[off + j * k..off + j * k + k]);
        if l > 0 {
            transpose(&m[off..], j, k, T::of, &mut wt[off..off + j * k]);
            transpose(&lrt.v[off..], j, k, |v| v, &mut lrt.vt[off..off + j * k]);
            let (t1, t2) = (&mut lrt.t1[..j * np], &mut lrt.t2[..j * np]);
            A::dense::<LINEAR>(&dz[l], k, &wt[off..off + j * k], None, j, np, &mut [], t1);
            A::dense::<LINEAR>(&lrt.dv, k, &lrt.vt[off..off + j * k], None, j, np, &mut [], t2);
            let (al, dact_prev) = (&a[l][..j * np], &dact[l - 1][..j * np]);
            let (lo, _) = dz.split_at_mut(l);
            let dzp = &mut lo[l - 1][..j * np];
            let two = T::of(2.0);
            for i in 0..j * np {
                dzp[i] = T::madd::<false>(two * al[i], t2[i], t1[i]) * dact_prev[i];
            }
        }
    }
}
