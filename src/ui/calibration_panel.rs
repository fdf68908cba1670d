//! The "Held-out" results: uncertainty-toolbox's metrics of the finished fit on points
//! it did not see (`AppState::evaluations`), and the Calibration figure: the
//! calibration curve with its miscalibration area, the PIT histogram and the 95%
//! coverage by quarter of the x range. Inline SVG drawn from `summary::Calibration`.

use yew::prelude::*;

use super::state::{fmt, Evaluation};
use crate::summary::calibration::Calibration;

/// One panel's drawing box (SVG user units) and its plot area inside.
const W: f64 = 300.0;
const H: f64 = 230.0;
const L: f64 = 44.0;
const R: f64 = 12.0;
const T: f64 = 34.0;
const B: f64 = 40.0;

fn px(u: f64) -> f64 {
    L + u * (W - L - R)
}
fn py(v: f64) -> f64 {
    H - B - v * (H - T - B)
}

/// The y axis (0 to `top`, three ticks), the x baseline and the panel's labels.
fn frame(title: &str, x_label: &str, y_label: &str, top: f64, ticks: &[f64]) -> Html {
    html! {
        <>
            <text x={L.to_string()} y="16" class="calib-title">{title.to_string()}</text>
            <line x1={px(0.0).to_string()} y1={py(0.0).to_string()} x2={px(1.0).to_string()} y2={py(0.0).to_string()} class="calib-axis" />
            <line x1={px(0.0).to_string()} y1={py(0.0).to_string()} x2={px(0.0).to_string()} y2={py(1.0).to_string()} class="calib-axis" />
            { for ticks.iter().map(|&t| html! {
                <text x={(L - 5.0).to_string()} y={(py(t / top) + 4.0).to_string()} class="calib-tick" text-anchor="end">{fmt(t)}</text>
            }) }
            <text x={((L + W - R) / 2.0).to_string()} y={(H - 6.0).to_string()} class="calib-label" text-anchor="middle">{x_label.to_string()}</text>
            <text x="11" y={((T + H - B) / 2.0).to_string()} class="calib-label" text-anchor="middle"
                transform={format!("rotate(-90 11 {})", (T + H - B) / 2.0)}>{y_label.to_string()}</text>
        </>
    }
}

fn curve(c: &Calibration) -> Html {
    let pts: Vec<String> = c
        .expected
        .iter()
        .zip(&c.observed)
        .filter(|(e, o)| e.is_finite() && o.is_finite())
        .map(|(e, o)| format!("{:.2},{:.2}", px(*e), py(*o)))
        .collect();
    html! {
        <svg viewBox={format!("0 0 {W} {H}")} class="calib-panel" aria-hidden="true">
            { frame("Calibration curve", "expected coverage p", "observed", 1.0, &[0.0, 0.5, 1.0]) }
            { for [0.0, 0.5, 1.0].iter().map(|&t| html! {
                <text x={px(t).to_string()} y={(H - B + 14.0).to_string()} class="calib-tick" text-anchor="middle">{fmt(t)}</text>
            }) }
            <line x1={px(0.0).to_string()} y1={py(0.0).to_string()} x2={px(1.0).to_string()} y2={py(1.0).to_string()} class="calib-ideal" />
            <polyline points={pts.join(" ")} class="calib-curve" />
            <g class="calib-legend">
                <line x1={(L + 8.0).to_string()} y1="28" x2={(L + 26.0).to_string()} y2="28" class="calib-curve" />
                <text x={(L + 30.0).to_string()} y="32">{format!("observed · miscalibration area {}", fmt(c.area))}</text>
                <line x1={(L + 8.0).to_string()} y1="42" x2={(L + 26.0).to_string()} y2="42" class="calib-ideal" />
                <text x={(L + 30.0).to_string()} y="46">{"ideal (diagonal)"}</text>
            </g>
        </svg>
    }
}

fn pit(c: &Calibration) -> Html {
    let n: usize = c.pit_hist.iter().sum();
    let k = c.pit_hist.len().max(1);
    let flat = n as f64 / k as f64;
    let top = (c.pit_hist.iter().copied().max().unwrap_or(0) as f64).max(flat * 1.5).max(1.0);
    let bw = 1.0 / k as f64;
    html! {
        <svg viewBox={format!("0 0 {W} {H}")} class="calib-panel" aria-hidden="true">
            { frame("PIT histogram (flat = calibrated)", "PIT = Φ((y − mean)/sd)", "points", top, &[0.0, (top / 2.0).round(), top.round()]) }
            { for [0.0, 0.5, 1.0].iter().map(|&t| html! {
                <text x={px(t).to_string()} y={(H - B + 14.0).to_string()} class="calib-tick" text-anchor="middle">{fmt(t)}</text>
            }) }
            { for c.pit_hist.iter().enumerate().map(|(i, &h)| {
                let (x0, x1) = (px(i as f64 * bw) + 1.0, px((i + 1) as f64 * bw) - 1.0);
                html! { <rect x={x0.to_string()} y={py(h as f64 / top).to_string()} width={(x1 - x0).max(0.5).to_string()}
                    height={(py(0.0) - py(h as f64 / top)).to_string()} class="calib-bar" /> }
            }) }
            <line x1={px(0.0).to_string()} y1={py(flat / top).to_string()} x2={px(1.0).to_string()} y2={py(flat / top).to_string()} class="calib-ideal" />
        </svg>
    }
}

