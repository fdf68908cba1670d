//! Every optimised path against the plain one.

use super::*;
use crate::model::mlp::{Mlp, Workspace};
use rand::{Rng, RngCore, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

const ACTS: [Activation; 3] = [Activation::Tanh, Activation::Silu, Activation::Relu];

/// (hidden widths, outputs): the default net, odd widths that exercise every tile
/// remainder, wide layers, and no hidden layer at all.
fn nets() -> Vec<(Vec<usize>, usize)> {
    vec![
        (vec![32, 16, 8], 2),
        (vec![32, 16, 8], 1),
        (vec![13, 7, 3], 2),
        (vec![1], 1),
        (vec![], 2),
        (vec![70, 5], 3),
    ]
}

fn setup(hidden: &[usize], outs: usize, act: Activation, n: usize, seed: u64) -> (Mlp, Vec<f64>, Vec<f64>, Array2<f64>) {
    let mlp = Mlp::new(hidden, outs, act);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut p = vec![0.0; mlp.dim()];
    mlp.init(&mut rng, &mut p);
    p.iter_mut().for_each(|v| *v += 0.3 * rng.sample::<f64, _>(StandardNormal));
    let x: Vec<f64> = (0..n).map(|_| 2.0 * rng.sample::<f64, _>(StandardNormal)).collect();
    let d_out = Array2::from_shape_fn((n, outs), |_| rng.sample::<f64, _>(StandardNormal));
    (mlp, p, x, d_out)
}

fn run(mlp: &Mlp, kernel: Kernel, p: &[f64], x: &[f64], d_out: &Array2<f64>, ws: &mut Workspace) -> (Array2<f64>, Vec<f64>) {
    let mut m = mlp.clone();
    m.kernel = kernel;
    let out = m.forward(p, x, ws).clone();
    let mut g = vec![0.0; m.dim()];
    m.backward(p, d_out, ws, &mut g);
    (out, g)
}

fn max_abs(v: impl Iterator<Item = f64>) -> f64 {
    v.fold(0.0, |m, x| m.max(x.abs()))
}

#[test]
fn fast_tanh_is_within_1e6_of_tanh_and_saturates() {
    let mut worst: f64 = 0.0;
    for i in -200_000..=200_000 {
        let x = i as f32 * 1e-4;
        let e = (fast_tanh(x) as f64 - (x as f64).tanh()).abs();
        // The fused variant the AVX2 kernels use (software fma where there is none).
        let ef = (fast_tanh_with::<true>(x) as f64 - (x as f64).tanh()).abs();
        worst = worst.max(e).max(ef);
    }
    assert!(worst < 1e-6, "max error {worst}");
    // The AVX2 vector version (reciprocal + Newton step instead of a division).
    #[cfg(target_arch = "x86_64")]
    if simd() == Simd::Avx2Fma {
        let mut v: Vec<f32> = (-200_000..200_008).map(|i| i as f32 * 1e-4).collect();
        let x = v.clone();
        super::x86::tanh_slice(&mut v);
        let e = x.iter().zip(&v).fold(0.0f64, |m, (&x, &t)| m.max((t as f64 - (x as f64).tanh()).abs()));
        assert!(e < 1e-6, "AVX2 tanh max error {e}");
        let mut big = vec![9.0f32, 30.0, 1e30, f32::INFINITY, -9.0, -30.0, -1e30, f32::NEG_INFINITY];
        super::x86::tanh_slice(&mut big);
        assert!(big.iter().all(|t| (t.abs() - 1.0).abs() < 1e-6), "{big:?}");
    }
    for &x in &[9.0f32, 30.0, 1e30, f32::INFINITY] {
        assert!((fast_tanh(x) - 1.0).abs() < 1e-6 && (fast_tanh(-x) + 1.0).abs() < 1e-6);
    }
    assert_eq!(fast_tanh(0.0), 0.0);
    assert!((fast_tanh(1e-6) - 1e-6).abs() < 1e-12);
}

#[test]
fn precise_kernel_equals_the_reference_to_rounding() {
    for (hidden, outs) in nets() {
        for act in ACTS {
            for n in [1, 7, 8, 9, 40, 151] {
                let (mlp, p, x, d) = setup(&hidden, outs, act, n, n as u64);
                let (o1, g1) = run(&mlp, Kernel::Reference, &p, &x, &d, &mut Workspace::default());
                let (o2, g2) = run(&mlp, Kernel::Precise, &p, &x, &d, &mut Workspace::default());
                let so = max_abs(o1.iter().copied()).max(1.0);
                let sg = max_abs(g1.iter().copied()).max(1.0);
                let eo = max_abs(o1.iter().zip(&o2).map(|(a, b)| a - b));
                let eg = max_abs(g1.iter().zip(&g2).map(|(a, b)| a - b));
                assert!(eo <= 1e-12 * so && eg <= 1e-12 * sg, "{hidden:?}/{outs}/{act:?}/n={n}: {eo} {eg}");
            }
        }
    }
}

/// The fast (f32) kernel agrees with the exact one: outputs to 2e-5 of the output
/// scale and every gradient component to 2e-4 of the largest one (f32 rounding through
/// up to four layers and sums over the batch; the rational tanh adds < 1e-6).
fn check_fast_against_precise(simd: Simd) {
    for (hidden, outs) in nets() {
        for act in ACTS {
            for n in [1, 7, 8, 9, 40, 151, 500] {
                let (mlp, p, x, d) = setup(&hidden, outs, act, n, 100 + n as u64);
                let (o1, g1) = run(&mlp, Kernel::Precise, &p, &x, &d, &mut Workspace::default());
                let mut b = Bufs::default();
                let mut o2 = Array2::zeros((0, 0));
                forward_f32_with(simd, &mlp.widths, act, &p, &x, &mut b, &mut o2);
                let mut g2 = vec![0.0; mlp.dim()];
                backward_f32_with(simd, &mlp.widths, &p, &d, &mut b, &mut g2);
                let so = max_abs(o1.iter().copied()).max(1.0);
                let sg = max_abs(g1.iter().copied()).max(1.0);
                let eo = max_abs(o1.iter().zip(&o2).map(|(a, b)| a - b));
                let eg = max_abs(g1.iter().zip(&g2).map(|(a, b)| a - b));
                assert!(eo <= 2e-5 * so, "{simd:?} {hidden:?}/{outs}/{act:?}/n={n}: outputs off by {eo} (scale {so})");
                assert!(eg <= 2e-4 * sg, "{simd:?} {hidden:?}/{outs}/{act:?}/n={n}: gradient off by {eg} (scale {sg})");
            }
        }
    }
}

#[test]
fn fast_portable_kernel_agrees_with_the_precise_one() {
    check_fast_against_precise(Simd::Portable);
}

#[test]
fn fast_native_simd_kernel_agrees_with_the_precise_one() {
    // The instruction set this machine runs (AVX2+FMA when present, simd128 in wasm).
    check_fast_against_precise(simd());
}

#[test]
fn fast_simd_and_portable_kernels_agree_closely() {
    for (hidden, outs) in nets() {
        let (mlp, p, x, d) = setup(&hidden, outs, Activation::Tanh, 150, 9);
        let mut res = Vec::new();
        for s in [Simd::Portable, simd()] {
            let mut b = Bufs::default();
            let mut o = Array2::zeros((0, 0));
            forward_f32_with(s, &mlp.widths, mlp.activation, &p, &x, &mut b, &mut o);
            let mut g = vec![0.0; mlp.dim()];
            backward_f32_with(s, &mlp.widths, &p, &d, &mut b, &mut g);
            res.push((o, g));
        }
        let sg = max_abs(res[0].1.iter().copied()).max(1.0);
        assert!(max_abs(res[0].0.iter().zip(&res[1].0).map(|(a, b)| a - b)) < 1e-5);
        assert!(max_abs(res[0].1.iter().zip(&res[1].1).map(|(a, b)| a - b)) < 1e-4 * sg);
    }
}

#[test]
fn workspace_reuse_across_batch_sizes_and_kernels_gives_fresh_results() {
    let (mlp, p, _, _) = setup(&[32, 16, 8], 2, Activation::Tanh, 1, 4);
    let mut ws = Workspace::default();
    for (k, n) in [(Kernel::Fast, 40), (Kernel::Precise, 9), (Kernel::Fast, 151), (Kernel::Reference, 40), (Kernel::Fast, 40)] {
        let (_, _, x, d) = setup(&[32, 16, 8], 2, Activation::Tanh, n, 50 + n as u64);
        let a = run(&mlp, k, &p, &x, &d, &mut ws);
        let b = run(&mlp, k, &p, &x, &d, &mut Workspace::default());
        assert_eq!(a, b, "{k:?} n={n}");
    }
}

#[test]
fn fast_kernel_gives_exactly_the_bias_of_a_zero_weight_head() {
    let mut mlp = Mlp::new(&[32, 16, 8], 2, Activation::Tanh);
    mlp.kernel = Kernel::Fast;
    let mut p = vec![0.0; mlp.dim()];
    mlp.init(&mut Xoshiro256PlusPlus::seed_from_u64(1), &mut p);
    let last = mlp.layers() - 1;
    for (k, w) in p[mlp.weight_range(last)].iter_mut().enumerate() {
        if k % 2 == 1 {
            *w = 0.0;
        }
    }
    let b = mlp.bias_range(last).start + 1;
    p[b] = 0.123_456_789_012_345_6;
    let x: Vec<f64> = (0..33).map(|i| -2.0 + 0.125 * i as f64).collect();
    let mut ws = Workspace::default();
    let out = mlp.forward(&p, &x, &mut ws);
    assert!(out.column(1).iter().all(|&o| o == p[b]));
}

/// End to end: Adam on the default two-head model reaches as good a log posterior with
/// the f32 kernel as with the exact one (trajectories differ by rounding, the optimum
/// they reach must not).
#[test]
fn fast_kernel_optimises_as_well_as_the_precise_one() {
    use crate::config::ModelConfig;
    use crate::data::Scaling;
    use crate::infer::adam::Adam;
    use crate::model::{EvalOptions, Model, ModelWorkspace};
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
    let x: Vec<f64> = (0..120).map(|i| -1.7 + 3.4 * i as f64 / 119.0).collect();
    let y: Vec<f64> =
        x.iter().map(|&v| (2.0 * v).sin() + (0.05 + 0.2 * (v + 1.7)) * rng.sample::<f64, _>(StandardNormal)).collect();
    let sc = Scaling { x_mean: 0.0, x_sd: 1.0, y_mean: 0.0, y_sd: 1.0 };
    let opts = EvalOptions::default();
    let mut finals = Vec::new();
    for kernel in [Kernel::Precise, Kernel::Fast] {
        let mut model = Model::new(&ModelConfig::default(), &x, &sc, 1.0);
        model.mlp.kernel = kernel;
        let mut p = model.init(&mut Xoshiro256PlusPlus::seed_from_u64(5));
        let mut g = vec![0.0; model.dim()];
        let mut ws = ModelWorkspace::default();
        let mut adam = Adam::new(model.dim());
        for _ in 0..3000 {
            model.log_posterior(&p, &x, &y, 1.0, &opts, &mut ws, &mut g);
            adam.ascend(&mut p, &g, 1e-2);
        }
        // Judge both optima with the exact kernel.
        model.mlp.kernel = Kernel::Precise;
        let lp = model.log_posterior(&p, &x, &y, 1.0, &opts, &mut ModelWorkspace::default(), &mut g).log_lik;
        finals.push(lp);
    }
    let (exact, fast) = (finals[0], finals[1]);
    eprintln!("log lik at the optimum: exact kernel {exact:.3}, fast kernel {fast:.3}");
    // Log likelihood over 120 points: a difference of 3 nats is 0.025 per point.
    assert!(fast > exact - 3.0, "fast kernel optimum {fast} vs exact {exact}");
}

/// Means, variances (positive, spread over three decades, a few exactly zero), inputs
/// and an output gradient for an LRT pass.
fn setup_lrt(hidden: &[usize], outs: usize, act: Activation, n: usize, seed: u64) -> (Mlp, Vec<f64>, Vec<f64>, Vec<f64>, Array2<f64>) {
    let (mlp, m, x, d) = setup(hidden, outs, act, n, seed);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed + 1000);
    let v = (0..mlp.dim())
        .map(|i| if i % 17 == 3 { 0.0 } else { 10f64.powf(-3.0 * rng.random::<f64>()) * 0.05 })
        .collect();
    (mlp, m, v, x, d)
}

