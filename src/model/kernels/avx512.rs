//! x86_64 AVX-512 kernels (avx512f + avx512vl on top of AVX2+FMA, detected at run time):
//! the dense layers and the weight gradient in 512-bit registers, everything else (row
//! sums, the LRT parts) the AVX2 kernels compiled with 32 vector registers.
//!
//! Bit for bit the AVX2 kernels' results (`avx512_kernels_equal_the_avx2_ones_bit_for_bit`),
//! so a machine gives the same fit on either path and the pinned fingerprints keep
//! their meaning:
//! - a dense output is the same chain of fused multiply-adds over the inputs in the
//!   same order whatever the width of the vector holding it (16 points here, 8 there;
//!   the last 8 points of a row go in a masked half-vector);
//! - the tanh epilogue takes its reciprocal with the 256-bit `rcp` on each half
//!   (`rcp14` would round differently), then the same Newton step;
//! - the weight gradient keeps the AVX2 kernels' 8 partial sums per (input, output)
//!   pair over points i = l mod 8: a 512-bit accumulator holds two pairs, the input's 8
//!   points broadcast to both halves times two outputs' 8 points, and each half is
//!   reduced in f64 as the AVX2 kernel reduces its register.
//!
//! Tiles: dense 8 outputs x 48 points (24 accumulators), weight gradient 4 inputs x 8
//! outputs (16 accumulators), against AVX2's 4 x 16 and 4 x 2.

use std::arch::x86_64::*;

use ndarray::Array2;

use super::dense::{self, code_act, Arch, Bufs};
use super::x86::{hsum, tile as tile8, Avx2};
use super::{Real, TANH_CLAMP, TANH_P, TANH_Q};
use crate::config::Activation;

/// Whether this CPU runs these kernels (cached by std).
#[inline]
pub(super) fn detected() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512vl")
        && std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("fma")
}

macro_rules! check {
    () => {
        assert!(detected(), "AVX-512 kernels on a CPU without avx512f/avx512vl")
    };
}

#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
pub(super) unsafe fn forward(widths: &[usize], act: Activation, p: &[f64], x: &[f64], b: &mut Bufs<f32>, out: &mut Array2<f64>) {
    dense::forward::<f32, Avx512>(widths, act, p, x, b, out)
}

#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
pub(super) unsafe fn backward(widths: &[usize], p: &[f64], d_out: &Array2<f64>, b: &mut Bufs<f32>, grad: &mut [f64]) {
    dense::backward::<f32, Avx512>(widths, p, d_out, b, grad)
}

#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn forward_lrt(
    widths: &[usize],
    act: Activation,
    m: &[f64],
    v: &[f64],
    x: &[f64],
    b: &mut Bufs<f32>,
    out: &mut Array2<f64>,
) {
    dense::forward_lrt::<f32, Avx512>(widths, act, m, v, x, b, out)
}

#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
pub(super) unsafe fn backward_lrt(widths: &[usize], m: &[f64], d_out: &Array2<f64>, b: &mut Bufs<f32>, gm: &mut [f64], gv: &mut [f64]) {
    dense::backward_lrt::<f32, Avx512>(widths, m, d_out, b, gm, gv)
}

pub(super) struct Avx512;

impl Arch<f32> for Avx512 {
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
        assert!(inp.len() >= nin * np && w.len() >= nin * nout && out.len() >= nout * np && np % 8 == 0);
        if let Some(b) = bias {
            assert!(b.len() >= nout);
        }
        if EPI != dense::LINEAR {
            assert!(aux.len() >= nout * np);
        }
        check!();
        // SAFETY: features checked; every tile stays inside the asserted lengths.
        unsafe { dense512::<EPI>(inp, nin, w, bias, nout, np, aux, out) }
    }

    #[inline(always)]
    fn weight_grad(a: &[f32], nin: usize, dz: &[f32], nout: usize, np: usize, g: &mut [f64]) {
        assert!(a.len() >= nin * np && dz.len() >= nout * np && g.len() >= nin * nout && np % 8 == 0);
        check!();
        // SAFETY: features checked; the tiles stay inside the asserted lengths.
        unsafe { weight_grad512(a, nin, dz, nout, np, g) }
    }

    #[inline(always)]
    fn row_sums(dz: &[f32], nout: usize, np: usize, g: &mut [f64]) {
        <Avx2 as Arch<f32>>::row_sums(dz, nout, np, g)
    }

    #[inline(always)]
    fn activate(act: Activation, z: &[f32], a: &mut [f32], d: &mut [f32]) {
        <Avx2 as Arch<f32>>::activate(act, z, a, d)
    }

    #[inline(always)]
    fn normals(bits: &[u64], out: &mut [f32]) {
        <Avx2 as Arch<f32>>::normals(bits, out)
    }

    #[inline(always)]
    fn add_noise(q: &[f32], eps: &mut [f32], z: &mut [f32]) {
        <Avx2 as Arch<f32>>::add_noise(q, eps, z)
    }
}

