//! The random words of one local reparameterisation pass (two normal draws each,
//! [`super::normal`]): 4,400 a step at N = 150 on the default net. One `next_u64` of
//! the caller's generator per word was a dependency chain through its state, ~7% of a
//! VI step. Here [`STREAMS`] xoshiro256++ generators (Blackman & Vigna 2018, the
//! algorithm of `rand_xoshiro::Xoshiro256PlusPlus`) run side by side, their states
//! taken from 4 x [`STREAMS`] words of the caller's generator at the start of each
//! pass, so the loop vectorises (add, xor and shifts only: AVX2 on x86_64, simd128 in
//! wasm) and the words depend only on the caller's generator state, as before.
//! Word `STREAMS i + l` is stream l's i-th output.

use rand::RngCore;

/// Generators run side by side.
pub(crate) const STREAMS: usize = 8;

/// Words of the caller's generator one pass takes (the streams' states).
pub(crate) const SEED_WORDS: usize = 4 * STREAMS;

/// `count` random words into `out` (replacing its contents), seeded from `rng`.
pub(crate) fn fill<R: RngCore>(rng: &mut R, count: usize, out: &mut Vec<u64>) {
    let mut s = [[0u64; STREAMS]; 4];
    for k in 0..SEED_WORDS {
        s[k / STREAMS][k % STREAMS] = rng.next_u64();
    }
    for l in 0..STREAMS {
        // xoshiro's one forbidden state (probability 2^-256 from a random seed).
        if (0..4).all(|r| s[r][l] == 0) {
            s[0][l] = 1;
        }
    }
    out.clear();
    out.resize(count.div_ceil(STREAMS) * STREAMS, 0);
    run(&mut s, out);
    out.truncate(count);
}

fn run(s: &mut [[u64; STREAMS]; 4], out: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    if super::simd() == super::Simd::Avx2Fma {
        // SAFETY: the CPU has the features the function is compiled for.
        return unsafe { x86::run(s, out) };
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return wasm::run(s, out);
    #[allow(unreachable_code)]
    run_loop(s, out)
}

/// xoshiro256++'s step in every stream, one output word each per chunk of `out` (the
/// portable version; LLVM leaves it scalar, hence the explicit ones below).
#[inline(always)]
fn run_loop(s: &mut [[u64; STREAMS]; 4], out: &mut [u64]) {
    let [mut s0, mut s1, mut s2, mut s3] = *s;
    for chunk in out.chunks_exact_mut(STREAMS) {
        for l in 0..STREAMS {
            chunk[l] = s0[l].wrapping_add(s3[l]).rotate_left(23).wrapping_add(s0[l]);
            let t = s1[l] << 17;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = s3[l].rotate_left(45);
        }
    }
    *s = [s0, s1, s2, s3];
}

/// [`run_loop`] in AVX2: each state word of the 8 streams in two 4 x 64-bit registers.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::STREAMS;
    use std::arch::x86_64::*;

    #[inline(always)]
    unsafe fn rotl<const K: i32, const R: i32>(x: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_slli_epi64::<K>(x), _mm256_srli_epi64::<R>(x))
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn run(s: &mut [[u64; STREAMS]; 4], out: &mut [u64]) {
        let ld = |r: usize, h: usize| _mm256_loadu_si256(s[r].as_ptr().add(4 * h) as *const __m256i);
        let mut st = [[ld(0, 0), ld(0, 1)], [ld(1, 0), ld(1, 1)], [ld(2, 0), ld(2, 1)], [ld(3, 0), ld(3, 1)]];
        for chunk in out.chunks_exact_mut(STREAMS) {
            for h in 0..2 {
                let [s0, s1, s2, s3] = [st[0][h], st[1][h], st[2][h], st[3][h]];
                let r = _mm256_add_epi64(rotl::<23, 41>(_mm256_add_epi64(s0, s3)), s0);
                _mm256_storeu_si256(chunk.as_mut_ptr().add(4 * h) as *mut __m256i, r);
                let t = _mm256_slli_epi64::<17>(s1);
                let s2 = _mm256_xor_si256(s2, s0);
                let s3 = _mm256_xor_si256(s3, s1);
                let s1 = _mm256_xor_si256(s1, s2);
                let s0 = _mm256_xor_si256(s0, s3);
                let s2 = _mm256_xor_si256(s2, t);
                let s3 = rotl::<45, 19>(s3);
                st[0][h] = s0;
                st[1][h] = s1;
                st[2][h] = s2;
                st[3][h] = s3;
            }
        }
        for (r, row) in s.iter_mut().enumerate() {
            for h in 0..2 {
                _mm256_storeu_si256(row.as_mut_ptr().add(4 * h) as *mut __m256i, st[r][h]);
            }
        }
    }
}

