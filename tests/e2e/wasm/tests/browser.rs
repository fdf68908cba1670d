//! Browser-only checks, run in headless Chromium by `./run test`
//! (`cargo test --target wasm32-unknown-unknown` in tests/e2e/wasm): the core
//! really fits in wasm32 with simd128, messages survive the worker boundary as JS
//! values, and the figures draw on a real HiDPI canvas.
#![cfg(target_arch = "wasm32")]

use bayesband::config::{FitConfig, ModelKind};
use bayesband::data::Synthetic;
use bayesband::infer::Fit;
use bayesband::protocol::{Frame, FromWorker, ToWorker};
use bayesband::ui::plots::{draw, Canvas};
use bayesband::worker::{clock, JsCodec};
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew_agent::Codec;

wasm_bindgen_test_configure!(run_in_browser);

fn small_config() -> FitConfig {
    let mut c = FitConfig::default();
    c.inference.steps = 400;
    c.inference.method_for_step_budget(); // a step budget: pSGLD
    c.inference.draws = 20;
    c
}

fn run(config: FitConfig) -> Frame {
    let data = Synthetic::Bump.generate(40, 3);
    let grid = data.grid(50, 0.05);
    let mut fit = Fit::new(config, &data).expect("a valid fit");
    while !fit.is_finished() {
        fit.step(50).expect("no divergence");
    }
    Frame { run: 1, snapshot: fit.snapshot(&grid), steps_per_sec: 1.0, snapshot_ms: 0.0, running: false, elapsed_ms: 0.0, eval: None }
}

#[wasm_bindgen_test]
fn a_fit_runs_to_the_end_in_wasm_and_is_reproducible() {
    for kind in [ModelKind::Homoskedastic, ModelKind::TwoHead, ModelKind::NoiseModel] {
        let mut c = small_config();
        c.model.kind = kind;
        let a = run(c.clone());
        let b = run(c);
        assert_eq!(a, b, "same seed, same snapshot ({kind:?})");
        let s = &a.snapshot.summary;
        assert_eq!(s.x.len(), 50);
        assert!(s.mean.iter().chain(&s.sd_total).all(|v| v.is_finite()));
        assert!(s.sd_total.iter().zip(&s.sd_aleatoric).all(|(t, a)| *t >= *a - 1e-12));
        assert!(a.snapshot.draws_kept > 0);
    }
}

#[wasm_bindgen_test]
fn a_nuts_fit_runs_in_wasm_reports_its_diagnostics_and_is_reproducible() {
    let mut c = small_config();
    c.inference.method = bayesband::config::Method::Nuts;
    c.inference.warmup = 30;
    c.inference.draws = 20;
    c.inference.max_depth = 5;
    c.inference.extend = false; // exactly 2 x 20 draws
    c.model.hidden = vec![6];
    let a = run(c.clone());
    let b = run(c);
    assert_eq!(a, b, "same seed, same NUTS snapshot");
    assert_eq!(a.snapshot.draws_kept, 40);
    let d = &a.snapshot.method;
    assert!(d.divergences.is_some() && d.mean_tree_depth.is_some_and(|v| (0.0..=5.0).contains(&v)), "{d:?}");
    assert!(a.snapshot.summary.mean.iter().all(|v| v.is_finite()));
}

#[wasm_bindgen_test]
fn messages_cross_the_worker_boundary_intact() {
    let mut c = small_config();
    c.inference.seed = (1 << 53) - 1; // the largest seed a URL and JavaScript keep exactly
    let data = Synthetic::NbExp.generate(10, 1);
    let start = ToWorker::Start { run: 7, config: c, data, grid: vec![0.0, 0.5, 1.0], eval_x: vec![], warm: true };
    let back: ToWorker = JsCodec::decode(JsCodec::encode(start.clone()));
    assert_eq!(back, start);

    let mut frame = run(small_config());
    frame.snapshot.loss = f64::NAN; // NaN must survive (JSON would turn it into null)
    let msg = FromWorker::Snapshot(frame);
    let back: FromWorker = JsCodec::decode(JsCodec::encode(msg.clone()));
    match (back, msg) {
        (FromWorker::Snapshot(a), FromWorker::Snapshot(b)) => {
            assert!(a.snapshot.loss.is_nan());
            assert_eq!(a.snapshot.summary, b.snapshot.summary);
            assert_eq!(a.snapshot.trace, b.snapshot.trace);
        }
        _ => panic!("variant changed"),
    }
}

#[wasm_bindgen_test]
fn the_clock_is_monotonic_and_fine_grained() {
    let a = clock::now_ms();
    let mut x = 0.0f64;
    for i in 0..200_000 {
        x += (i as f64).sqrt();
    }
    let b = clock::now_ms();
    assert!(x > 0.0 && b >= a);
}