/// 16 lanes, or the low 8.
const FULL: __mmask16 = 0xffff;
const HALF: __mmask16 = 0x00ff;

/// The rational tanh of [`super::fast_tanh`] in 16 lanes, bit for bit `x86::tanh8` on
/// each half (its 256-bit reciprocal estimate, then the same Newton step).
#[inline(always)]
unsafe fn tanh16(x: __m512) -> __m512 {
    let c = _mm512_set1_ps(TANH_CLAMP);
    let x = _mm512_max_ps(_mm512_min_ps(x, c), _mm512_sub_ps(_mm512_setzero_ps(), c));
    let x2 = _mm512_mul_ps(x, x);
    let p = _mm512_mul_ps(horner16(&TANH_P, x2), x);
    let q = horner16(&TANH_Q, x2);
    let r = join(_mm256_rcp_ps(low(q)), _mm256_rcp_ps(high(q)));
    let r = _mm512_fmadd_ps(r, _mm512_fnmadd_ps(q, r, _mm512_set1_ps(1.0)), r);
    _mm512_mul_ps(p, r)
}

/// Horner's rule in fused multiply-adds, highest power first. A loop, not a closure:
/// a closure does not inherit the caller's target features, so left out of line by
/// LLVM it would call every intrinsic.
#[inline(always)]
unsafe fn horner16(c: &[f32], x: __m512) -> __m512 {
    let mut p = _mm512_set1_ps(c[0]);
    for &k in &c[1..] {
        p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(k));
    }
    p
}

#[inline(always)]
unsafe fn low(v: __m512) -> __m256 {
    _mm512_castps512_ps256(v)
}

#[inline(always)]
unsafe fn high(v: __m512) -> __m256 {
    _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)))
}

#[inline(always)]
unsafe fn join(lo: __m256, hi: __m256) -> __m512 {
    _mm512_castpd_ps(_mm512_insertf64x4::<1>(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi)))
}

#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
#[allow(clippy::too_many_arguments)]
unsafe fn dense512<const EPI: u8>(
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
    while k0 + 8 <= nout {
        dtile::<EPI, 8>(inp, nin, w, bias, nout, np, k0, aux, out);
        k0 += 8;
    }
    if k0 + 4 <= nout {
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

/// Output units k0..k0+KB over the whole batch: chunks of 48 points, then what is left
/// (a multiple of 8 below 48) in one chunk whose last vector may be half full.
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
    while c + 48 <= np {
        dchunk::<EPI, KB, 3>(ip, nin, wp, bias, nout, np, k0, c, [FULL; 3], xp, op);
        c += 48;
    }
    match (np - c) / 8 {
        0 => {}
        1 => dchunk::<EPI, KB, 1>(ip, nin, wp, bias, nout, np, k0, c, [HALF], xp, op),
        2 => dchunk::<EPI, KB, 1>(ip, nin, wp, bias, nout, np, k0, c, [FULL], xp, op),
        3 => dchunk::<EPI, KB, 2>(ip, nin, wp, bias, nout, np, k0, c, [FULL, HALF], xp, op),
        4 => dchunk::<EPI, KB, 2>(ip, nin, wp, bias, nout, np, k0, c, [FULL; 2], xp, op),
        _ => dchunk::<EPI, KB, 3>(ip, nin, wp, bias, nout, np, k0, c, [FULL, FULL, HALF], xp, op),
    }
}

/// Output units k0..k0+KB at points c..c + 16 CH (lanes past `mask` untouched): KB x CH
/// accumulators, the same fused chain per output as `x86::dchunk`.
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
    mask: [__mmask16; CH],
    xp: *mut f32,
    op: *mut f32,
) {
    let one = _mm512_set1_ps(1.0);
    let mut acc = [[_mm512_setzero_ps(); CH]; KB];
    if let Some(b) = bias {
        for kb in 0..KB {
            acc[kb] = [_mm512_set1_ps(*b.get_unchecked(k0 + kb)); CH];
        }
    }
    for j in 0..nin {
        let a: [__m512; CH] = std::array::from_fn(|h| _mm512_maskz_loadu_ps(mask[h], ip.add(j * np + c + 16 * h)));
        for kb in 0..KB {
            let wv = _mm512_set1_ps(*wp.add(j * nout + k0 + kb));
            for h in 0..CH {
                acc[kb][h] = _mm512_fmadd_ps(wv, a[h], acc[kb][h]);
            }
        }
    }
    for kb in 0..KB {
        for h in 0..CH {
            let (at, m) = ((k0 + kb) * np + c + 16 * h, mask[h]);
            let z = acc[kb][h];
            if EPI == dense::LINEAR {
                _mm512_mask_storeu_ps(op.add(at), m, z);
            } else if EPI == dense::MUL {
                _mm512_mask_storeu_ps(op.add(at), m, _mm512_mul_ps(z, _mm512_maskz_loadu_ps(m, xp.add(at))));
            } else if EPI == dense::TANH {
                let a = tanh16(z);
                _mm512_mask_storeu_ps(op.add(at), m, a);
                _mm512_mask_storeu_ps(xp.add(at), m, _mm512_fnmadd_ps(a, a, one));
            } else {
                let mut zs = [0.0f32; 16];
                _mm512_storeu_ps(zs.as_mut_ptr(), z);
                let lanes = if m == FULL { 16 } else { 8 };
                for (l, &zl) in zs.iter().enumerate().take(lanes) {
                    let (v, d) = <f32 as Real>::act::<true>(code_act(EPI), zl);
                    *op.add(at + l) = v;
                    *xp.add(at + l) = d;
                }
            }
        }
    }
}

