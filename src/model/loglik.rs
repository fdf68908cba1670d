//! The two-head Gaussian log likelihood of a batch (the default model's hot loop
//! outside the network): one pass over the points with no branch and no libm call, so
//! the compiler vectorises it (4 lanes with AVX2, chosen at run time like the network
//! kernels' instruction set), then a plain sum. In wasm32 with simd128 the compiler left
//! the pass scalar (15% of a gradient at N = 500 in V8), so [`wasm`] writes it in
//! `f64x2` intrinsics, two points at a time, with the scalar pass's operations in its
//! order (wasm has no f64 fused multiply-add): bit for bit the scalar pass, checked by
//! [`wasm_pass_matches_the_scalar_pass`] in the wasm tests. Tested against the per-point
//! code in `Model` that serves every other case.

use super::fastmath;

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// Per point i, with mu = out[2i], o = out[2i+1], sigma = softplus(o) + floor and
/// r = y - mu: d_out[2i] = scale r / sigma^2, d_out[2i+1] = scale (r^2/sigma^2 - 1) /
/// sigma * sigmoid(o), terms[i] = -ln sigma - r^2 / (2 sigma^2).
#[inline(always)]
fn pass(out: &[f64], y: &[f64], floor: f64, scale: f64, d_out: &mut [f64], terms: &mut [f64]) {
    let n = y.len();
    let (out, d_out, terms) = (&out[..2 * n], &mut d_out[..2 * n], &mut terms[..n]);
    for i in 0..n {
        let (mu, o) = (out[2 * i], out[2 * i + 1]);
        // softplus and its derivative share one exp(-|o|).
        let e = fastmath::exp(-o.abs());
        let sp = o.max(0.0) + fastmath::ln_1p(e);
        let inv_1pe = 1.0 / (1.0 + e);
        let sg = if o >= 0.0 { inv_1pe } else { e * inv_1pe };
        let sigma = sp + floor;
        let r = y[i] - mu;
        let inv = 1.0 / sigma;
        let z2 = r * r * inv * inv;
        d_out[2 * i] = scale * r * inv * inv;
        d_out[2 * i + 1] = scale * (z2 - 1.0) * inv * sg;
        terms[i] = -fastmath::ln(sigma) - 0.5 * z2;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn pass_avx2(out: &[f64], y: &[f64], floor: f64, scale: f64, d_out: &mut [f64], terms: &mut [f64]) {
    pass(out, y, floor, scale, d_out, terms)
}

/// Scaled log likelihood of the batch; writes d(log lik)/d(outputs) into `d_out`
/// (row-major N x 2, like `out`). `terms` is scratch.
pub fn two_head(out: &[f64], y: &[f64], floor: f64, scale: f64, d_out: &mut [f64], terms: &mut Vec<f64>) -> f64 {
    terms.resize(y.len(), 0.0);
    #[cfg(target_arch = "x86_64")]
    {
        if super::kernels::simd() == super::kernels::Simd::Avx2Fma {
            // SAFETY: the CPU has the features the function is compiled for.
            unsafe { pass_avx2(out, y, floor, scale, d_out, terms) };
        } else {
            pass(out, y, floor, scale, d_out, terms);
        }
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    wasm::pass(out, y, floor, scale, d_out, terms);
    #[cfg(not(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128"))))]
    pass(out, y, floor, scale, d_out, terms);
    scale * (terms.iter().sum::<f64>() - y.len() as f64 * HALF_LN_2PI)
}

/// The wasm tests' check that [`wasm::pass`] is the scalar pass bit for bit, on outputs
/// from -40 to 40 (the softplus's both branches, e^-|o| from 1 to underflow) and batches
/// of odd and even length. `Err` says where they first differ.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[doc(hidden)]
pub fn wasm_pass_matches_the_scalar_pass() -> Result<(), String> {
    for n in [1usize, 2, 3, 8, 41, 500] {
        let out: Vec<f64> = (0..2 * n)
            .map(|i| if i % 2 == 0 { (i as f64 * 0.37).sin() * 3.0 } else { -40.0 + 80.0 * ((i as f64 * 0.618_033_988_7).fract()) })
            .collect();
        let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos() * 2.5).collect();
        let (mut da, mut db) = (vec![0.0; 2 * n], vec![0.0; 2 * n]);
        let (mut ta, mut tb) = (vec![0.0; n], vec![0.0; n]);
        wasm::pass(&out, &y, 1e-3, 0.7, &mut da, &mut ta);
        pass(&out, &y, 1e-3, 0.7, &mut db, &mut tb);
        if let Some(i) = (0..2 * n).find(|&i| da[i].to_bits() != db[i].to_bits()) {
            return Err(format!("d_out differs at {i} of {n} points (o {}): {} vs {}", out[i | 1], da[i], db[i]));
        }
        if let Some(i) = (0..n).find(|&i| ta[i].to_bits() != tb[i].to_bits()) {
            return Err(format!("terms differ at point {i} of {n} (o {}): {} vs {}", out[2 * i + 1], ta[i], tb[i]));
        }
    }
    Ok(())
}

/// The pass in `f64x2` lanes: [`super::fastmath`]'s exp, ln and ln_1p and the body of
/// [`pass`](super::pass) operation for operation, on `K` vectors (2K points) at once, each
/// operation issued for all K before the next: one point's chain (exp, then ln_1p, then
/// ln of sigma: some 280 cycles of dependent multiplies and adds) is longer than the
/// out-of-order window reaches, so one vector at a time left the pass latency-bound
/// (K = 1 ran no faster than the scalar pass; measured in `benches/wasm` `parts`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use core::arch::wasm32::*;

    use crate::model::fastmath::{LN2_HI, LN2_LO, LOG2_E, ROUNDER, TWO_52};

    /// Vectors processed together.
    const K: usize = 4;
    type V = [v128; K];

    #[inline(always)]
    fn f(v: f64) -> V {
        [f64x2_splat(v); K]
    }

    #[inline(always)]
    fn un(a: V, op: impl Fn(v128) -> v128) -> V {
        core::array::from_fn(|k| op(a[k]))
    }

    #[inline(always)]
    fn bin(a: V, b: V, op: impl Fn(v128, v128) -> v128) -> V {
        core::array::from_fn(|k| op(a[k], b[k]))
    }

    /// `add`, `sub`, `mul`, `div` over all K vectors (closures: an intrinsic with target
    /// features is not `Fn`).
    macro_rules! lanewise {
        ($($name:ident => $op:ident),*) => {$(
            #[inline(always)]
            fn $name(a: V, b: V) -> V {
                bin(a, b, |a, b| $op(a, b))
            }
        )*};
    }
    lanewise!(add => f64x2_add, sub => f64x2_sub, mul => f64x2_mul, div => f64x2_div);

    /// Where `m` is set, `a`, else `b`.
    #[inline(always)]
    fn select(a: V, b: V, m: V) -> V {
        core::array::from_fn(|k| v128_bitselect(a[k], b[k], m[k]))
    }

    /// p x + c (a multiply and an add: the scalar pass's rounding).
    #[inline(always)]
    fn madd(p: V, x: V, c: f64) -> V {
        add(mul(p, x), f(c))
    }

    /// `fastmath::exp`.
    #[inline(always)]
    fn exp(x: V) -> V {
        let x = bin(bin(x, f(-708.0), |a, b| f64x2_pmax(a, b)), f(709.0), |a, b| f64x2_pmin(a, b));
        let t = add(mul(x, f(LOG2_E)), f(ROUNDER));
        let k = sub(t, f(ROUNDER));
        let r = sub(sub(x, mul(k, f(LN2_HI))), mul(k, f(LN2_LO)));
        let mut p = f(1.0 / 6_227_020_800.0);
        for c in [
            1.0 / 479_001_600.0,
            1.0 / 39_916_800.0,
            1.0 / 3_628_800.0,
            1.0 / 362_880.0,
            1.0 / 40_320.0,
            1.0 / 5_040.0,
            1.0 / 720.0,
            1.0 / 120.0,
            1.0 / 24.0,
            1.0 / 6.0,
            0.5,
            1.0,
            1.0,
        ] {
            p = madd(p, r, c);
        }
        let scale = un(t, |t| i64x2_shl(i64x2_add(t, i64x2_splat(1023)), 52));
        mul(p, scale)
    }

    /// `fastmath::ln`.
    #[inline(always)]
    fn ln(x: V) -> V {
        let two52 = f(TWO_52);
        let biased = sub(bin(un(x, |x| u64x2_shr(x, 52)), two52, |a, b| v128_or(a, b)), two52);
        let m = un(x, |x| v128_or(v128_and(x, i64x2_splat(0x000f_ffff_ffff_ffff)), i64x2_splat(0x3ff0_0000_0000_0000)));
        let big = bin(m, f(std::f64::consts::SQRT_2), |a, b| f64x2_gt(a, b));
        let m = select(mul(f(0.5), m), m, big);
        let e = add(sub(biased, f(1023.0)), bin(f(1.0), big, |a, b| v128_and(a, b)));
        let fm = sub(m, f(1.0));
        let s = div(fm, add(f(2.0), fm));
        let z = mul(s, s);
        let mut p = f(2.0 / 21.0);
        for c in [2.0 / 19.0, 2.0 / 17.0, 2.0 / 15.0, 2.0 / 13.0, 2.0 / 11.0, 2.0 / 9.0, 2.0 / 7.0, 2.0 / 5.0, 2.0 / 3.0] {
            p = madd(p, z, c);
        }
        let ln_m = sub(fm, mul(s, sub(fm, mul(z, p))));
        add(mul(e, f(LN2_HI)), add(ln_m, mul(e, f(LN2_LO))))
    }

    /// `fastmath::ln_1p`.
    #[inline(always)]
    fn ln_1p(x: V) -> V {
        let u = add(f(1.0), x);
        let d = sub(u, f(1.0));
        let corrected = mul(ln(u), div(x, d));
        select(x, corrected, bin(d, f(0.0), |a, b| f64x2_eq(a, b)))
    }

    pub(super) fn pass(out: &[f64], y: &[f64], floor: f64, scale: f64, d_out: &mut [f64], terms: &mut [f64]) {
        let n = y.len();
        assert!(out.len() >= 2 * n && d_out.len() >= 2 * n && terms.len() >= n);
        let (zero, one) = (f(0.0), f(1.0));
        let chunks = n / (2 * K);
        for c in 0..chunks {
            let i0 = 2 * K * c;
            // SAFETY: points i0 .. i0 + 2K <= n: out and d_out hold 4K values from 2 i0 on,
            // y and terms 2K from i0 on (lengths asserted above).
            unsafe {
                let (po, pd) = (out.as_ptr().add(2 * i0), d_out.as_mut_ptr().add(2 * i0));
                let v: [v128; 2 * K] = core::array::from_fn(|h| v128_load(po.add(2 * h) as *const v128));
                let mu: V = core::array::from_fn(|k| i64x2_shuffle::<0, 2>(v[2 * k], v[2 * k + 1]));
                let o: V = core::array::from_fn(|k| i64x2_shuffle::<1, 3>(v[2 * k], v[2 * k + 1]));
                let e = exp(un(o, |o| f64x2_neg(f64x2_abs(o))));
                let sp = add(bin(o, zero, |a, b| f64x2_pmax(a, b)), ln_1p(e));
                let inv_1pe = div(one, add(one, e));
                let sg = select(inv_1pe, mul(e, inv_1pe), bin(o, zero, |a, b| f64x2_ge(a, b)));
                let sigma = add(sp, f(floor));
                let yv: V = core::array::from_fn(|k| v128_load(y.as_ptr().add(i0 + 2 * k) as *const v128));
                let r = sub(yv, mu);
                let inv = div(one, sigma);
                let z2 = mul(mul(mul(r, r), inv), inv);
                let dmu = mul(mul(mul(f(scale), r), inv), inv);
                let dsg = mul(mul(mul(f(scale), sub(z2, one)), inv), sg);
                for k in 0..K {
                    v128_store(pd.add(4 * k) as *mut v128, i64x2_shuffle::<0, 2>(dmu[k], dsg[k]));
                    v128_store(pd.add(4 * k + 2) as *mut v128, i64x2_shuffle::<1, 3>(dmu[k], dsg[k]));
                }
                let t = sub(un(ln(sigma), |a| f64x2_neg(a)), mul(f(0.5), z2));
                for k in 0..K {
                    v128_store(terms.as_mut_ptr().add(i0 + 2 * k) as *mut v128, t[k]);
                }
            }
        }
        let i = 2 * K * chunks;
        if i < n {
            super::pass(&out[2 * i..2 * n], &y[i..n], floor, scale, &mut d_out[2 * i..2 * n], &mut terms[i..n]);
        }
    }
}