#[wasm_bindgen_test]
fn the_main_figure_draws_mean_and_bands_on_a_canvas_and_maps_clicks_back() {
    let doc = web_sys::window().unwrap().document().unwrap();
    let canvas: web_sys::HtmlCanvasElement = doc.create_element("canvas").unwrap().unchecked_into();
    canvas.set_width(800);
    canvas.set_height(500);
    let frame = run(small_config());
    let data = Synthetic::Bump.generate(40, 3);
    let view = draw::View {
        data: &data,
        summary: Some(&frame.snapshot.summary),
        truth: None,
        trace: &frame.snapshot.trace,
        loss_label: "loss",
        phases: frame.snapshot.phase_ends,
        restarts: &[],
        burn_name: "burn-in",
        scale: 1.0,
        stale: false,
        held: vec![],
        shown: Default::default(),
        draws: &[],
        fixed: None,
        overlay: None,
        title: None,
        next_x: None,
    };
    let root = Canvas::new(canvas.clone()).unwrap().into_drawing_area();
    let mapping = draw::draw_main(&root, &view).unwrap();
    root.present().unwrap();

    let ctx: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    let px = ctx.get_image_data(0.0, 0.0, 800.0, 500.0).unwrap().data().0;
    let count = |rgb: (u8, u8, u8), tol: i32| {
        px.chunks(4)
            .filter(|p| {
                (p[0] as i32 - rgb.0 as i32).abs() <= tol
                    && (p[1] as i32 - rgb.1 as i32).abs() <= tol
                    && (p[2] as i32 - rgb.2 as i32).abs() <= tol
            })
            .count()
    };
    assert!(count((0, 114, 178), 40) > 200, "the mean line is drawn in Okabe-Ito blue");
    let blend = |c: f64, a: f64| (c * a + 255.0 * (1.0 - a)).round() as u8;
    let sky = (blend(86.0, draw::TOTAL_ALPHA), blend(180.0, draw::TOTAL_ALPHA), blend(233.0, draw::TOTAL_ALPHA));
    assert!(count(sky, 8) > 100, "the total band shows where the aleatoric band does not cover it");

    // A click in the middle of the plotting area maps to the middle of the ranges.
    let (cx, cy) = ((mapping.px.0 + mapping.px.1) / 2.0, (mapping.py.0 + mapping.py.1) / 2.0);
    let (x, y) = mapping.to_data(cx, cy).unwrap();
    assert!((x - (mapping.x.0 + mapping.x.1) / 2.0).abs() < 1e-9 * (1.0 + x.abs()));
    assert!((y - (mapping.y.0 + mapping.y.1) / 2.0).abs() < 1e-9 * (1.0 + y.abs()));
    assert!(mapping.to_data(0.0, 0.0).is_none(), "clicks outside the plotting area are ignored");
}

#[wasm_bindgen_test]
fn labels_are_measured_on_the_canvas_like_plotters_measures_them_in_the_dom() {
    use plotters::backend::DrawingBackend;
    let doc = web_sys::window().unwrap().document().unwrap();
    let canvas: web_sys::HtmlCanvasElement = doc.create_element("canvas").unwrap().unchecked_into();
    canvas.set_width(400);
    canvas.set_height(300);
    let ours = Canvas::new(canvas.clone()).unwrap();
    let dom = CanvasBackend::with_canvas_object(canvas).unwrap();

    // Ours must not touch the page: plotters' own measurement appends a <span>.
    let records = js_sys::Array::new();
    let keep = records.clone();
    let cb = wasm_bindgen::closure::Closure::<dyn Fn(js_sys::Array)>::new(move |r: js_sys::Array| {
        for x in r.iter() {
            keep.push(&x);
        }
    });
    let observer = web_sys::MutationObserver::new(cb.as_ref().unchecked_ref()).unwrap();
    let opts = web_sys::MutationObserverInit::new();
    opts.set_child_list(true);
    opts.set_subtree(true);
    observer.observe_with_options(&doc.body().unwrap(), &opts).unwrap();

    for (text, size) in [("0.5", 12.0), ("-1.25", 12.0), ("predictive mean", 13.0), ("noise sd σ(x)", 14.0), ("95% epistemic (model)", 26.0)] {
        let style = TextStyle::from(("sans-serif", size).into_font());
        let (w, h) = ours.estimate_text_size(text, &style).unwrap();
        for r in observer.take_records().iter() {
            records.push(&r);
        }
        assert_eq!(records.length(), 0, "measuring {text:?} changed the DOM");
        let (dw, dh) = dom.estimate_text_size(text, &style).unwrap();
        let _ = observer.take_records();
        let close = |a: u32, b: u32| (a as f64 - b as f64).abs() <= (0.12 * b as f64).max(2.0);
        assert!(close(w, dw), "{text:?} at {size}px: width {w} on the canvas vs {dw} in the DOM");
        assert!(close(h, dh), "{text:?} at {size}px: height {h} on the canvas vs {dh} in the DOM");
        assert!(w > 0 && h as f64 >= size * 0.9);
    }
    observer.disconnect();
}

#[wasm_bindgen_test]
fn axis_labels_show_zero_as_zero_not_float_dust() {
    assert_eq!(draw::tick_label(-3.469446951953614e-17, 1.0), "0");
    assert_eq!(draw::tick_label(5.551115123125783e-17, 0.9), "0");
    assert_eq!(draw::tick_label(0.2, 1.0), bayesband::ui::state::fmt(0.2));
    assert_eq!(draw::tick_label(-0.4, 1.0), bayesband::ui::state::fmt(-0.4));
    // Small axes keep small values: only dust relative to the span is snapped.
    assert_eq!(draw::tick_label(2e-12, 1e-11), "2e-12");
    // Huge values stay short enough for the label area (were cut: "000e300").
    assert_eq!(draw::tick_label(-1.5e300, 1e300), "-1.5e300");
}

#[wasm_bindgen_test]
fn the_simd128_parts_of_the_lrt_pass_match_the_generic_loops_bit_for_bit() {
    // VI's local-reparameterisation pass in the browser: the Box-Muller draws and the
    // noise step in simd128 (issue 9, item 16) against the portable loops they replace.
    bayesband::model::kernels::wasm_lrt_parts_match_the_generic_loops().unwrap();
}

#[wasm_bindgen_test]
fn the_simd128_two_head_likelihood_matches_the_scalar_pass_bit_for_bit() {
    // The default model's likelihood in f64x2 lanes (issue 15) against the scalar pass.
    bayesband::model::wasm_loglik_matches_the_scalar_pass().unwrap();
}
