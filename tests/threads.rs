//! Chains on threads (`Fit::set_threads`, the CLI's `--threads`): the chains are
//! independent, so a fit gives bit-identical draws, losses and diagnostics on any number
//! of threads, for every method; a divergence on a thread ends the fit as it does on one.
#![cfg(not(target_arch = "wasm32"))]

use bayesband::config::{FitConfig, Method, ModelKind, NoiseLawKind};
use bayesband::data::synthetic::Synthetic;
use bayesband::data::Dataset;
use bayesband::infer::Fit;

fn run(cfg: &FitConfig, data: &Dataset, threads: usize, chunk: usize) -> (Result<(), String>, Fit) {
    let mut fit = Fit::new(cfg.clone(), data).unwrap();
    fit.set_threads(threads);
    while !fit.is_finished() {
        if let Err(e) = fit.step(chunk) {
            return (Err(e.to_string()), fit);
        }
    }
    (Ok(()), fit)
}

fn config(method: Method, kind: ModelKind, steps: usize) -> FitConfig {
    let mut c = FitConfig::default();
    c.model.kind = kind;
    c.model.noise_law = NoiseLawKind::named("exponential");
    c.model.hidden = vec![8, 4];
    c.inference.method = method;
    c.inference.chains = 3;
    c.inference.steps = steps;
    c.inference.seed = 11;
    if method == Method::Nuts {
        c.inference.warmup = 60;
        c.inference.draws = 40;
        c.inference.max_depth = 6;
    }
    c
}

#[test]
fn every_method_gives_the_same_fit_on_one_two_and_three_threads() {
    let data = Synthetic::NbExp.generate(40, 3);
    let law = ModelKind::NoiseModel;
    for (method, kind) in
        [(Method::Psgld, law), (Method::Sgld, ModelKind::TwoHead), (Method::Vi, ModelKind::TwoHead), (Method::Nuts, law)]
    {
        let cfg = config(method, kind, 3000);
        let (r1, one) = run(&cfg, &data, 1, 250);
        r1.unwrap();
        assert!(one.draws_kept() > 0 || method == Method::Vi, "{method:?} keeps draws");
        for threads in [2, 3] {
            let (r, many) = run(&cfg, &data, threads, 250);
            r.unwrap();
            assert_eq!(one.draws(), many.draws(), "{method:?} on {threads} threads: the same draws");
            assert_eq!(one.loss().to_bits(), many.loss().to_bits(), "{method:?}: the same final loss");
            assert_eq!(one.gradients(), many.gradients());
            assert_eq!(format!("{:?}", one.method_diagnostics()), format!("{:?}", many.method_diagnostics()));
            if method == Method::Vi {
                for c in 0..3 {
                    assert_eq!(one.variational_posterior(c), many.variational_posterior(c));
                }
            }
        }
    }
}

#[test]
fn a_divergence_on_a_thread_ends_the_fit_as_on_one_thread() {
    let data = Synthetic::Bump.generate(60, 2);
    let mut cfg = config(Method::Psgld, ModelKind::TwoHead, 4000);
    cfg.inference.step_size = 1.0;
    let (r1, one) = run(&cfg, &data, 1, 500);
    let (r2, two) = run(&cfg, &data, 2, 500);
    let e1 = r1.expect_err("a step size of 1 diverges");
    assert_eq!(Err(e1.clone()), r2, "the same error, from the same chain and step");
    assert!(e1.contains("diverged"), "{e1}");
    assert_eq!(one.steps_done(), two.steps_done());
    assert_eq!(one.draws(), two.draws(), "both kept the last good state");
}
