//! Standard normal draws for the local reparameterisation passes: one draw per point
//! and unit per step (8,700 at N = 150 on the default net), which through
//! `rand_distr::StandardNormal` (a scalar ziggurat, ~4 ns a draw) cost more than a
//! whole gradient. Here 64 random bits give two draws by the Box-Muller transform in
//! f32, with a branch-free polynomial ln and sin/cos, so the loop over a batch
//! vectorises (8 lanes with AVX2, 4 with wasm simd128).
//!
//! From bits b: u1 = (b[63..41] + 1/2) 2^-23 in (0, 1), r = sqrt(-2 ln u1); the low
//! word's top 24 bits pick the angle: 2 bits the quadrant, 22 bits the position
//! phi in (-pi/4, pi/4) within it; the draws are r cos(theta), r sin(theta). The
//! radius stops at sqrt(48 ln 2) = 5.77 (the normal's mass beyond it: 8e-9); ln is
//! Cephes' logf, sin and cos Cephes' minimax polynomials on [-pi/4, pi/4]
//! (each within 2e-7 of the exact value; tested with the distribution in `tests.rs`).

use super::Real;

/// 2^-23 and 2^-22 (exact in f32).
const TWO_M23: f32 = 1.0 / 8_388_608.0;
const TWO_M22: f32 = 1.0 / 4_194_304.0;

/// Cephes logf: the polynomial in f = mant - 1 (highest power first) and ln 2 split in
/// a high part exact in f32 and the rest. One table for the scalar, AVX2 and simd128 draws.
#[allow(clippy::excessive_precision)]
pub(crate) const LOGF_P: [f32; 9] = [
    7.037_683_629_2e-2,
    -1.151_461_031_0e-1,
    1.167_699_874_0e-1,
    -1.242_014_084_6e-1,
    1.424_932_278_7e-1,
    -1.666_805_766_5e-1,
    2.000_071_476_5e-1,
    -2.499_999_399_3e-1,
    3.333_333_117_4e-1,
];
#[allow(clippy::excessive_precision)]
pub(crate) const LN2_LO: f32 = -2.121_944_40e-4;
pub(crate) const LN2_HI: f32 = 0.693_359_375;
/// Cephes sinf and cosf on [-pi/4, pi/4]: polynomials in z = phi^2, highest power first.
#[allow(clippy::excessive_precision)]
pub(crate) const SINF_P: [f32; 3] = [-1.951_529_589_1e-4, 8.332_160_873_6e-3, -1.666_665_461_1e-1];
#[allow(clippy::excessive_precision)]
pub(crate) const COSF_P: [f32; 3] = [2.443_315_711_809_948e-5, -1.388_731_625_493_765e-3, 4.166_664_568_298_827e-2];

/// ln x for normal positive x (Cephes logf, branch-free).
#[inline(always)]
#[allow(clippy::excessive_precision)]
pub(crate) fn ln_f32<const FMA: bool>(x: f32) -> f32 {
    let m = <f32 as Real>::madd::<FMA>;
    let bits = x.to_bits();
    let e = ((bits >> 23) as i32 - 127) as f32;
    // Mantissa in [1, 2), folded to [sqrt(1/2), sqrt(2)) so |f| < 0.42.
    let mant = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = mant > std::f32::consts::SQRT_2;
    let mant = if big { 0.5 * mant } else { mant };
    let e = if big { e + 1.0 } else { e };
    let f = mant - 1.0;
    let z = f * f;
    let p = LOGF_P[1..].iter().fold(LOGF_P[0], |p, &k| m(p, f, k));
    let mut y = p * f * z;
    y = m(e, LN2_LO, y);
    y = m(z, -0.5, y);
    m(e, LN2_HI, f + y)
}

/// (cos phi, sin phi) for |phi| <= pi/4 (Cephes' cosf and sinf polynomials).
#[inline(always)]
#[allow(clippy::excessive_precision)]
pub(crate) fn sincos_octant<const FMA: bool>(phi: f32) -> (f32, f32) {
    let m = <f32 as Real>::madd::<FMA>;
    let z = phi * phi;
    let s = SINF_P[1..].iter().fold(SINF_P[0], |s, &k| m(s, z, k));
    let sin = m(s * z, phi, phi);
    let c = COSF_P[1..].iter().fold(COSF_P[0], |c, &k| m(c, z, k));
    let cos = m(c * z, z, m(z, -0.5, 1.0));
    (cos, sin)
}

/// Two standard normal draws from 64 random bits (see the module notes).
#[inline(always)]
pub(crate) fn pair<const FMA: bool>(b: u64) -> (f32, f32) {
    let u1 = ((b >> 41) as u32 as f32 + 0.5) * TWO_M23;
    let r = (-2.0 * ln_f32::<FMA>(u1)).sqrt();
    let a = (b as u32) >> 8;
    let q = a >> 22;
    let frac = ((a & 0x003f_ffff) as f32 + 0.5) * TWO_M22;
    let (c, s) = sincos_octant::<FMA>((frac - 0.5) * std::f32::consts::FRAC_PI_2);
    // Rotate by q quarter turns: (c, s), (-s, c), (-c, -s), (s, -c).
    let (c1, s1) = if q & 1 != 0 { (s, c) } else { (c, s) };
    let c2 = if (q + 1) & 2 != 0 { -c1 } else { c1 };
    let s2 = if q & 2 != 0 { -s1 } else { s1 };
    (r * c2, r * s2)
}

/// Fill `out` with standard normal draws, two from each word of `bits` (which needs
/// at least `out.len().div_ceil(2)` words): in chunks of 16 draws from 8 words, the 8
/// cosine draws first, then the 8 sine draws.
#[inline(always)]
pub(crate) fn fill<T: Real, const FMA: bool>(bits: &[u64], out: &mut [T]) {
    let len = out.len();
    assert!(bits.len() >= len.div_ceil(2), "normal::fill: not enough random bits");
    let mut chunks = out.chunks_exact_mut(16);
    let mut words = bits.chunks_exact(8);
    for (o, w) in (&mut chunks).zip(&mut words) {
        for h in 0..8 {
            let (c, s) = pair::<FMA>(w[h]);
            o[h] = T::of(c as f64);
            o[8 + h] = T::of(s as f64);
        }
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let start = (len / 16) * 8;
        let mut tmp = [T::ZERO; 16];
        for h in 0..rest.len().div_ceil(2) {
            let (c, s) = pair::<FMA>(bits[start + h]);
            tmp[2 * h] = T::of(c as f64);
            tmp[2 * h + 1] = T::of(s as f64);
        }
        rest.copy_from_slice(&tmp[..rest.len()]);
    }
}
