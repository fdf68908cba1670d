//! The status line (`role="status"`), alerts (`role="alert"`), and the results under
//! the plots: metrics against the truth, the noise law's parameters, and a text
//! account of the fit for screen readers.

use yew::prelude::*;

use super::context::Ctx;
use super::calibration_panel::HeldOut;
use super::state::{duration, fmt, Action, RunStatus};
use super::text::{method_short, ESS_HELP, RHAT_HELP};

pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[component]
pub fn Status() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = ctx.state.borrow();
    let state_word = match s.status {
        RunStatus::Idle => "Ready",
        RunStatus::Running => "Training",
        RunStatus::Paused => "Paused",
        RunStatus::Finished => "Finished",
        RunStatus::Failed => "Stopped",
    };
    let mut parts: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut divergence_note = None;
    if s.stale {
        parts.push("the greyed bands are the fit of the previous data; press Train (or Space) to fit these".into());
    } else if let Some(f) = &s.frame {
        let snap = &f.snapshot;
        // A sampler counting draws (NUTS) says so: its steps are draws, each a whole
        // trajectory of gradients.
        let draws = s.fitted.as_ref().is_some_and(|f| f.config.inference.method.spec().units == crate::config::Units::Draws);
        let (of, per) = if draws { (" draws", "draws/s") } else { ("", "steps/s") };
        parts.push(format!("step {} / {}{of}", thousands(snap.step), thousands(snap.total_steps)));
        if s.status != RunStatus::Finished {
            parts.push(snap.phase.label().to_string());
        }
        if f.elapsed_ms > 0.0 {
            parts.push(format!("elapsed {}", duration(f.elapsed_ms)));
        }
        if f.steps_per_sec > 0.0 {
            parts.push(format!("{} {per}", thousands(f.steps_per_sec.round() as usize)));
        }
        let loss_name = s.fitted.as_ref().map_or("loss", |f| f.config.inference.method.spec().loss_name);
        parts.push(format!("{loss_name} {}", fmt(snap.loss)));
        if snap.samples_from_q > 0 {
            parts.push(format!("{} samples from q", thousands(snap.samples_from_q)));
        } else {
            parts.push(format!("{} draws kept", thousands(snap.draws_kept)));
        }
        if let Some(r) = snap.rhat_max {
            parts.push(format!("R-hat {:.3}", r));
        }
        if let Some(a) = snap.mala_accept {
            parts.push(format!("MALA acceptance {:.2}", a));
        }
        let d = &snap.method;
        if let Some(n) = d.divergences {
            parts.push(format!("{} divergences", thousands(n)));
        }
        if let (Some(depth), Some(share)) = (d.mean_tree_depth, d.max_depth_share) {
            parts.push(format!("tree depth {depth:.1} ({:.0}% at max)", 100.0 * share));
        }
        if let Some(e) = d.adapted_step_size {
            parts.push(format!("step size {}", fmt(e)));
        }
        divergence_note = crate::infer::nuts::divergence_note(d, s.fitted.as_ref().map(|f| f.data.x_range()));
        warnings = snap.warnings.clone();
        parts.extend(snap.notes.iter().cloned());
    } else if s.status == RunStatus::Running {
        parts.push("starting…".into());
    } else if s.status == RunStatus::Idle {
        parts.push("press Train (or Space) to fit".into());
    } else if s.status == RunStatus::Failed {
        // Refused before any step (the reason is in the alert above the plots).
        parts.push("no fit: see the message above".into());
    }
    let method = s.fitted.as_ref().map(|f| format!("{} · {}", f.config.model_name(), method_short(f.config.inference.method)));
    let first = ctx.first_plot_ms.map(|ms| format!("{:.0}", ms));
    let cls = match s.status {
        RunStatus::Running => "running",
        RunStatus::Paused => "paused",
        RunStatus::Finished => "finished",
        RunStatus::Failed => "failed",
        RunStatus::Idle => "idle",
    };
    html! {
        <div class={classes!("status", cls)} role="status" id="status" data-state={cls} data-first-plot-ms={first}
            data-step={s.frame.as_ref().map(|f| f.snapshot.step.to_string())}
            data-snapshot-ms={s.frame.as_ref().map(|f| format!("{:.1}", f.snapshot_ms))}>
            <span class="dot" aria-hidden="true"></span>
            <strong>{state_word}</strong>
            if let Some(m) = method { <span class="muted">{format!(" ({m})")}</span> }
            if !parts.is_empty() { {": "}{parts.join(" · ")} }
            if !warnings.is_empty() {
                <span class="warnings">{" · "}{warnings.join(" · ")}</span>
            }
            if let Some(n) = &s.notice { <span class="muted">{" · "}{n.clone()}</span> }
            if let Some(n) = divergence_note { <span class="muted divergences">{" · "}{n}</span> }
        </div>
    }
}

