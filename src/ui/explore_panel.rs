//! The "Where to measure next" card under the plots: the Acquisition picker (its rows
//! are the core's `summary::acquisition::ACQUISITIONS`), the acquisition curve with
//! the suggested x marked, Measure next (or the y the user measured), and Auto with
//! its learning curves. Inline SVG, as the Calibration figure; the state is
//! `ui::explore`'s.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::context::Ctx;
use super::controls::{num, InputField, SelectField};
use super::explore::{CurvePoint, ExploreAction, LearningCurve, Suggestion, MAX_ROUNDS};
use super::state::{fmt, Action, AppState, RunStatus};
use crate::summary::acquisition::{AcquisitionKind, Goal, ACQUISITIONS};

/// Drawing box of the acquisition curve (SVG user units) and its plot area.
const W: f64 = 640.0;
const H: f64 = 150.0;
const L: f64 = 16.0;
const R: f64 = 16.0;
const T: f64 = 14.0;
const B: f64 = 34.0;
/// The learning curve's box.
const LW: f64 = 440.0;
const LH: f64 = 210.0;
const LL: f64 = 52.0;
const LB: f64 = 40.0;

/// One colour per acquisition (Okabe-Ito), in the registry's order.
const COLOURS: [&str; 6] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#555555"];

fn colour(kind: AcquisitionKind) -> &'static str {
    let i = ACQUISITIONS.iter().position(|r| r.kind == kind).unwrap_or(0);
    COLOURS[i % COLOURS.len()]
}

/// "epistemic variance 0.0123" for the suggestion line.
fn value_words(kind: AcquisitionKind, v: f64) -> String {
    let what = match kind {
        AcquisitionKind::Epistemic => "epistemic variance",
        AcquisitionKind::Total => "total variance",
        AcquisitionKind::InfoGain => "information gain (nats)",
        AcquisitionKind::Ucb => "upper confidence bound",
        AcquisitionKind::Ei => "expected improvement",
        AcquisitionKind::Random => "random score",
    };
    format!("{what} {}", fmt(v))
}

/// The acquisition over the candidates, scaled to its own range, with the data's x as
/// a rug (a gap in the data shows) and the pick marked.
fn curve_svg(s: &AppState, sg: &Suggestion) -> Html {
    let (x0, x1) = match (s.grid.first(), s.grid.last()) {
        (Some(&a), Some(&b)) if b > a => (a, b),
        _ => return html! {},
    };
    let px = |x: f64| L + (x - x0) / (x1 - x0) * (W - L - R);
    let finite: Vec<(f64, f64)> = sg.curve.iter().copied().filter(|(_, v)| v.is_finite()).collect();
    let (lo, hi) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, v)| (a.min(v), b.max(v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let py = |v: f64| if v.is_finite() { H - B - (v - lo) / span * (H - T - B) } else { T };
    let pts: Vec<String> = sg.curve.iter().map(|&(x, v)| format!("{:.1},{:.1}", px(x), py(v))).collect();
    let span_x = x1 - x0;
    let ticks = nice_ticks(x0, x1);
    let mx = px(sg.x);
    let anchor = if mx > W - 120.0 { "end" } else { "start" };
    let label_x = if anchor == "end" { mx - 6.0 } else { mx + 6.0 };
    let label = ACQUISITIONS.iter().find(|r| r.kind == s.explore.kind).map_or("", |r| r.label);
    html! {
        <svg viewBox={format!("0 0 {W} {H}")} class="acq-curve" role="img" id="acquisition-curve"
            aria-label={format!("Acquisition curve: {label} over x, largest at x = {}", fmt(sg.x))}
            data-best-x={sg.x.to_string()}>
            <line x1={L.to_string()} y1={(H - B).to_string()} x2={(W - R).to_string()} y2={(H - B).to_string()} class="calib-axis" />
            { for ticks.iter().map(|&t| html! {
                <text x={px(t).to_string()} y={(H - B + 26.0).to_string()} class="calib-tick" text-anchor="middle">
                    {crate::ui::plots::draw::tick_label(t, span_x)}</text>
            }) }
            { for s.data.x.iter().filter(|&&x| x >= x0 && x <= x1).map(|&x| html! {
                <line x1={px(x).to_string()} x2={px(x).to_string()} y1={(H - B + 2.0).to_string()} y2={(H - B + 9.0).to_string()} class="acq-rug" />
            }) }
            <polyline points={pts.join(" ")} class="acq-line" style={format!("stroke:{}", colour(s.explore.kind))} />
            <line x1={mx.to_string()} x2={mx.to_string()} y1={T.to_string()} y2={(H - B).to_string()} class="acq-pick" />
            <circle cx={mx.to_string()} cy={py(sg.value).to_string()} r="4.5" class="acq-pick-dot" />
            <text x={label_x.to_string()} y={(T + 10.0).to_string()} class="acq-pick-label" text-anchor={anchor}>
                {format!("measure next: x = {}", fmt(sg.x))}</text>
        </svg>
    }
}

/// Round tick values inside [lo, hi]: steps of 1, 2 or 5 times a power of ten, about five.
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 5.0;
    let p = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|s| *s >= raw).unwrap_or(10.0 * p);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// One metric of the learning curves (RMSE of the mean, or the NLL of fresh draws)