/// One LRT forward and backward with `kernel` (f32 on `simd` for the fast one), the
/// noise from a generator seeded with `seed`.
fn run_lrt(
    mlp: &Mlp,
    kernel: Kernel,
    simd: Simd,
    m: &[f64],
    v: &[f64],
    x: &[f64],
    d: &Array2<f64>,
    seed: u64,
) -> (Array2<f64>, Vec<f64>, Vec<f64>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut gm, mut gv) = (vec![0.0; mlp.dim()], vec![0.0; mlp.dim()]);
    if kernel == Kernel::Fast {
        let mut b = Bufs::default();
        let mut o = Array2::zeros((0, 0));
        forward_lrt_f32_with(simd, &mlp.widths, mlp.activation, m, v, x, &mut rng, &mut b, &mut o);
        backward_lrt_f32_with(simd, &mlp.widths, m, d, &mut b, &mut gm, &mut gv);
        return (o, gm, gv);
    }
    let mut mm = mlp.clone();
    mm.kernel = kernel;
    let mut ws = Workspace::default();
    let o = mm.forward_lrt(m, v, x, &mut rng, &mut ws).clone();
    mm.backward_lrt(m, v, d, &mut ws, &mut gm, &mut gv);
    (o, gm, gv)
}

fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let s = max_abs(a.iter().copied()).max(1.0);
    max_abs(a.iter().zip(b).map(|(x, y)| x - y)) / s
}

