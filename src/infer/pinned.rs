//! Short fits of every method pinned to the bits they gave before the inference seam
//! (`infer::method`) went in: the refactor must not change a single draw.

use super::Fit;
use crate::config::{FitConfig, Method, ModelKind};
use crate::data::Synthetic;

/// FNV-1a over the bits of every number a fit exposes: kept draws, the VI posterior,
/// the loss trace, and a snapshot's bands.
fn fingerprint(cfg: FitConfig, n: usize) -> u64 {
    let data = Synthetic::Bump.generate(n, 3);
    let mut fit = Fit::new(cfg, &data).unwrap();
    while !fit.is_finished() {
        fit.step(700).unwrap();
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |v: f64| {
        for b in v.to_bits().to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for d in fit.draws() {
        d.iter().for_each(|&v| eat(v));
    }
    for ci in 0..fit.config.inference.chains {
        if let Some((m, s)) = fit.variational_posterior(ci) {
            m.iter().chain(&s).for_each(|&v| eat(v));
        }
    }
    for &(t, l) in &fit.trace() {
        eat(t as f64);
        eat(l);
    }
    let grid: Vec<f64> = (0..9).map(|i| -1.0 + 0.25 * i as f64).collect();
    let snap = fit.snapshot(&grid);
    snap.summary.mean.iter().chain(&snap.summary.sd_total).for_each(|&v| eat(v));
    eat(snap.mala_accept.unwrap_or(-1.0));
    eat(snap.draws_kept as f64);
    h
}

/// The fit repeats itself bit for bit; and it gives the pinned value with
/// `BAYESBAND_PINNED=1` on the machine the pins were taken on (AMD EPYC, x86_64
/// AVX2+FMA, Debian 12's glibc). The pins are not portable: on an Intel Xeon with the
/// same kernels (AVX2+FMA chosen) four of them differ, from the platform's maths
/// library, so they guard refactors on one machine rather than every run.
fn check(cfg: FitConfig, n: usize, pinned: u64) {
    let got = fingerprint(cfg.clone(), n);
    assert_eq!(got, fingerprint(cfg, n), "the same seed must give the same fit");
    if std::env::var_os("BAYESBAND_PINNED").is_some_and(|v| v == "1")
        && crate::model::kernels::simd() == crate::model::kernels::Simd::Avx2Fma
    {
        assert_eq!(got, pinned);
    }
}

fn short(method: Method) -> FitConfig {
    let mut c = FitConfig::default();
    c.model.hidden = vec![8, 4];
    c.inference.method = method;
    c.inference.steps = 4000;
    c.inference.method_for_step_budget(); // a step budget: pSGLD
    c.inference.draws = 20;
    c
}

#[test]
fn psgld_is_bit_identical_to_before_the_seam() {
    check(short(Method::Psgld), 40, 10420421907207966059);
}

#[test]
fn psgld_with_minibatches_and_cycles_is_bit_identical_to_before_the_seam() {
    let mut c = short(Method::Psgld);
    c.inference.minibatch_above = 30;
    c.inference.batch_size = 16;
    c.inference.cycles = 2;
    c.model.kind = ModelKind::Homoskedastic;
    // Re-pinned deliberately when the chains got scratch of their own (session 5, chains on
    // threads): each chain now shuffles its own index list for its minibatches, where the
    // chains used to share one; value before: 14275176230987937287.
    check(c, 60, 2962617954470169985);
}

#[test]
fn sgld_with_cycles_is_bit_identical_to_before_the_seam() {
    let mut c = short(Method::Sgld);
    c.inference.sgld_step_size = 2e-3;
    c.inference.cycles = 3;
    check(c, 40, 1572360864006885721);
}

#[test]
fn vi_is_bit_identical_to_before_the_seam() {
    // The learning rate the CLI gave VI before the seam (`step_size = vi_lr`, so the
    // old `step_size / vi_lr` factor was 1): the rate VI reads now.
    let mut c = short(Method::Vi);
    c.inference.step_size = c.inference.vi_lr;
    c.model.kind = ModelKind::NoiseModel;
    // Re-pinned when VI moved to the fast f32 LRT kernels (issue 9 item 16; value before:
    // 1537184004773264718): those kernels are held against the precise path by
    // `model::kernels` tests, this pin guards the driver around them.
    // Re-pinned deliberately when the noise laws became formulas (issue 13: priors in
    // data units, sampled as z ~ N(0, 1), the smooth floor, the hand-off by least
    // squares), value before: 13297635215863731778. Taken on the Intel Xeon of that
    // session, where the base commit's four pins all differed from theirs (this test
    // gave 9366293102635421136 there before the change): re-take on the pinning machine.
    // Re-taken on the AMD EPYC pinning machine (session 5, value from the Intel Xeon before:
    // 13733989476307550697); the simd128 LRT parts and the shared Cephes tables of that
    // session left it unchanged there.
    check(c, 40, 5706061940922076675);
}

#[test]
fn vi_reads_its_own_learning_rate_not_the_samplers_step_size() {
    // Before: VI ran at step_size / vi_lr times its schedule.
    let mut c = short(Method::Vi);
    c.inference.steps = 2500;
    c.inference.method_for_step_budget(); // a step budget: pSGLD
    let a = fingerprint(c.clone(), 40);
    c.inference.step_size = 0.05;
    assert_eq!(fingerprint(c.clone(), 40), a);
    c.inference.vi_lr = 2e-3;
    assert_ne!(fingerprint(c, 40), a, "the learning rate is read");
}

#[test]
fn sgld_reads_its_own_step_size_and_has_its_own_default() {
    // Before: SGLD read pSGLD's `step_size` (2e-4, at which it barely moves).
    let d = FitConfig::default().inference;
    assert_eq!((Method::Sgld.spec().rate.unwrap().get)(&d), 5e-4);
    assert_eq!((Method::Psgld.spec().rate.unwrap().get)(&d), 2e-4);
    let mut c = short(Method::Sgld);
    c.inference.steps = 2500;
    c.inference.method_for_step_budget(); // a step budget: pSGLD
    let a = fingerprint(c.clone(), 40);
    c.inference.step_size = 0.05;
    assert_eq!(fingerprint(c.clone(), 40), a);
    c.inference.sgld_step_size = 1e-3;
    assert_ne!(fingerprint(c, 40), a, "the SGLD step size is read");
}