/// [`run_loop`] in simd128: each state word of the 8 streams in four 2 x 64-bit vectors.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use super::STREAMS;
    use core::arch::wasm32::*;

    #[inline(always)]
    fn rotl(x: v128, k: u32) -> v128 {
        v128_or(u64x2_shl(x, k), u64x2_shr(x, 64 - k))
    }

    pub(super) fn run(s: &mut [[u64; STREAMS]; 4], out: &mut [u64]) {
        let mut st = [[u64x2_splat(0); 4]; 4];
        for r in 0..4 {
            for h in 0..4 {
                st[r][h] = u64x2(s[r][2 * h], s[r][2 * h + 1]);
            }
        }
        for chunk in out.chunks_exact_mut(STREAMS) {
            for h in 0..4 {
                let [s0, s1, s2, s3] = [st[0][h], st[1][h], st[2][h], st[3][h]];
                let r = u64x2_add(rotl(u64x2_add(s0, s3), 23), s0);
                // SAFETY: the chunk has STREAMS = 8 words; this writes words 2h, 2h + 1 < 8.
                unsafe { v128_store(chunk.as_mut_ptr().add(2 * h) as *mut v128, r) };
                let t = u64x2_shl(s1, 17);
                let s2 = v128_xor(s2, s0);
                let s3 = v128_xor(s3, s1);
                let s1 = v128_xor(s1, s2);
                let s0 = v128_xor(s0, s3);
                let s2 = v128_xor(s2, t);
                let s3 = rotl(s3, 45);
                st[0][h] = s0;
                st[1][h] = s1;
                st[2][h] = s2;
                st[3][h] = s3;
            }
        }
        for r in 0..4 {
            for h in 0..4 {
                s[r][2 * h] = u64x2_extract_lane::<0>(st[r][h]);
                s[r][2 * h + 1] = u64x2_extract_lane::<1>(st[r][h]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Each stream is xoshiro256++ as `rand_xoshiro` implements it (an independent
    /// implementation), seeded with the caller's next words in order.
    #[test]
    fn every_stream_is_xoshiro256pp_seeded_from_the_callers_words() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let mut copy = rng.clone();
        let mut out = Vec::new();
        let count = 8 * 37 + 5;
        fill(&mut rng, count, &mut out);
        assert_eq!(out.len(), count);
        // The portable loop gives the same words as the instruction set's own.
        let mut s = [[0u64; STREAMS]; 4];
        let mut c2 = copy.clone();
        for k in 0..SEED_WORDS {
            s[k / STREAMS][k % STREAMS] = c2.next_u64();
        }
        let mut plain = vec![0; count.div_ceil(STREAMS) * STREAMS];
        run_loop(&mut s, &mut plain);
        assert_eq!(&plain[..count], &out[..]);
        let seeds: Vec<u64> = (0..SEED_WORDS).map(|_| copy.next_u64()).collect();
        // The caller's generator moved on by exactly the seed words.
        assert_eq!(rng.next_u64(), copy.next_u64());
        for l in 0..STREAMS {
            let mut bytes = [0u8; 32];
            for r in 0..4 {
                bytes[8 * r..8 * r + 8].copy_from_slice(&seeds[r * STREAMS + l].to_le_bytes());
            }
            let mut g = Xoshiro256PlusPlus::from_seed(bytes);
            for (i, &w) in out.iter().skip(l).step_by(STREAMS).enumerate() {
                assert_eq!(w, g.next_u64(), "stream {l}, word {i}");
            }
        }
    }

    /// Bits of the interleaved words are balanced and adjacent words uncorrelated (a
    /// coarse check that interleaving and seeding lost nothing).
    #[test]
    fn the_words_bits_are_balanced() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut out = Vec::new();
        let mut ones = [0u64; 64];
        let mut same = 0u64;
        let passes = 200;
        let count = 4400;
        for _ in 0..passes {
            fill(&mut rng, count, &mut out);
            for w in out.windows(2) {
                same += (!(w[0] ^ w[1])).count_ones() as u64;
            }
            for &w in &out {
                for (b, c) in ones.iter_mut().enumerate() {
                    *c += (w >> b) & 1;
                }
            }
        }
        let n = (passes * count) as f64;
        // Each bit: mean 1/2, standard error 0.5 / sqrt(n) = 5.3e-4.
        for (b, &c) in ones.iter().enumerate() {
            assert!((c as f64 / n - 0.5).abs() < 3e-3, "bit {b}: {}", c as f64 / n);
        }
        let pairs = (passes * (count - 1) * 64) as f64;
        assert!((same as f64 / pairs - 0.5).abs() < 1e-3, "adjacent words agree in {} of their bits", same as f64 / pairs);
    }
}
