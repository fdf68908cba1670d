//! wasm32 + simd128 kernels (the crate is built with `-C target-feature=+simd128`, see
//! .cargo/config.toml): the dense tiles, the tanh epilogue and the weight gradient
//! written with `core::arch::wasm32` 128-bit intrinsics. The dense tiles hold up to 4
//! outputs x 8 points (2 vectors) in accumulators; the weight gradient holds 3 inputs x 3
//! outputs of one vector each (4 points a step: 9 accumulators, 3 dz vectors and one a
//! vector fit V8's 16 xmm registers; 3 x 4 and 4 x 3 spilled and ran 1.2x slower).
//! simd128 has no fused multiply-add, so every product is a mul and an add; built with
//! `+relaxed-simd` as well (the second worker build, benches/wasm/run.sh `relaxed`),
//! the dense tiles, the weight gradient and the tanh use `f32x4_relaxed_madd`, which
//! V8 compiles to an FMA where the CPU has one (a mul and an add where not: either
//! rounding passes the tests against the exact path). The LRT noise parts stay unfused,
//! bit for bit the generic loops.

use core::arch::wasm32::*;

use ndarray::Array2;

use super::dense::{self, code_act, Arch, Bufs, LINEAR, MUL, TANH};
use super::normal::{COSF_P, LN2_HI, LN2_LO, LOGF_P, SINF_P};
use super::{Real, LANES, TANH_CLAMP, TANH_P, TANH_Q};
use crate::config::Activation;

const _: () = assert!(LANES == 8);

pub(super) fn forward(widths: &[usize], act: Activation, p: &[f64], x: &[f64], b: &mut Bufs<f32>, out: &mut Array2<f64>) {
    dense::forward::<f32, Wasm>(widths, act, p, x, b, out)
}

pub(super) fn backward(widths: &[usize], p: &[f64], d_out: &Array2<f64>, b: &mut Bufs<f32>, grad: &mut [f64]) {
    dense::backward::<f32, Wasm>(widths, p, d_out, b, grad)
}

pub(super) fn forward_lrt(
    widths: &[usize],
    act: Activation,
    m: &[f64],
    v: &[f64],
    x: &[f64],
    b: &mut Bufs<f32>,
    out: &mut Array2<f64>,
) {
    dense::forward_lrt::<f32, Wasm>(widths, act, m, v, x, b, out)
}

pub(super) fn backward_lrt(widths: &[usize], m: &[f64], d_out: &Array2<f64>, b: &mut Bufs<f32>, gm: &mut [f64], gv: &mut [f64]) {
    dense::backward_lrt::<f32, Wasm>(widths, m, d_out, b, gm, gv)
}

pub(super) struct Wasm;