#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
unsafe fn weight_grad512(a: &[f32], nin: usize, dz: &[f32], nout: usize, np: usize, g: &mut [f64]) {
    let mut j0 = 0;
    while j0 + 4 <= nin {
        wrow::<4>(a, dz, nout, np, j0, g);
        j0 += 4;
    }
    while j0 < nin {
        wrow::<1>(a, dz, nout, np, j0, g);
        j0 += 1;
    }
}

/// Inputs j0..j0+JB against every output: pairs of outputs 8 (4 pairs), 4, 2 at a time,
/// an odd last output by the AVX2 tile.
#[inline(always)]
unsafe fn wrow<const JB: usize>(a: &[f32], dz: &[f32], nout: usize, np: usize, j0: usize, g: &mut [f64]) {
    let mut k0 = 0;
    while k0 + 8 <= nout {
        wtile::<JB, 4>(a, dz, nout, np, j0, k0, g);
        k0 += 8;
    }
    if k0 + 4 <= nout {
        wtile::<JB, 2>(a, dz, nout, np, j0, k0, g);
        k0 += 4;
    }
    if k0 + 2 <= nout {
        wtile::<JB, 1>(a, dz, nout, np, j0, k0, g);
        k0 += 2;
    }
    if k0 < nout {
        tile8::<JB, 1>(a, dz, nout, np, j0, k0, g);
    }
}

/// Inputs j0..j0+JB x outputs k0..k0+2 KP: accumulator [jb][kp] holds, in its low half,
/// the AVX2 kernel's 8 partial sums of (j0+jb, k0+2kp) and in its high half those of
/// (j0+jb, k0+2kp+1).
#[inline(always)]
unsafe fn wtile<const JB: usize, const KP: usize>(
    a: &[f32],
    dz: &[f32],
    nout: usize,
    np: usize,
    j0: usize,
    k0: usize,
    g: &mut [f64],
) {
    let mut acc = [[_mm512_setzero_ps(); KP]; JB];
    let (ap, dp) = (a.as_ptr(), dz.as_ptr());
    let mut c = 0;
    while c < np {
        let dv: [__m512; KP] = std::array::from_fn(|kp| {
            let k = k0 + 2 * kp;
            join(_mm256_loadu_ps(dp.add(k * np + c)), _mm256_loadu_ps(dp.add((k + 1) * np + c)))
        });
        for jb in 0..JB {
            let av = _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_loadu_pd(ap.add((j0 + jb) * np + c) as *const f64)));
            for kp in 0..KP {
                acc[jb][kp] = _mm512_fmadd_ps(av, dv[kp], acc[jb][kp]);
            }
        }
        c += 8;
    }
    for jb in 0..JB {
        for kp in 0..KP {
            let at = (j0 + jb) * nout + k0 + 2 * kp;
            let (lo, hi) = (hsum(low(acc[jb][kp])), hsum(high(acc[jb][kp])));
            g[at] += lo;
            g[at + 1] += hi;
        }
    }
}