#[test]
fn precise_lrt_kernel_equals_the_reference_to_rounding() {
    for (hidden, outs) in nets() {
        for act in ACTS {
            for n in [1, 7, 8, 9, 40, 151] {
                let (mlp, m, v, x, d) = setup_lrt(&hidden, outs, act, n, n as u64);
                let r = run_lrt(&mlp, Kernel::Reference, Simd::Portable, &m, &v, &x, &d, 3);
                let p = run_lrt(&mlp, Kernel::Precise, Simd::Portable, &m, &v, &x, &d, 3);
                let eo = rel_err(r.0.as_slice().unwrap(), p.0.as_slice().unwrap());
                let (em, ev) = (rel_err(&r.1, &p.1), rel_err(&r.2, &p.2));
                assert!(eo <= 1e-12 && em <= 1e-12 && ev <= 1e-12, "{hidden:?}/{outs}/{act:?}/n={n}: {eo} {em} {ev}");
            }
        }
    }
}

/// The f32 LRT kernels against the exact one, with the same draws: the bounds of the
/// point kernels (outputs 2e-5 of their scale, each gradient 2e-4 of its largest
/// component), for the means' and the variances' gradients separately.
fn check_fast_lrt_against_precise(simd: Simd) {
    for (hidden, outs) in nets() {
        for act in ACTS {
            for n in [1, 7, 8, 9, 40, 151, 500] {
                let (mlp, m, v, x, d) = setup_lrt(&hidden, outs, act, n, 200 + n as u64);
                let p = run_lrt(&mlp, Kernel::Precise, Simd::Portable, &m, &v, &x, &d, 8);
                let f = run_lrt(&mlp, Kernel::Fast, simd, &m, &v, &x, &d, 8);
                let eo = rel_err(p.0.as_slice().unwrap(), f.0.as_slice().unwrap());
                let (em, ev) = (rel_err(&p.1, &f.1), rel_err(&p.2, &f.2));
                let at = format!("{simd:?} {hidden:?}/{outs}/{act:?}/n={n}");
                assert!(eo <= 2e-5, "{at}: outputs off by {eo}");
                assert!(em <= 2e-4, "{at}: mean gradient off by {em}");
                assert!(ev <= 2e-4, "{at}: variance gradient off by {ev}");
            }
        }
    }
}