/// against the number of points, one line per acquisition run.
fn learning_svg(curves: &[LearningCurve], title: &str, metric: fn(&CurvePoint) -> f64) -> Html {
    let pts = curves.iter().flat_map(|c| c.points.iter());
    let (n0, n1, lo, hi) = pts.fold((usize::MAX, 0usize, f64::INFINITY, f64::NEG_INFINITY), |(a, b, l, h), p| {
        (a.min(p.n), b.max(p.n), l.min(metric(p)), h.max(metric(p)))
    });
    if n0 > n1 {
        return html! {};
    }
    let n1 = n1.max(n0 + 1);
    // The axis spans the curves (padded), so that their differences show.
    let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.02).max(1e-9);
    let (bot, top) = (if lo >= 0.0 { (lo - pad).max(0.0) } else { lo - pad }, hi + pad);
    let px = |n: usize| LL + (n - n0) as f64 / (n1 - n0) as f64 * (LW - LL - 16.0);
    let py = |v: f64| LH - LB - (v - bot) / (top - bot) * (LH - 30.0 - LB);
    let yt = [bot, 0.5 * (bot + top), top];
    let xt: Vec<usize> = {
        let k = (n1 - n0).min(5).max(1);
        (0..=k).map(|i| n0 + (n1 - n0) * i / k).collect()
    };
    html! {
        <svg viewBox={format!("0 0 {LW} {LH}")} class="learning-curve" aria-hidden="true">
            <text x={LL.to_string()} y="16" class="calib-title">{title.to_string()}</text>
            <line x1={LL.to_string()} y1={py(bot).to_string()} x2={(LW - 16.0).to_string()} y2={py(bot).to_string()} class="calib-axis" />
            <line x1={LL.to_string()} y1={py(bot).to_string()} x2={LL.to_string()} y2={py(top).to_string()} class="calib-axis" />
            { for yt.iter().map(|&t| html! {
                <text x={(LL - 5.0).to_string()} y={(py(t) + 4.0).to_string()} class="calib-tick" text-anchor="end">{fmt(t)}</text>
            }) }
            { for xt.iter().map(|&n| html! {
                <text x={px(n).to_string()} y={(LH - LB + 14.0).to_string()} class="calib-tick" text-anchor="middle">{n.to_string()}</text>
            }) }
            <text x={((LL + LW) / 2.0).to_string()} y={(LH - 6.0).to_string()} class="calib-label" text-anchor="middle">{"points measured (the start's included)"}</text>
            { for curves.iter().map(|c| {
                let line: Vec<String> = c.points.iter().map(|p| format!("{:.1},{:.1}", px(p.n), py(metric(p)))).collect();
                html! {
                    <g>
                        <polyline points={line.join(" ")} class="lc-line" style={format!("stroke:{}", colour(c.kind))} />
                        { for c.points.iter().map(|p| html! {
                            <circle cx={px(p.n).to_string()} cy={py(metric(p)).to_string()} r="2.5" style={format!("fill:{}", colour(c.kind))} />
                        }) }
                    </g>
                }
            }) }
        </svg>
    }
}