#[component]
pub fn Alerts() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = ctx.state.borrow();
    let messages: Vec<String> = s.alert.iter().chain(s.fit_error.iter()).cloned().collect();
    if messages.is_empty() {
        return html! {};
    }
    html! {
        <div class="alert" role="alert">
            { for messages.iter().map(|m| html! { <p>{m.clone()}</p> }) }
            <button type="button" class="link" onclick={ctx.dispatcher(Action::DismissAlert)}>{"Dismiss"}</button>
        </div>
    }
}

#[component]
pub fn Results() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = ctx.state.borrow();
    let metrics = s.metrics().map(|m| {
        html! {
            <section class="card metrics" aria-labelledby="metrics-h">
                <h3 id="metrics-h">{"Against the truth"}</h3>
                <table>
                    <tbody>
                        <tr><th scope="row" title="Average negative log likelihood of fresh draws from the true process, on the grid">{"NLL"}</th><td>{fmt(m.nll)}</td></tr>
                        <tr><th scope="row">{"RMSE of the mean"}</th><td>{fmt(m.rmse_mean)}</td></tr>
                        <tr><th scope="row">{"RMSE of σ(x)"}</th><td>{fmt(m.rmse_noise)}</td></tr>
                        <tr><th scope="row" title="Share of fresh draws inside the total 95% band (ideal: 0.95)">{"Coverage (95%)"}</th><td>{fmt(m.coverage95)}</td></tr>
                        <tr><th scope="row">{"Mean 95% width"}</th><td>{fmt(m.width95)}</td></tr>
                    </tbody>
                </table>
            </section>
        }
    });
    // Samples from q (VI) are no chains to compare: no R-hat column.
    let rhat = s.fitted.as_ref().is_none_or(|f| f.config.inference.method.spec().keeps == crate::config::Keeps::Draws);
    let params = s.current_frame().filter(|f| !f.snapshot.params.is_empty()).map(|f| {
        html! {
            <section class="card params" aria-labelledby="params-h">
                <h3 id="params-h">{"Noise parameters (data units)"}</h3>
                <table>
                    <thead><tr><th scope="col">{"θ"}</th><th scope="col">{"mean"}</th><th scope="col">{"95% interval"}</th>
                        if rhat {
                            <th scope="col" title={RHAT_HELP}>{"R-hat"}</th>
                            <th scope="col" title={ESS_HELP}>{"ESS"}</th>
                        }</tr></thead>
                    <tbody>
                        { for f.snapshot.params.iter().map(|p| html! {
                            <tr>
                                <th scope="row">{p.name.clone()}</th>
                                <td>{fmt(p.mean)}</td>
                                <td>{format!("{} … {}", fmt(p.lo), fmt(p.hi))}</td>
                                if rhat {
                                    <td>{p.rhat.map(|r| format!("{r:.3}")).unwrap_or_else(|| "–".into())}</td>
                                    <td>{p.ess.filter(|v| v.is_finite()).map(|v| format!("{v:.0}")).unwrap_or_else(|| "–".into())}</td>
                                }
                            </tr>
                        }) }
                    </tbody>
                </table>
            </section>
        }
    });
    let evaluations = s.evaluations();
    html! {
        <div class="results">
            <HeldOut evaluations={evaluations} />
            { metrics.unwrap_or_default() }
            { params.unwrap_or_default() }
            <section class="card summary" aria-labelledby="summary-h">
                <h3 id="summary-h">{"In words"}</h3>
                <p id="fit-summary">{s.describe()}</p>
            </section>
        </div>
    }
}

/// Every non-ASCII glyph the status line and the result panels print.
const GLYPHS: &str = "R-hat σ(x) θ μ β ε ± … − – · ² 0.123 Aa";

/// A hidden copy of the status line's and the result panels' text styles, rendered at
/// load. The first use of a font strike (family, size, weight) or of a fallback font
/// for a glyph costs a synchronous round trip to the browser's font service: on the
/// first frame of the first fit, when these panels first show, that stalled the page
/// for ~60 ms (Chromium on Linux, measured with a trace). Paying it at load keeps
/// training smooth from its first frame.
#[component]
pub fn FontWarmUp() -> Html {
    html! {
        <div class="font-warm-up" aria-hidden="true">
            <div class="status"><strong>{GLYPHS}</strong><span class="muted">{GLYPHS}</span><span class="warnings">{GLYPHS}</span></div>
            <div class="alert"><p>{GLYPHS}</p></div>
            <div class="results">
                <section class="card"><h3>{GLYPHS}</h3>
                    <table>
                        <thead><tr><th>{GLYPHS}</th></tr></thead>
                        <tbody><tr><th>{GLYPHS}</th><td>{GLYPHS}</td></tr></tbody>
                    </table>
                </section>
                <section class="card summary"><p>{GLYPHS}</p></section>
            </div>
        </div>
    }
}