#[test]
fn fast_portable_lrt_kernel_agrees_with_the_precise_one() {
    check_fast_lrt_against_precise(Simd::Portable);
}

#[test]
fn fast_native_simd_lrt_kernel_agrees_with_the_precise_one() {
    check_fast_lrt_against_precise(simd());
}

#[test]
fn lrt_noise_follows_the_generator_and_differs_per_pass() {
    let (mlp, m, v, x, d) = setup_lrt(&[32, 16, 8], 2, Activation::Tanh, 40, 1);
    // Reused buffers, the same seed: the same pass; the next pass draws fresh noise.
    let mut b = Bufs::default();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let mut outs = Vec::new();
    for _ in 0..2 {
        let mut o = Array2::zeros((0, 0));
        forward_lrt_f32(&mlp.widths, mlp.activation, &m, &v, &x, &mut rng, &mut b, &mut o);
        outs.push(o);
    }
    let again = run_lrt(&mlp, Kernel::Fast, simd(), &m, &v, &x, &d, 4);
    assert_eq!(outs[0], again.0);
    assert!(outs[0] != outs[1]);
    // A pass takes the seeds of its word streams from the generator, whatever its size.
    let mut r1 = Xoshiro256PlusPlus::seed_from_u64(4);
    let mut o = Array2::zeros((0, 0));
    forward_lrt_f32(&mlp.widths, mlp.activation, &m, &v, &x, &mut r1, &mut Bufs::default(), &mut o);
    let mut r2 = Xoshiro256PlusPlus::seed_from_u64(4);
    for _ in 0..words::SEED_WORDS {
        r2.next_u64();
    }
    assert_eq!(r1.next_u64(), r2.next_u64());
}

