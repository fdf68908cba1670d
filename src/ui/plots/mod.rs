//! The live figures: three HiDPI canvases redrawn from the latest snapshot, and
//! click / shift-click (or a long press) on the main plot to add or remove points.

pub mod canvas;
pub mod draw;

use std::cell::RefCell;
use std::rc::Rc;

use plotters::coord::Shift;
use plotters::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use super::context::Ctx;
use super::browser;
use super::compare::{Band, CompareAction, KeptFit, Layout};
use super::state::{Action, AppState};
use crate::config::Method;
pub use canvas::Canvas;
use draw::{Mapping, View};

/// How long a press must be held to remove a point, and how far it may wander.
const LONG_PRESS_MS: u32 = 500;
const LONG_PRESS_SLOP_PX: f64 = 10.0;

/// A press on the main plot that may become a long press.
struct Press {
    /// Client coordinates where it started.
    at: (f64, f64),
    /// The long press fired (its point was removed): swallow the click that follows.
    fired: Rc<std::cell::Cell<bool>>,
    _timer: gloo_timers::callback::Timeout,
}

/// The figure inputs for the current state (also used by the downloads).
pub fn view_of(s: &AppState, scale: f64) -> View<'_> {
    let summary = s.frame.as_ref().map(|f| &f.snapshot.summary);
    let data = &s.data;
    let grid = match summary {
        Some(m) if !m.x.is_empty() && !s.stale => m.x.clone(),
        _ => data.grid(200, super::state::GRID_PAD),
    };
    let truth = match (data.truth_f(&grid), data.truth_sigma(&grid)) {
        (Some(f), Some(sg)) if !data.is_empty() => Some((grid, f, sg)),
        _ => None,
    };
    let loss_label = match s.fitted.as_ref().map(|f| f.config.inference.method) {
        Some(Method::Vi) => "negative ELBO per point",
        _ => "negative log posterior per point",
    };
    View {
        data,
        summary,
        truth,
        trace: s.frame.as_ref().map(|f| f.snapshot.trace.as_slice()).unwrap_or(&[]),
        loss_label,
        phases: s.frame.as_ref().map_or((0, 0), |f| f.snapshot.phase_ends),
        restarts: s.frame.as_ref().map(|f| f.snapshot.restarts.as_slice()).unwrap_or(&[]),
        burn_name: match s.fitted.as_ref().map(|f| f.config.inference.method.spec().units) {
            Some(crate::config::Units::Draws) => "warm-up",
            _ => "burn-in",
        },
        scale,
        stale: s.stale,
        held: s.held_out_mask(),
        shown: s.shown,
        draws: s.frame.as_ref().filter(|_| !s.stale).map(|f| f.snapshot.function_draws.as_slice()).unwrap_or(&[]),
        fixed: None,
        overlay: None,
        title: None,
        next_x: s.suggestion().filter(|_| s.status == super::state::RunStatus::Finished && s.compare.is_none()).map(|g| g.x),
    }
}

/// Fit A of a comparison as a figure view, drawn as the page draws its own fit.
pub fn view_of_kept<'a>(a: &'a KeptFit, s: &AppState, scale: f64) -> View<'a> {
    let m = &a.frame.snapshot.summary;
    let truth = match (a.data.truth_f(&m.x), a.data.truth_sigma(&m.x)) {
        (Some(f), Some(sg)) => Some((m.x.clone(), f, sg)),
        _ => None,
    };
    View {
        data: &a.data,
        summary: Some(m),
        truth,
        trace: &a.frame.snapshot.trace,
        loss_label: "",
        phases: a.frame.snapshot.phase_ends,
        restarts: &a.frame.snapshot.restarts,
        burn_name: "burn-in",
        scale,
        stale: false,
        held: a.held.clone(),
        shown: s.shown,
        draws: &a.frame.snapshot.function_draws,
        fixed: None,
        overlay: None,
        title: Some(format!("Fit A: {}", fit_name(&a.config))),
        next_x: None,
    }
}

/// "two-head, pSGLD".
pub fn fit_name(c: &crate::config::FitConfig) -> String {
    format!("{}, {}", c.model_name(), c.inference.method.spec().short)
}