fn learning_table(curves: &[LearningCurve]) -> Html {
    html! {
        <table class="learning">
            <caption>{"Learning curves"}</caption>
            <thead><tr>
                <th scope="col">{"Run"}</th><th scope="col">{"Acquisition"}</th><th scope="col">{"Points"}</th>
                <th scope="col">{"RMSE of the mean: start → last"}</th><th scope="col">{"NLL of fresh draws: start → last"}</th>
            </tr></thead>
            <tbody>
                { for curves.iter().enumerate().map(|(i, c)| {
                    let (first, last) = (c.points.first(), c.points.last());
                    let arrow = |f: &dyn Fn(&CurvePoint) -> f64| match (first, last) {
                        (Some(a), Some(b)) => format!("{} → {}", fmt(f(a)), fmt(f(b))),
                        _ => "…".into(),
                    };
                    let points = match (first, last) {
                        (Some(a), Some(b)) => format!("{} → {}", a.n, b.n),
                        _ => "…".into(),
                    };
                    html! {
                        <tr>
                            <td><span class="lc-swatch" aria-hidden="true" style={format!("background:{}", colour(c.kind))}></span>{i + 1}</td>
                            <th scope="row">{c.kind.name()}</th>
                            <td>{points}</td>
                            <td>{arrow(&|p| p.rmse)}</td>
                            <td>{arrow(&|p| p.nll)}</td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

#[component]
pub fn ExplorePanel() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let measured_ref = use_node_ref();
    let s = ctx.state.borrow();
    let e = &s.explore;
    let d = ctx.dispatch.clone();
    let emit = move |a: ExploreAction| d.emit(Action::Explore(a));

    let kind_options: Vec<(String, String)> = ACQUISITIONS.iter().map(|r| (r.name.to_string(), r.label.to_string())).collect();
    let on_kind = {
        let emit = emit.clone();
        Callback::from(move |v: String| {
            if let Some(k) = AcquisitionKind::from_name(&v) {
                emit(ExploreAction::SetKind(k));
            }
        })
    };
    let on_goal = {
        let emit = emit.clone();
        Callback::from(move |v: String| {
            if let Some(g) = Goal::from_name(&v) {
                emit(ExploreAction::SetGoal(g));
            }
        })
    };
    let on_kappa = {
        let emit = emit.clone();
        Callback::from(move |v: String| {
            if let Ok(k) = v.trim().parse::<f64>() {
                emit(ExploreAction::SetKappa(k));
            }
        })
    };
    let on_rounds = {
        let emit = emit.clone();
        Callback::from(move |v: String| {
            if let Ok(r) = v.trim().parse::<usize>() {
                emit(ExploreAction::SetRounds(r));
            }
        })
    };
    let on_beyond = {
        let emit = emit.clone();
        Callback::from(move |ev: Event| emit(ExploreAction::SetBeyond(ev.target_unchecked_into::<HtmlInputElement>().checked())))
    };
    let act = |a: ExploreAction| {
        let emit = emit.clone();
        Callback::from(move |_: MouseEvent| emit(a.clone()))
    };
    let on_measured = {
        let emit = emit.clone();
        let r = measured_ref.clone();
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let text = r.cast::<HtmlInputElement>().map(|el| el.value()).unwrap_or_default();
            emit(ExploreAction::AddMeasured(text.trim().parse::<f64>().unwrap_or(f64::NAN)));
        })
    };

    let row = e.kind.row();
    let optimise = matches!(e.kind, AcquisitionKind::Ucb | AcquisitionKind::Ei);
    let sg = s.suggestion();
    let running = s.is_active();
    let can = sg.is_some() && s.status == RunStatus::Finished && e.auto.is_none();
    let has_truth = s.data.truth.is_some();
    let line = match (&sg, s.status) {
        (Some(g), RunStatus::Finished) => format!("Measure next at x = {} ({}).", fmt(g.x), value_words(e.kind, g.value)),
        (Some(g), _) => format!("So far: x = {} ({}); Measure next when the fit has finished.", fmt(g.x), value_words(e.kind, g.value)),
        (None, _) if s.stale => "The data changed: Train to see where to measure next.".into(),
        (None, _) if running => "The acquisition appears as the fit forms.".into(),
        (None, _) => "Train to see where to measure next.".into(),
    };
    // Whether the worker refits from the previous posterior (it says so in its frames).
    let refit = s.current_frame().is_some_and(|f| f.snapshot.warm);
    let progress = match (e.auto, refit && running) {
        (Some(a), _) => format!(
            "Auto, {}: {} of {} measurements left{}",
            a.kind.name(),
            a.left,
            e.rounds,
            if running { "; fitting…" } else { "" }
        ),
        (None, true) => "Refitting with the new point, starting from the previous posterior…".into(),
        (None, false) => String::new(),
    };
    let start_note = e.start.as_ref().map(|st| format!("Auto starts every run from the same {} points; Clear learning curves to start from the current ones.", st.data.len()));
    let measure_hint = if has_truth {
        "Draws y at the suggested x from the generator's truth, adds the point and fits again from the current posterior."
    } else {
        "Shows the x to measure; type the y you measured there to add the point and fit again."
    };
    html! {
        <section class="card explore" aria-labelledby="explore-h">
            <h3 id="explore-h">{"Where to measure next"}</h3>
            <div class="explore-controls">
                <SelectField id="acquisition" label="Acquisition" value={row.name} options={kind_options} onchange={on_kind}
                    hint={AttrValue::from(row.help)} />
                if optimise {
                    <SelectField id="goal" label="Goal" value={e.goal.name()} onchange={on_goal}
                        options={vec![("max".to_string(), "largest y".to_string()), ("min".to_string(), "smallest y".to_string())]} />
                }
                if e.kind == AcquisitionKind::Ucb {
                    <InputField id="kappa" label="kappa (UCB)" value={num(e.kappa)} onchange={on_kappa} step="0.5" min="0" />
                }
                <div class="field check">
                    <input type="checkbox" id="beyond" checked={e.beyond} onchange={on_beyond} />
                    <label for="beyond">{"Search beyond the data (the plot's margins)"}</label>
                </div>
            </div>
            if let Some(g) = &sg { { curve_svg(&s, g) } }
            <p id="suggestion" class="suggestion" aria-live="polite">{line}</p>
            <div class="buttons">
                <button type="button" class="primary" id="measure-next" disabled={!can} title={measure_hint}
                    onclick={act(ExploreAction::MeasureNext)}>{"Measure next"}</button>
                <span class="hint">{measure_hint}</span>
            </div>
            if let Some(x) = e.awaiting {
                <form class="measured" onsubmit={on_measured}>
                    <label for="measured-y">{format!("Measured y at x = {}", fmt(x))}</label>
                    <input id="measured-y" type="number" step="any" inputmode="decimal" ref={measured_ref} />
                    <button type="submit" class="primary">{"Add measured point"}</button>
                    <button type="button" onclick={act(ExploreAction::CancelMeasured)}>{"Cancel"}</button>
                </form>
            }
            <div class="auto-row">
                <InputField id="rounds" label="Rounds" value={e.rounds.to_string()} onchange={on_rounds} step="1" min="1"
                    max={AttrValue::from(MAX_ROUNDS.to_string())} disabled={e.auto.is_some()} />
                if e.auto.is_some() {
                    <button type="button" id="auto" onclick={act(ExploreAction::StopAuto)}>{"Stop Auto"}</button>
                } else {
                    <button type="button" id="auto" disabled={!has_truth || running}
                        title="Measure next, the given number of rounds, and draw the learning curve"
                        onclick={act(ExploreAction::Auto)}>{"Auto"}</button>
                }
                if !e.curves.is_empty() && e.auto.is_none() {
                    <button type="button" onclick={act(ExploreAction::ClearCurves)}>{"Clear learning curves"}</button>
                }
                <span id="auto-progress" class="hint" aria-live="polite">{progress}</span>
            </div>
            if !has_truth {
                <p class="hint">{"Auto measures from a known truth: it needs generated or built-in data."}</p>
            }
            if let Some(err) = &e.error { <p class="error" role="alert">{err.clone()}</p> }
            if !e.curves.is_empty() {
                <div class="learning-figs">
                    { learning_svg(&e.curves, "RMSE of the mean (against the truth)", |p| p.rmse) }
                    { learning_svg(&e.curves, "NLL of fresh draws (from the truth)", |p| p.nll) }
                </div>
                { learning_table(&e.curves) }
                if let Some(n) = start_note { <p class="hint">{n}</p> }
            }
        </section>
    }
}