impl Arch<f32> for Wasm {
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
        if EPI != LINEAR {
            assert!(aux.len() >= nout * np);
        }
        // SAFETY (all tiles): k0 + KB <= nout, c + 8 <= np and the lengths asserted above.
        let mut k0 = 0;
        while k0 + 4 <= nout {
            unsafe { tile::<EPI, 4>(inp, nin, w, bias, nout, np, k0, aux, out) };
            k0 += 4;
        }
        if k0 + 2 <= nout {
            unsafe { tile::<EPI, 2>(inp, nin, w, bias, nout, np, k0, aux, out) };
            k0 += 2;
        }
        if k0 < nout {
            unsafe { tile::<EPI, 1>(inp, nin, w, bias, nout, np, k0, aux, out) };
        }
    }

    #[inline(always)]
    fn activate(act: Activation, z: &[f32], a: &mut [f32], d: &mut [f32]) {
        if act != Activation::Tanh {
            return dense::activate::<f32, false>(act, z, a, d);
        }
        let n = z.len();
        assert!(a.len() >= n && d.len() >= n && n % 4 == 0);
        let one = f32x4_splat(1.0);
        // SAFETY: every 4-lane access is inside the asserted lengths.
        for i in (0..n).step_by(4) {
            unsafe {
                let t = tanh4(load(z.as_ptr().add(i)));
                store(a.as_mut_ptr().add(i), t);
                store(d.as_mut_ptr().add(i), f32x4_sub(one, f32x4_mul(t, t)));
            }
        }
    }

    /// Box-Muller in four lanes: the arithmetic of `normal::pair::<false>` lane by lane
    /// (simd128 has no FMA and its sqrt is IEEE), so the draws are the generic loop's,
    /// bit for bit (`normals_match_the_generic_loop`).
    #[inline(always)]
    fn normals(bits: &[u64], out: &mut [f32]) {
        let whole = out.len() / 16;
        assert!(bits.len() >= out.len().div_ceil(2));
        for c in 0..whole {
            // SAFETY: chunk c reads words 8c..8c+8 and writes draws 16c..16c+16, inside
            // the asserted lengths.
            unsafe {
                for h in 0..2 {
                    let (cos, sin) = normals4(bits.as_ptr().add(8 * c + 4 * h));
                    store(out.as_mut_ptr().add(16 * c + 4 * h), cos);
                    store(out.as_mut_ptr().add(16 * c + 8 + 4 * h), sin);
                }
            }
        }
        super::normal::fill::<f32, false>(&bits[8 * whole..], &mut out[16 * whole..]);
    }

    /// `dense::add_noise` in four lanes (the same operations: bit for bit).
    #[inline(always)]
    fn add_noise(q: &[f32], eps: &mut [f32], z: &mut [f32]) {
        let n = q.len();
        assert!(eps.len() >= n && z.len() >= n && n % 4 == 0);
        let (zero, half) = (f32x4_splat(0.0), f32x4_splat(0.5));
        for i in (0..n).step_by(4) {
            // SAFETY: every 4-lane access is inside the asserted lengths.
            unsafe {
                let qv = load(q.as_ptr().add(i));
                let pos = f32x4_gt(qv, zero);
                let s = v128_and(f32x4_sqrt(qv), pos);
                let e = load(eps.as_ptr().add(i));
                store(z.as_mut_ptr().add(i), f32x4_add(f32x4_mul(s, e), load(z.as_ptr().add(i))));
                store(eps.as_mut_ptr().add(i), v128_and(f32x4_mul(e, f32x4_div(half, s)), pos));
            }
        }
    }

    #[inline(always)]
    fn weight_grad(a: &[f32], nin: usize, dz: &[f32], nout: usize, np: usize, g: &mut [f64]) {
        assert!(a.len() >= nin * np && dz.len() >= nout * np && g.len() >= nin * nout && np % LANES == 0);
        // SAFETY (all tiles): j0 + JB <= nin, k0 + KB <= nout, c + 8 <= np, lengths asserted.
        let mut j0 = 0;
        while j0 + 3 <= nin {
            unsafe { wrow::<3>(a, dz, nout, np, j0, g) };
            j0 += 3;
        }
        match nin - j0 {
            2 => unsafe { wrow::<2>(a, dz, nout, np, j0, g) },
            1 => unsafe { wrow::<1>(a, dz, nout, np, j0, g) },
            _ => {}
        }
    }
}

/// a * b + c: fused (or not, as the engine's CPU has it) with relaxed SIMD, otherwise a
/// mul and an add.
#[inline(always)]
fn madd(a: v128, b: v128, c: v128) -> v128 {
    #[cfg(target_feature = "relaxed-simd")]
    {
        f32x4_relaxed_madd(a, b, c)
    }
    #[cfg(not(target_feature = "relaxed-simd"))]
    {
        f32x4_add(f32x4_mul(a, b), c)
    }
}

#[inline(always)]
unsafe fn load(p: *const f32) -> v128 {
    v128_load(p as *const v128)
}

#[inline(always)]
unsafe fn store(p: *mut f32, v: v128) {
    v128_store(p as *mut v128, v)
}

