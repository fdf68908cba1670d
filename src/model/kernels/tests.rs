//! Every optimised path against the plain one.

use super::*;
use crate::model::mlp::{Mlp, Workspace};
use rand::{Rng, SeedableRng};
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