/// The views of a comparison's two fits, on the same axes (None when not comparing):
/// A's, then the page's (B), with A overlaid on B in the overlay layout.
pub fn compare_views<'a>(s: &'a AppState, scale: f64) -> Option<(View<'a>, View<'a>)> {
    let c = s.compare.as_ref()?;
    let mut a = view_of_kept(&c.a, s, scale);
    let mut b = view_of(s, scale);
    let axes = draw::axes_of(&a).union(draw::axes_of(&b));
    a.fixed = Some(axes);
    b.fixed = Some(axes);
    let b_name = s.fitted.as_ref().map(|f| fit_name(&f.config));
    b.title = Some(match (b_name, s.frame.is_some()) {
        (Some(n), true) => format!("Fit B: {n}"),
        _ => "Fit B: change the model or method, then Train".into(),
    });
    if c.layout == Layout::Overlay {
        b.overlay = a.summary;
        if let Some(t) = &mut b.title {
            *t = format!("{t} (A overlaid: {})", fit_name(&c.a.config));
        }
    }
    Some((a, b))
}

/// CSS box sizes of the canvases by element id, kept up to date by a ResizeObserver.
/// Drawing a frame never reads layout: reading `clientWidth` right after Yew updated
/// the page forces a synchronous layout of the whole page, once per frame.
type Boxes = Rc<RefCell<Vec<(String, (f64, f64))>>>;

fn box_of(boxes: &Boxes, canvas: &HtmlCanvasElement) -> (f64, f64) {
    let id = canvas.id();
    match boxes.borrow().iter().find(|(k, _)| *k == id) {
        Some((_, size)) => *size,
        // Before the observer's first report (the first draw after load).
        None => (canvas.client_width() as f64, canvas.client_height() as f64),
    }
}

/// Size the canvas's backing store to its CSS box times the device pixel ratio,
/// then draw on it.
fn draw_on<T>(
    canvas: &HtmlCanvasElement,
    boxes: &Boxes,
    f: impl FnOnce(&DrawingArea<Canvas, Shift>) -> Result<T, Box<dyn std::error::Error>>,
) -> Option<T> {
    let dpr = browser::device_pixel_ratio();
    let (cw, ch) = box_of(boxes, canvas);
    let (cw, ch) = (cw.max(1.0), ch.max(1.0));
    let (w, h) = ((cw * dpr).round() as u32, (ch * dpr).round() as u32);
    if canvas.width() != w || canvas.height() != h {
        canvas.set_width(w);
        canvas.set_height(h);
    }
    let backend = Canvas::new(canvas.clone())?;
    let root = backend.into_drawing_area();
    let out = f(&root);
    let _ = root.present();
    match out {
        Ok(v) => Some(v),
        Err(e) => {
            web_sys::console::warn_1(&format!("plot: {e}").into());
            None
        }
    }
}

/// Draw a made-up fit once on an offscreen canvas, and pass a snapshot through the
/// worker codec, shortly after start-up: the browser compiles wasm functions on first
/// use, and without this the first live snapshot stalls the page for ~150 ms.
fn warm_up(state: &AppState) {
    use crate::protocol::{Frame, FromWorker};
    use crate::summary::PredictiveSummary;
    use yew_agent::Codec;
    let grid = state.data.grid(60, 0.05);
    let n = grid.len();
    let (lo, hi) = state.data.x_range();
    let summary = PredictiveSummary {
        mean: grid.iter().map(|x| (x - lo) / (hi - lo + 1e-9)).collect(),
        sd_epistemic: vec![0.1; n],
        sd_aleatoric: vec![0.2; n],
        sd_total: vec![0.25; n],
        sigma_mean: vec![0.2; n],
        sigma_lo: vec![0.1; n],
        sigma_hi: vec![0.3; n],
        x: grid,
    };
    let frame = Frame { running: false, ..Frame::placeholder(0, summary) };
    let back: FromWorker = crate::worker::JsCodec::decode(crate::worker::JsCodec::encode(FromWorker::Snapshot(frame)));
    let FromWorker::Snapshot(frame) = back else { return };
    let mut fake = state.clone();
    // The Train path too: the Start message, the text summary, the metrics.
    let start = fake.apply(super::state::Action::Train);
    let _ = start.into_iter().map(crate::worker::JsCodec::encode).count();
    fake.frame = Some(frame);
    let _ = (fake.describe(), fake.metrics(), fake.pending_changes());
    let Ok(el) = browser::document().create_element("canvas") else { return };
    let canvas: HtmlCanvasElement = el.unchecked_into();
    canvas.set_width(600);
    canvas.set_height(500);
    if let Some(b) = Canvas::new(canvas) {
        let root = b.into_drawing_area();
        let _ = draw::draw_all(&root, &view_of(&fake, 1.0));
        let _ = root.present();
    }
}