/// Two standard normal draws from each of the 4 words at `bits` (`normal::pair::<false>`
/// in four lanes): the cosine draws and the sine draws.
#[inline(always)]
#[allow(clippy::excessive_precision)]
unsafe fn normals4(bits: *const u64) -> (v128, v128) {
    let (w0, w1) = (v128_load(bits as *const v128), v128_load(bits.add(2) as *const v128));
    // Little-endian words: the low 32-bit halves are lanes 0, 2 of each vector.
    let lo = i32x4_shuffle::<0, 2, 4, 6>(w0, w1);
    let hi = i32x4_shuffle::<1, 3, 5, 7>(w0, w1);
    let f = f32x4_splat;
    let m = |a: v128, b: v128, k: f32| f32x4_add(f32x4_mul(a, b), f(k));
    let u1 = f32x4_mul(f32x4_add(f32x4_convert_i32x4(u32x4_shr(hi, 9)), f(0.5)), f(1.0 / 8_388_608.0));
    // ln u1 (normal::ln_f32::<false>).
    let e = f32x4_convert_i32x4(i32x4_sub(u32x4_shr(u1, 23), i32x4_splat(127)));
    let mant = v128_or(v128_and(u1, i32x4_splat(0x007f_ffff)), i32x4_splat(0x3f80_0000));
    let big = f32x4_gt(mant, f(std::f32::consts::SQRT_2));
    let mant = v128_bitselect(f32x4_mul(f(0.5), mant), mant, big);
    let e = v128_bitselect(f32x4_add(e, f(1.0)), e, big);
    let x = f32x4_sub(mant, f(1.0));
    let z = f32x4_mul(x, x);
    let p = LOGF_P[1..].iter().fold(f(LOGF_P[0]), |p, &k| m(p, x, k));
    let mut y = f32x4_mul(f32x4_mul(p, x), z);
    y = f32x4_add(f32x4_mul(e, f(LN2_LO)), y);
    y = f32x4_add(f32x4_mul(z, f(-0.5)), y);
    let ln = f32x4_add(f32x4_mul(e, f(LN2_HI)), f32x4_add(x, y));
    let r = f32x4_sqrt(f32x4_mul(f(-2.0), ln));
    // The angle: quadrant q and phi in (-pi/4, pi/4) (normal::sincos_octant::<false>).
    let a = u32x4_shr(lo, 8);
    let q = u32x4_shr(a, 22);
    let frac = f32x4_mul(f32x4_add(f32x4_convert_i32x4(v128_and(a, i32x4_splat(0x003f_ffff))), f(0.5)), f(1.0 / 4_194_304.0));
    let phi = f32x4_mul(f32x4_sub(frac, f(0.5)), f(std::f32::consts::FRAC_PI_2));
    let z = f32x4_mul(phi, phi);
    let sp = SINF_P[1..].iter().fold(f(SINF_P[0]), |s, &k| m(s, z, k));
    let sin = f32x4_add(f32x4_mul(f32x4_mul(sp, z), phi), phi);
    let cp = COSF_P[1..].iter().fold(f(COSF_P[0]), |c, &k| m(c, z, k));
    let cos = f32x4_add(f32x4_mul(f32x4_mul(cp, z), z), m(z, f(-0.5), 1.0));
    // Rotate by q quarter turns: swap on odd q, negate cos on q = 1, 2, sin on q = 2, 3.
    let one = i32x4_splat(1);
    let swap = i32x4_eq(v128_and(q, one), one);
    let c1 = v128_bitselect(sin, cos, swap);
    let s1 = v128_bitselect(cos, sin, swap);
    let two = i32x4_splat(2);
    let c2 = v128_xor(c1, i32x4_shl(v128_and(i32x4_add(q, one), two), 30));
    let s2 = v128_xor(s1, i32x4_shl(v128_and(q, two), 30));
    (f32x4_mul(r, c2), f32x4_mul(r, s2))
}

/// c[0] x^(n-1) + ... + c[n-1] by Horner's rule (fused where relaxed SIMD fuses).
#[inline(always)]
fn horner4(c: &[f32], x: v128) -> v128 {
    let mut p = f32x4_splat(c[0]);
    for &k in &c[1..] {
        p = madd(p, x, f32x4_splat(k));
    }
    p
}