/// The standard normal CDF by Simpson's rule on the density (an independent truth:
/// no erf in std), tabulated every 1/1000 on [-8, 8].
fn phi_table() -> Vec<f64> {
    let h = 1e-3;
    let dens = |t: f64| (-0.5 * t * t).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut tab = vec![0.0; 16_001];
    for i in 1..tab.len() {
        let a = -8.0 + (i - 1) as f64 * h;
        tab[i] = tab[i - 1] + h / 6.0 * (dens(a) + 4.0 * dens(a + 0.5 * h) + dens(a + h));
    }
    tab
}

fn phi(tab: &[f64], z: f64) -> f64 {
    let u = ((z + 8.0) * 1000.0).clamp(0.0, 15_999.999);
    let i = u as usize;
    tab[i] + (u - i as f64) * (tab[i + 1] - tab[i])
}

/// The Box-Muller draws: their distribution (Kolmogorov-Smirnov against the exact CDF,
/// moments, tails) and the independence of the two draws of a pair, for the portable
/// and the native instruction set's versions.
#[test]
fn box_muller_draws_are_standard_normal() {
    let tab = phi_table();
    assert!((phi(&tab, 0.0) - 0.5).abs() < 1e-9 && (phi(&tab, 1.0) - 0.841_344_746_068_543).abs() < 1e-7);
    let n = 1 << 20;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
    let words: Vec<u64> = (0..n / 2).map(|_| rng.next_u64()).collect();
    let mut variants: Vec<(&str, Vec<f32>)> = Vec::new();
    let mut z = vec![0.0f32; n];
    normal::fill::<f32, false>(&words, &mut z);
    variants.push(("portable", z.clone()));
    #[cfg(target_arch = "x86_64")]
    if simd() == Simd::Avx2Fma {
        // Through the kernels' own entry (the AVX2 instantiation).
        let mut e = vec![0.0f32; n];
        <x86::Avx2 as dense::Arch<f32>>::normals(&words, &mut e);
        let diff = z.iter().zip(&e).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(diff < 1e-5, "AVX2 and portable draws differ by {diff}");
        variants.push(("avx2", e));
    }
    for (name, z) in variants {
        let mut s: Vec<f64> = z.iter().map(|&v| v as f64).collect();
        let nf = n as f64;
        let mean = s.iter().sum::<f64>() / nf;
        let var = s.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / nf;
        let kurt = s.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / nf / (var * var);
        let skew = s.iter().map(|v| (v - mean).powi(3)).sum::<f64>() / nf / var.powf(1.5);
        // Standard errors at n = 2^20: mean 0.001, variance 0.0014, skewness 0.0024, kurtosis 0.0048.
        assert!(mean.abs() < 0.005 && (var - 1.0).abs() < 0.007, "{name}: mean {mean}, variance {var}");
        assert!(skew.abs() < 0.012 && (kurt - 3.0).abs() < 0.025, "{name}: skewness {skew}, kurtosis {kurt}");
        let tail = s.iter().filter(|v| v.abs() > 3.5).count() as f64 / nf;
        // P(|Z| > 3.5) = 4.653e-4; standard error 2.1e-5.
        assert!((tail - 4.653e-4).abs() < 1.1e-4, "{name}: tail mass beyond 3.5 is {tail}");
        // Pairs: the cosine and sine draws of one word are uncorrelated, and their
        // squared radius is exponential with mean 2: P(r^2 > t) = exp(-t/2).
        let (mut cross, mut over2, mut over6) = (0.0, 0usize, 0usize);
        for c in z.chunks_exact(16) {
            for h in 0..8 {
                let (a, b) = (c[h] as f64, c[8 + h] as f64);
                cross += a * b;
                let r2 = a * a + b * b;
                over2 += (r2 > 2.0) as usize;
                over6 += (r2 > 6.0) as usize;
            }
        }
        let pairs = nf / 2.0;
        assert!((cross / pairs).abs() < 0.007, "{name}: pair correlation {}", cross / pairs);
        assert!((over2 as f64 / pairs - (-1.0f64).exp()).abs() < 0.003, "{name}: P(r^2 > 2) = {}", over2 as f64 / pairs);
        assert!((over6 as f64 / pairs - (-3.0f64).exp()).abs() < 0.0015, "{name}: P(r^2 > 6) = {}", over6 as f64 / pairs);
        s.sort_by(|a, b| a.total_cmp(b));
        let ks = s.iter().enumerate().fold(0.0f64, |m, (i, &v)| {
            let f = phi(&tab, v);
            m.max((f - i as f64 / nf).abs()).max(((i + 1) as f64 / nf - f).abs())
        });
        // The 0.1% critical value of the KS statistic: 1.95 / sqrt(n) = 0.0019.
        assert!(ks < 1.95 / nf.sqrt(), "{name}: Kolmogorov-Smirnov distance {ks}");
    }
}