fn regions(c: &Calibration) -> Html {
    let k = c.regions.len().max(1);
    let bw = 1.0 / k as f64;
    html! {
        <svg viewBox={format!("0 0 {W} {H}")} class="calib-panel" aria-hidden="true">
            { frame("95% coverage by x-quarter", "", "coverage", 1.0, &[0.0, 0.5, 0.95]) }
            { for c.regions.iter().enumerate().map(|(i, r)| {
                let (x0, x1) = (px(i as f64 * bw) + 6.0, px((i + 1) as f64 * bw) - 6.0);
                let v = if r.coverage95.is_finite() { r.coverage95 } else { 0.0 };
                let label = if r.n > 0 { fmt(r.coverage95) } else { "no points".into() };
                html! {
                    <>
                        <rect x={x0.to_string()} y={py(v).to_string()} width={(x1 - x0).to_string()} height={(py(0.0) - py(v)).to_string()}
                            class={if r.n > 0 && r.coverage95 < 0.9 { "calib-bar low" } else { "calib-bar" }} />
                        <text x={((x0 + x1) / 2.0).to_string()} y={(py(v) - 4.0).min(py(0.0) - 4.0).to_string()} class="calib-tick" text-anchor="middle">{label}</text>
                        <text x={((x0 + x1) / 2.0).to_string()} y={(H - B + 14.0).to_string()} class="calib-tick" text-anchor="middle">{format!("Q{}", i + 1)}</text>
                        <text x={((x0 + x1) / 2.0).to_string()} y={(H - B + 26.0).to_string()} class="calib-tick" text-anchor="middle">{format!("n = {}", r.n)}</text>
                    </>
                }
            }) }
            <line x1={px(0.0).to_string()} y1={py(0.95).to_string()} x2={px(1.0).to_string()} y2={py(0.95).to_string()} class="calib-ideal" />
        </svg>
    }
}

/// The figure's text equivalent.
fn describe(e: &Evaluation) -> String {
    let c = &e.calibration;
    let by_q: Vec<String> = c
        .regions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let what = if r.n > 0 { fmt(r.coverage95) } else { "no points".into() };
            format!("Q{} (x {} … {}) {what}", i + 1, fmt(r.x_lo), fmt(r.x_hi))
        })
        .collect();
    format!(
        "Calibration on {} {}: miscalibration area {} (0 is perfect); 95% coverage {} overall, by quarter of the x range {}.",
        e.metrics.n,
        e.label,
        fmt(c.area),
        fmt(e.metrics.coverage95),
        by_q.join(", ")
    )
}

#[derive(Properties, PartialEq)]
pub struct HeldOutProps {
    pub evaluations: Vec<Evaluation>,
}

/// The "Held-out" section: the metric table (one column per evaluation) and the
/// Calibration figure (fresh draws from the truth when known, else held-out points).
#[component]
pub fn HeldOut(p: &HeldOutProps) -> Html {
    let ev = &p.evaluations;
    if ev.is_empty() {
        return html! {};
    }
    let shown = ev.iter().find(|e| e.label == "fresh draws from the truth").unwrap_or(&ev[0]);
    let rows = super::compare::METRIC_ROWS;
    html! {
        <section class="card held-out" aria-labelledby="held-out-h">
            <h3 id="held-out-h">{"Held-out"}</h3>
            <table id="held-out-metrics">
                <thead><tr><th scope="col">{"metric"}</th>
                    { for ev.iter().map(|e| html! { <th scope="col">{format!("{} ({})", e.label, e.metrics.n)}</th> }) }
                </tr></thead>
                <tbody>
                    { for rows.iter().map(|(key, name)| html! {
                        <tr data-metric={*key}><th scope="row">{*name}</th>
                            { for ev.iter().map(|e| {
                                let v = e.metrics.pairs().iter().find(|(k, _)| k == key).map_or(f64::NAN, |p| p.1);
                                html! { <td>{fmt(v)}</td> }
                            }) }
                        </tr>
                    }) }
                </tbody>
            </table>
            <p class="hint">{"uncertainty-toolbox's metrics for N(mean, sd_total²); lower is better except coverage (ideal 0.95). Calibration errors use the central intervals at 100 levels."}</p>
            <figure class="calibration">
                <div class="calib-panels" role="img" aria-label="Calibration" aria-describedby="calibration-desc">
                    { curve(&shown.calibration) }
                    { pit(&shown.calibration) }
                    { regions(&shown.calibration) }
                </div>
                <figcaption id="calibration-desc" class="hint">{describe(shown)}</figcaption>
            </figure>
        </section>
    }
}