#[component]
pub fn Plots() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let main_ref = use_node_ref();
    let sigma_ref = use_node_ref();
    let trace_ref = use_node_ref();
    // Fit A's figures while comparing.
    let main_a_ref = use_node_ref();
    let sigma_a_ref = use_node_ref();
    let mapping = use_mut_ref(Mapping::default);
    let resized = use_state(|| 0u32);
    let boxes: Boxes = use_mut_ref(Vec::new);

    // Redraw after every render (new snapshot, new data, resize), in the animation frame
    // after next: the snapshot's message task only updates the page's text, which the
    // next rendering step lays out and paints; the figures are drawn in the one after,
    // right before its paint. Short tasks instead of one long one, and snapshots arriving
    // within those frames are drawn once.
    // The pending request (dropping it cancels) and whether it has yet to fire.
    let frame_request = use_mut_ref(|| None::<gloo_render::AnimationFrame>);
    // The drawing frame's request, made by the first (which is not dropped while it runs).
    let draw_request = use_mut_ref(|| None::<gloo_render::AnimationFrame>);
    let frame_pending = use_mut_ref(|| false);
    {
        let (main_ref, sigma_ref, trace_ref) = (main_ref.clone(), sigma_ref.clone(), trace_ref.clone());
        let (main_a_ref, sigma_a_ref) = (main_a_ref.clone(), sigma_a_ref.clone());
        let state = ctx.state.clone();
        let mapping = mapping.clone();
        let boxes = boxes.clone();
        let (frame_request, frame_pending) = (frame_request.clone(), frame_pending.clone());
        let draw_request = draw_request.clone();
        use_effect(move || {
            if *frame_pending.borrow() {
                return; // already scheduled; it draws the latest state
            }
            *frame_pending.borrow_mut() = true;
            let pending = frame_pending.clone();
            let second = draw_request.clone();
            // Two frames on: the text the message changed is laid out and painted in the
            // next one, the figures drawn and committed in the one after, so no frame does
            // both (each was up to ~25 ms; together they made the page's longest gaps).
            let request = gloo_render::request_animation_frame(move |_| {
                let draw = gloo_render::request_animation_frame(move |_| {
                    *pending.borrow_mut() = false;
                    let t0 = crate::worker::clock::now_ms();
                    let s = state.borrow();
                    // One view (grid, truth on it) for the three figures.
                    let dpr = browser::device_pixel_ratio();
                    let (a, v) = match compare_views(&s, dpr) {
                        Some((a, b)) => (Some(a), b),
                        None => (None, view_of(&s, dpr)),
                    };
                    // The axes drawn, for the browser tests (the two fits share them).
                    let mark_axes = |c: &HtmlCanvasElement, m: &draw::Mapping| {
                        let _ = c.set_attribute("data-x-axis", &format!("{},{}", m.x.0, m.x.1));
                        let _ = c.set_attribute("data-y-axis", &format!("{},{}", m.y.0, m.y.1));
                    };
                    if let (Some(a), Some(c)) = (&a, main_a_ref.cast::<HtmlCanvasElement>()) {
                        if let Some(m) = draw_on(&c, &boxes, |area| draw::draw_main(area, a)) {
                            mark_axes(&c, &m);
                        }
                    }
                    if let (Some(a), Some(c)) = (&a, sigma_a_ref.cast::<HtmlCanvasElement>()) {
                        draw_on(&c, &boxes, |area| draw::draw_sigma(area, a));
                    }
                    if let Some(c) = main_ref.cast::<HtmlCanvasElement>() {
                        if let Some(m) = draw_on(&c, &boxes, |a| draw::draw_main(a, &v)) {
                            *mapping.borrow_mut() = m;
                            mark_axes(&c, &m);
                            // Its tick labels as drawn (one per line), for the same.
                            let _ = c.set_attribute("data-tick-labels", &draw::last_tick_labels().join("\n"));
                        }
                    }
                    if let Some(c) = sigma_ref.cast::<HtmlCanvasElement>() {
                        draw_on(&c, &boxes, |a| draw::draw_sigma(a, &v));
                    }
                    if let Some(c) = trace_ref.cast::<HtmlCanvasElement>() {
                        draw_on(&c, &boxes, |a| draw::draw_trace(a, &v));
                    }
                    // Drawing time of the three figures, for the benchmark and the tests.
                    if let Some(c) = main_ref.cast::<web_sys::Element>() {
                        let _ = c.set_attribute("data-draw-ms", &format!("{:.1}", crate::worker::clock::now_ms() - t0));
                    }
                });
                // Replaces the drawing request that has already fired.
                *second.borrow_mut() = Some(draw);
            });
            // Replaces the request that has already fired.
            *frame_request.borrow_mut() = Some(request);
        });
    }

    {
        let state = ctx.state.clone();
        use_effect_with((), move |_| {
            let t = gloo_timers::callback::Timeout::new(30, move || warm_up(&state.borrow()));
            move || drop(t)
        });
    }

    // A canvas's CSS box changed (window, layout, scroll bar): note it and redraw.
    // Comparing adds and moves canvases: observe them again when the layout changes.
    let layout_key = ctx.state.borrow().compare.as_ref().map(|c| c.layout);
    {
        let (main_ref, sigma_ref, trace_ref) = (main_ref.clone(), sigma_ref.clone(), trace_ref.clone());
        let (main_a_ref, sigma_a_ref) = (main_a_ref.clone(), sigma_a_ref.clone());
        let (boxes, resized) = (boxes.clone(), resized.clone());
        use_effect_with(layout_key, move |_| {
            let counter = Rc::new(RefCell::new(0u32));
            let cb = Closure::<dyn Fn(js_sys::Array)>::new(move |entries: js_sys::Array| {
                let mut changed = false;
                for e in entries.iter() {
                    let e: web_sys::ResizeObserverEntry = e.unchecked_into();
                    let r = e.content_rect();
                    // Whole CSS pixels, as clientWidth gives them.
                    let size = (r.width().round(), r.height().round());
                    let id = e.target().id();
                    let mut b = boxes.borrow_mut();
                    match b.iter_mut().find(|(k, _)| *k == id) {
                        Some((_, old)) if *old == size => {}
                        Some((_, old)) => {
                            *old = size;
                            changed = true;
                        }
                        None => {
                            b.push((id, size));
                            changed = true;
                        }
                    }
                }
                if changed {
                    *counter.borrow_mut() += 1;
                    resized.set(*counter.borrow());
                }
            });
            let observer = web_sys::ResizeObserver::new(cb.as_ref().unchecked_ref()).ok();
            if let Some(o) = &observer {
                for r in [&main_ref, &sigma_ref, &trace_ref, &main_a_ref, &sigma_a_ref] {
                    if let Some(el) = r.cast::<web_sys::Element>() {
                        o.observe(&el);
                    }
                }
            }
            move || {
                if let Some(o) = observer {
                    o.disconnect();
                }
                drop(cb);
            }
        });
    }

    // Zoom (device pixel ratio) changed: redraw crisp.
    {
        let resized = resized.clone();
        use_effect_with((), move |_| {
            let counter = Rc::new(RefCell::new(0u32));
            let cb = Closure::<dyn Fn()>::new(move || {
                *counter.borrow_mut() += 1;
                resized.set(*counter.borrow());
            });
            let w = browser::window();
            let _ = w.add_event_listener_with_callback("resize", cb.as_ref().unchecked_ref());
            move || {
                let _ = w.remove_event_listener_with_callback("resize", cb.as_ref().unchecked_ref());
            }
        });
    }

    // Click adds a point; Shift-click, or a long press (touch or pen held still for
    // LONG_PRESS_MS), removes the nearest.
    let press = use_mut_ref(|| None::<Press>);
    let remove_at = {
        let dispatch = ctx.dispatch.clone();
        let mapping = mapping.clone();
        move |ox: f64, oy: f64| {
            let dpr = browser::device_pixel_ratio();
            let m = *mapping.borrow();
            if let Some((x, y)) = m.to_data(ox * dpr, oy * dpr) {
                let (ux, uy) = m.units_per_px();
                dispatch.emit(Action::RemoveNearest { x, y, x_per_px: ux * dpr, y_per_px: uy * dpr });
            }
        }
    };
    let onclick = {
        let dispatch = ctx.dispatch.clone();
        let mapping = mapping.clone();
        let press = press.clone();
        let remove_at = remove_at.clone();
        Callback::from(move |e: MouseEvent| {
            // The click that ends a long press has already removed a point.
            if press.borrow_mut().take().is_some_and(|p| p.fired.get()) {
                return;
            }
            if e.shift_key() {
                remove_at(e.offset_x() as f64, e.offset_y() as f64);
                return;
            }
            let dpr = browser::device_pixel_ratio();
            let m = *mapping.borrow();
            if let Some((x, y)) = m.to_data(e.offset_x() as f64 * dpr, e.offset_y() as f64 * dpr) {
                dispatch.emit(Action::AddPoint { x, y });
            }
        })
    };
    let onpointerdown = {
        let press = press.clone();
        Callback::from(move |e: PointerEvent| {
            // Touch and pen only: a mouse has Shift-click, and a slow click must not remove.
            if !e.is_primary() || e.button() > 0 || e.pointer_type() == "mouse" {
                *press.borrow_mut() = None;
                return;
            }
            let (ox, oy) = (e.offset_x() as f64, e.offset_y() as f64);
            let fired = Rc::new(std::cell::Cell::new(false));
            let timer = {
                let fired = fired.clone();
                let remove_at = remove_at.clone();
                gloo_timers::callback::Timeout::new(LONG_PRESS_MS, move || {
                    fired.set(true);
                    remove_at(ox, oy);
                })
            };
            *press.borrow_mut() = Some(Press { at: (e.client_x() as f64, e.client_y() as f64), fired, _timer: timer });
        })
    };
    let onpointermove = {
        let press = press.clone();
        Callback::from(move |e: PointerEvent| {
            let mut p = press.borrow_mut();
            let moved = p.as_ref().is_some_and(|p| {
                !p.fired.get() && (e.client_x() as f64 - p.at.0).hypot(e.client_y() as f64 - p.at.1) > LONG_PRESS_SLOP_PX
            });
            if moved {
                *p = None; // a drag or a scroll, not a press
            }
        })
    };
    let cancel = {
        let press = press.clone();
        Callback::from(move |_: PointerEvent| {
            let mut p = press.borrow_mut();
            if p.as_ref().is_some_and(|p| !p.fired.get()) {
                *p = None;
            }
        })
    };
    let onpointerup = {
        let press = press.clone();
        Callback::from(move |_: PointerEvent| {
            // Keep a fired press until its click arrives (then swallowed); drop the timer otherwise.
            let mut p = press.borrow_mut();
            if p.as_ref().is_some_and(|p| !p.fired.get()) {
                *p = None;
            }
        })
    };
    // No context menu (or text selection callout) from a long press on the plot.
    let oncontextmenu = Callback::from(|e: MouseEvent| e.prevent_default());

    let s = ctx.state.borrow();
    let has_fit = s.frame.is_some();
    let main_label = if has_fit {
        "Data with the predictive mean and 95% total, aleatoric and epistemic bands; the text summary below describes it."
    } else {
        "Data (no fit yet). Click or tap to add a point; Shift-click or long-press to remove the nearest."
    };
    let main_label = if s.stale { "Data, with the greyed fit of the previous data; press Train to fit these." } else { main_label };
    let comparing = s.compare.as_ref().map(|c| c.layout);
    let main_label = match comparing {
        Some(Layout::Apart) => "Fit B: data with its predictive mean and 95% bands, on the same axes as fit A's plot.",
        Some(Layout::Overlay) => "Fit B with fit A overlaid: both predictive means and 95% total bands on one plot.",
        None => main_label,
    };
    let main = html! {
        <figure class="plot plot-main">
            <canvas id="plot-main" ref={main_ref} role="img" aria-label={main_label} {onclick}
                {onpointerdown} {onpointermove} {onpointerup} onpointercancel={cancel.clone()} onpointerleave={cancel}
                {oncontextmenu} data-stale={s.stale.to_string()}
                data-has-fit={has_fit.to_string()}></canvas>
            <figcaption class="sr-only">{"Predictive distribution"}</figcaption>
        </figure>
    };
    let sigma = html! {
        <figure class="plot">
            <canvas id="plot-sigma" ref={sigma_ref} role="img" aria-label="Inferred noise standard deviation sigma(x) with its 95% posterior band"></canvas>
            <figcaption class="sr-only">{"Noise sd σ(x)"}</figcaption>
        </figure>
    };
    let trace = html! {
        <figure class="plot">
            <canvas id="plot-trace" ref={trace_ref} role="img" aria-label="Loss trace over training steps"></canvas>
            <figcaption class="sr-only">{"Loss trace"}</figcaption>
            <p class="plot-note muted" id="loss-why">{"The loss rises when sampling starts: the warm start ends at the most probable weights, \
                and a sampler then wanders the region that holds most of the posterior, where each point is less probable."}</p>
        </figure>
    };
    let toggles = legend_toggles(&ctx, &s);
    let Some(layout) = comparing else {
        return html! {
            <div class="plots">
                { toggles }
                { main }
                <div class="plot-row">{ sigma }{ trace }</div>
            </div>
        };
    };
    let main_a = html! {
        <figure class="plot plot-main">
            <canvas id="plot-main-a" ref={main_a_ref} role="img"
                aria-label="Fit A: data with its predictive mean and 95% bands, on the same axes as fit B's plot."></canvas>
            <figcaption class="sr-only">{"Fit A: predictive distribution"}</figcaption>
        </figure>
    };
    let sigma_a = html! {
        <figure class="plot">
            <canvas id="plot-sigma-a" ref={sigma_a_ref} role="img" aria-label="Fit A: inferred noise standard deviation sigma(x) with its 95% posterior band"></canvas>
            <figcaption class="sr-only">{"Fit A: noise sd σ(x)"}</figcaption>
        </figure>
    };
    html! {
        <div class="plots comparing">
            { toggles }
            if layout == Layout::Apart {
                <div class="pair">{ main_a }{ main }</div>
            } else {
                <>{ main }</>
            }
            <div class="pair pair-sigma">{ sigma_a }{ sigma }</div>
            <div class="plot-row">{ trace }</div>
        </div>
    }
}