#[test]
fn box_muller_parts_match_the_exact_functions() {
    let mut worst = [0.0f64; 3];
    for i in 1..=(1 << 23) {
        let u = (i as f32 - 0.5) / 8_388_608.0;
        for l in [normal::ln_f32::<false>(u), normal::ln_f32::<true>(u)] {
            let exact = (u as f64).ln();
            worst[0] = worst[0].max(((l as f64 - exact) / exact).abs());
        }
    }
    for i in 0..=200_000 {
        let phi = (i as f32 / 100_000.0 - 1.0) * std::f32::consts::FRAC_PI_4;
        for (c, s) in [normal::sincos_octant::<false>(phi), normal::sincos_octant::<true>(phi)] {
            worst[1] = worst[1].max((c as f64 - (phi as f64).cos()).abs());
            worst[2] = worst[2].max((s as f64 - (phi as f64).sin()).abs());
        }
    }
    assert!(worst[0] < 3e-7, "ln: worst relative error {}", worst[0]);
    assert!(worst[1] < 2e-7 && worst[2] < 2e-7, "cos, sin: worst absolute errors {} {}", worst[1], worst[2]);
    // The four quadrants cover the circle: angles of many pairs, binned by eighths.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let mut bins = [0usize; 8];
    let total = 80_000;
    for _ in 0..total {
        let (a, b) = normal::pair::<false>(rng.next_u64());
        let t = (b as f64).atan2(a as f64) + std::f64::consts::PI;
        bins[((t / (2.0 * std::f64::consts::PI) * 8.0) as usize).min(7)] += 1;
    }
    assert!(bins.iter().all(|&c| (c as f64 - total as f64 / 8.0).abs() < 300.0), "{bins:?}");
}

