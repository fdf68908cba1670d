//! `exp`, `ln` and `ln_1p` in f64 from bit operations, multiplies and adds only, with
//! no branch and no libm call, so that a loop over the data using them vectorises
//! (libm's `log`, `log1p` and `exp` were 13-16% of a gradient at N = 150-500). Scalar
//! they are slower than glibc's; they pay off only inside such loops
//! ([`super::loglik`]). Accurate to 1-2 ulp over the ranges used; tested against the
//! standard library below.
//!
//! Methods: exp by Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, a degree-13
//! Taylor polynomial and 2^k built in the exponent bits; ln by splitting x = 2^e m
//! with m in [sqrt(1/2), sqrt(2)) and ln m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172,
//! summed to s^21; ln_1p by Goldberg's correction ln(u) (x / (u - 1)), u = 1 + x.

/// ln 2 = LN2_HI + LN2_LO, the high part with trailing zero bits so k LN2_HI is exact
/// (fdlibm's split).
pub(crate) const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
pub(crate) const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
pub(crate) const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// 1.5 * 2^52: adding it rounds to an integer held in the low mantissa bits.
pub(crate) const ROUNDER: f64 = 6_755_399_441_055_744.0;
/// 2^52: an 11-bit integer or'ed into its mantissa reads back exactly after subtracting it.
pub(crate) const TWO_52: f64 = 4_503_599_627_370_496.0;

/// e^x for x in [-708, 709] (clamped there: the result stays a normal number).
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    let x = x.clamp(-708.0, 709.0);
    let t = x * LOG2_E + ROUNDER;
    let k = t - ROUNDER;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Taylor coefficients 1/n! for n = 13 down to 0, by Horner.
    let mut p = 1.0 / 6_227_020_800.0;
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // t's low bits hold k (two's complement); k + 1023 in the exponent field is 2^k.
    let scale = f64::from_bits(t.to_bits().wrapping_add(1023) << 52);
    p * scale
}

/// ln x for normal positive x (the likelihood's sigma is floored well above zero).
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    // The biased exponent as an f64, without an integer-to-float conversion.
    let biased = f64::from_bits((bits >> 52) | TWO_52.to_bits()) - TWO_52;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    // m in [1, 2): fold the upper part to [sqrt(1/2), 1) so |s| stays small.
    let big = m > std::f64::consts::SQRT_2;
    let m = if big { 0.5 * m } else { m };
    let e = biased - 1023.0 + if big { 1.0 } else { 0.0 };
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    // 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...).
    let mut p = 2.0 / 21.0;
    p = p * z + 2.0 / 19.0;
    p = p * z + 2.0 / 17.0;
    p = p * z + 2.0 / 15.0;
    p = p * z + 2.0 / 13.0;
    p = p * z + 2.0 / 11.0;
    p = p * z + 2.0 / 9.0;
    p = p * z + 2.0 / 7.0;
    p = p * z + 2.0 / 5.0;
    p = p * z + 2.0 / 3.0;
    // 2s = f - f s: written so the leading term is exact.
    let ln_m = f - s * (f - z * p);
    e * LN2_HI + (ln_m + e * LN2_LO)
}

/// ln(1 + x) for x >= 0 (the softplus's ln(1 + e^-|o|)).
#[inline(always)]
pub fn ln_1p(x: f64) -> f64 {
    let u = 1.0 + x;
    let d = u - 1.0;
    // u rounds 1 + x; ln(u) x / (u - 1) undoes the rounding to first order.
    let corrected = ln(u) * (x / d);
    if d == 0.0 {
        x
    } else {
        corrected
    }
}

/// 1.5 * 2^23: adding it to an f32 rounds to an integer held in the low mantissa bits.
const ROUNDER_F32: f32 = 12_582_912.0;