/// The legend's switches: each band on and off, and the posterior draws.
fn legend_toggles(ctx: &Ctx, s: &AppState) -> Html {
    let d = ctx.dispatch.clone();
    let item = |id: &'static str, label: String, on: bool, action: CompareAction, class: &'static str| {
        let d = d.clone();
        let onchange = Callback::from(move |_: Event| d.emit(Action::Compare(action.clone())));
        html! {
            <label class={classes!("legend-toggle", class)} for={id}>
                <input type="checkbox" id={id} checked={on} {onchange} />
                <span class="swatch" aria-hidden="true"></span>{label}
            </label>
        }
    };
    let sh = s.shown;
    let n = crate::summary::bands::FUNCTION_DRAWS;
    html! {
        <fieldset class="legend-toggles">
            <legend class="sr-only">{"Show on the plot"}</legend>
            { item("show-total", "95% total band".into(), sh.total, CompareAction::ToggleBand(Band::Total), "total") }
            { item("show-aleatoric", "95% aleatoric (noise)".into(), sh.aleatoric, CompareAction::ToggleBand(Band::Aleatoric), "aleatoric") }
            { item("show-epistemic", "95% epistemic (model)".into(), sh.epistemic, CompareAction::ToggleBand(Band::Epistemic), "epistemic") }
            { item("show-draws", format!("Posterior draws ({n})"), sh.draws, CompareAction::ToggleDraws, "draws") }
        </fieldset>
    }
}