/// The AVX-512 kernels (where this CPU has them) against the exact path, as every fast
/// kernel is; the next test holds them to the AVX2 kernels' bits.
#[cfg(target_arch = "x86_64")]
#[test]
fn fast_avx512_kernels_agree_with_the_precise_ones() {
    if !avx512::detected() {
        eprintln!("no avx512f/avx512vl here: the AVX-512 kernels are not tested");
        return;
    }
    check_fast_against_precise(Simd::Avx512);
    check_fast_lrt_against_precise(Simd::Avx512);
}

/// Bit for bit the AVX2 kernels' outputs and gradients (point and LRT passes), over
/// nets whose widths leave every tile remainder and batch sizes that leave every chunk
/// remainder (the 48-point chunks, a half-full last vector): a machine gives the same
/// fit on either path, so the pinned fingerprints keep meaning.
#[cfg(target_arch = "x86_64")]
#[test]
fn avx512_kernels_equal_the_avx2_ones_bit_for_bit() {
    if !avx512::detected() {
        eprintln!("no avx512f/avx512vl here: the AVX-512 kernels are not tested");
        return;
    }
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let mut nets = nets();
    nets.push((vec![9, 33, 17], 5));
    for (hidden, outs) in nets {
        for act in ACTS {
            for n in [1, 7, 8, 9, 16, 24, 40, 47, 48, 49, 56, 64, 88, 96, 151, 500] {
                let (mlp, p, x, d) = setup(&hidden, outs, act, n, 300 + n as u64);
                let mut res = Vec::new();
                for s in [Simd::Avx2Fma, Simd::Avx512] {
                    let mut b = Bufs::default();
                    let mut o = Array2::zeros((0, 0));
                    forward_f32_with(s, &mlp.widths, act, &p, &x, &mut b, &mut o);
                    let mut g = vec![0.0; mlp.dim()];
                    backward_f32_with(s, &mlp.widths, &p, &d, &mut b, &mut g);
                    res.push((bits(o.as_slice().unwrap()), bits(&g)));
                }
                assert!(res[0] == res[1], "{hidden:?}/{outs}/{act:?}/n={n}: AVX-512 differs from AVX2");
                let (mlp, m, v, x, d) = setup_lrt(&hidden, outs, act, n, 400 + n as u64);
                let a = run_lrt(&mlp, Kernel::Fast, Simd::Avx2Fma, &m, &v, &x, &d, 5);
                let b = run_lrt(&mlp, Kernel::Fast, Simd::Avx512, &m, &v, &x, &d, 5);
                assert!(
                    bits(a.0.as_slice().unwrap()) == bits(b.0.as_slice().unwrap()) && bits(&a.1) == bits(&b.1) && bits(&a.2) == bits(&b.2),
                    "{hidden:?}/{outs}/{act:?}/n={n}: the AVX-512 LRT pass differs from AVX2"
                );
            }
        }
    }
}