/// The rational tanh of [`super::fast_tanh`], four lanes at a time.
#[inline(always)]
fn tanh4(x: v128) -> v128 {
    let c = f32x4_splat(TANH_CLAMP);
    let x = f32x4_pmax(f32x4_pmin(x, c), f32x4_neg(c));
    let x2 = f32x4_mul(x, x);
    f32x4_div(f32x4_mul(horner4(&TANH_P, x2), x), horner4(&TANH_Q, x2))
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<const EPI: u8, const KB: usize>(
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
    let one = f32x4_splat(1.0);
    let mut c = 0;
    while c < np {
        let mut acc = [[f32x4_splat(0.0); 2]; KB];
        if let Some(b) = bias {
            for kb in 0..KB {
                let v = f32x4_splat(b[k0 + kb]);
                acc[kb] = [v, v];
            }
        }
        for j in 0..nin {
            let a0 = load(ip.add(j * np + c));
            let a1 = load(ip.add(j * np + c + 4));
            for kb in 0..KB {
                let wv = v128_load32_splat(wp.add(j * nout + k0 + kb) as *const u32);
                acc[kb][0] = madd(wv, a0, acc[kb][0]);
                acc[kb][1] = madd(wv, a1, acc[kb][1]);
            }
        }
        for kb in 0..KB {
            for h in 0..2 {
                let at = (k0 + kb) * np + c + 4 * h;
                let z = acc[kb][h];
                if EPI == LINEAR {
                    store(op.add(at), z);
                } else if EPI == MUL {
                    store(op.add(at), f32x4_mul(z, load(xp.add(at))));
                } else if EPI == TANH {
                    let a = tanh4(z);
                    store(op.add(at), a);
                    store(xp.add(at), f32x4_sub(one, f32x4_mul(a, a)));
                } else {
                    let mut zs = [0.0f32; 4];
                    store(zs.as_mut_ptr(), z);
                    for (l, &zl) in zs.iter().enumerate() {
                        let (v, d) = <f32 as Real>::act::<false>(code_act(EPI), zl);
                        *op.add(at + l) = v;
                        *xp.add(at + l) = d;
                    }
                }
            }
        }
        c += LANES;
    }
}

#[inline(always)]
unsafe fn wrow<const JB: usize>(a: &[f32], dz: &[f32], nout: usize, np: usize, j0: usize, g: &mut [f64]) {
    let mut k0 = 0;
    while k0 + 3 <= nout {
        wtile::<JB, 3>(a, dz, nout, np, j0, k0, g);
        k0 += 3;
    }
    match nout - k0 {
        2 => wtile::<JB, 2>(a, dz, nout, np, j0, k0, g),
        1 => wtile::<JB, 1>(a, dz, nout, np, j0, k0, g),
        _ => {}
    }
}

/// g[j][k] += sum over the batch of a[j] dz[k] for a JB x KB tile, four points at a
/// time (JB KB accumulators, KB dz vectors and one a vector in registers).
#[inline(always)]
unsafe fn wtile<const JB: usize, const KB: usize>(
    a: &[f32],
    dz: &[f32],
    nout: usize,
    np: usize,
    j0: usize,
    k0: usize,
    g: &mut [f64],
) {
    let (ap, dp) = (a.as_ptr(), dz.as_ptr());
    let mut acc = [[f32x4_splat(0.0); KB]; JB];
    let mut c = 0;
    while c < np {
        let dv: [v128; KB] = core::array::from_fn(|kb| load(dp.add((k0 + kb) * np + c)));
        for jb in 0..JB {
            let av = load(ap.add((j0 + jb) * np + c));
            for kb in 0..KB {
                acc[jb][kb] = madd(av, dv[kb], acc[jb][kb]);
            }
        }
        c += 4;
    }
    for jb in 0..JB {
        for kb in 0..KB {
            let u = acc[jb][kb];
            let s = f64x2_add(f64x2_promote_low_f32x4(u), f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(u, u)));
            g[(j0 + jb) * nout + k0 + kb] += f64x2_extract_lane::<0>(s) + f64x2_extract_lane::<1>(s);
        }
    }
}