/// e^x in f32 for x in [-87, 0] (clamped at -87: the result stays a normal number),
/// within 2 ulp: Cephes' expf (x = k ln2 + r, |r| <= ln2/2, a degree-5 minimax
/// polynomial) with k rounded by [`ROUNDER_F32`] and 2^k built in the exponent bits,
/// so a loop using it vectorises with no rounding instruction.
#[inline(always)]
#[allow(clippy::excessive_precision)]
pub fn exp_f32_nonpositive(x: f32) -> f32 {
    let x = x.clamp(-87.0, 0.0);
    let t = x * std::f32::consts::LOG2_E + ROUNDER_F32;
    let k = t - ROUNDER_F32;
    let r = (x - k * 0.693_359_375) - k * -2.121_944_40e-4;
    let z = r * r;
    let mut p = 1.987_569_150_0e-4_f32;
    p = p * r + 1.398_199_950_7e-3;
    p = p * r + 8.333_451_907_3e-3;
    p = p * r + 4.166_579_589_4e-2;
    p = p * r + 1.666_666_545_9e-1;
    p = p * r + 5.000_000_120_1e-1;
    let y = (p * z + r) + 1.0;
    // t's low bits hold k (two's complement, -126 < k <= 0); k + 127 in the exponent field.
    y * f32::from_bits(t.to_bits().wrapping_add(127) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn rel(a: f64, b: f64) -> f64 {
        if a == b {
            0.0
        } else {
            ((a - b) / b).abs()
        }
    }

    fn worst(f: impl Fn(f64) -> f64, g: impl Fn(f64) -> f64, xs: impl Iterator<Item = f64>) -> (f64, f64) {
        xs.map(|x| (rel(f(x), g(x)), x)).fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
    }

    fn samples(lo: f64, hi: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n).map(|_| lo + (hi - lo) * rng.random::<f64>()).collect()
    }

    const ULP: f64 = f64::EPSILON;

    #[test]
    fn exp_matches_the_standard_library_to_a_few_ulp() {
        let mut xs = samples(-708.0, 709.0, 200_000, 1);
        xs.extend(samples(-1.0, 1.0, 200_000, 2));
        xs.extend([0.0, -0.0, 1.0, -1.0, 0.5 * std::f64::consts::LN_2, -700.0, 700.0, 1e-300, -1e-12]);
        let (e, at) = worst(exp, f64::exp, xs.into_iter());
        assert!(e < 2.0 * ULP, "worst relative error {e:e} at x = {at}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1e4) > 0.0 && exp(-1e4) < 1e-300, "clamped, still a number");
    }

    #[test]
    fn ln_matches_the_standard_library_to_a_few_ulp() {
        let mut xs: Vec<f64> = samples(-700.0, 700.0, 200_000, 3).into_iter().map(f64::exp).collect();
        xs.extend(samples(0.5, 2.0, 200_000, 4));
        xs.extend([2.0, 0.5, std::f64::consts::SQRT_2, f64::MIN_POSITIVE, f64::MAX, 1e-300, 1e300]);
        let (e, at) = worst(ln, f64::ln, xs.iter().copied().filter(|&x| (x - 1.0).abs() > 1e-3));
        assert!(e < 2.0 * ULP, "worst relative error {e:e} at x = {at}");
        // Near 1 ln is small: compare absolutely, in ulp of 1.
        let near: Vec<f64> = samples(1.0 - 1e-3, 1.0 + 1e-3, 100_000, 5);
        let abs = near.iter().map(|&x| (ln(x) - x.ln()).abs()).fold(0.0, f64::max);
        assert!(abs < 2.0 * ULP, "worst absolute error {abs:e} near 1");
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn exp_f32_matches_the_standard_library_to_a_few_ulp() {
        let mut xs = samples(-87.0, 0.0, 400_000, 7);
        xs.extend(samples(-1.0, 0.0, 100_000, 8));
        xs.extend([0.0, -0.0, -1.0, -0.5 * std::f64::consts::LN_2, -86.9, -87.0, -1e-9]);
        let mut worst = (0.0f64, 0.0);
        for x in xs {
            let x = x as f32;
            let e = rel(exp_f32_nonpositive(x) as f64, (x as f64).exp());
            if e > worst.0 {
                worst = (e, x as f64);
            }
        }
        assert!(worst.0 < 2.0 * f32::EPSILON as f64, "worst relative error {:e} at x = {}", worst.0, worst.1);
        assert_eq!(exp_f32_nonpositive(0.0), 1.0);
        let floor = exp_f32_nonpositive(-1e4);
        assert!(floor == exp_f32_nonpositive(-87.0) && floor.is_normal(), "clamped, still a normal number");
    }

    #[test]
    fn ln_1p_matches_the_standard_library_from_tiny_to_one() {
        let mut xs: Vec<f64> = samples(-745.0, 0.0, 200_000, 6).into_iter().map(f64::exp).collect();
        xs.extend([1.0, 1e-300, 1e-17, 1e-16, 2.3e-16, 1e-8, 0.5]);
        let (e, at) = worst(ln_1p, f64::ln_1p, xs.into_iter().filter(|&x| x > 0.0));
        assert!(e < 4.0 * ULP, "worst relative error {e:e} at x = {at}");
        assert_eq!(ln_1p(0.0), 0.0);
    }
}
