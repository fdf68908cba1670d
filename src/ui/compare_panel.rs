//! The page's side of Compare (issue 12 §1): the "Compare" button, the comparison
//! card (layout, the "Comparison" table, the verdict), the scenario links, and the
//! card of a scenario opened by its link. The state and numbers are `ui::compare`'s.

use yew::prelude::*;

use super::context::Ctx;
use super::compare::{scenario_href, CompareAction, Layout, Stage, SCENARIOS};
use super::plots::fit_name;
use super::state::{Action, RunStatus};

/// A scenario opened by its link: what it compares, what to watch, and one button
/// that trains fit A and then fit B.
#[component]
pub fn ScenarioCard() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = ctx.state.borrow();
    let stage = s.scenario.map(|x| x.stage);
    // Fit A has finished: keep it and start B (once; the state moves on at once).
    {
        let d = ctx.dispatch.clone();
        use_effect_with(stage, move |stage| {
            if *stage == Some(Stage::ReadyForB) {
                d.emit(Action::Compare(CompareAction::Continue));
            }
        });
    }
    let Some(sc) = s.scenario else { return html! {} };
    let sc_def = sc.scenario;
    let (a, b) = ((sc_def.a)(), (sc_def.b)());
    let running = matches!(sc.stage, Stage::TrainingA | Stage::ReadyForB | Stage::TrainingB);
    let progress = match sc.stage {
        Stage::Ready => String::new(),
        Stage::TrainingA | Stage::ReadyForB => format!("Training fit A ({})…", fit_name(&a)),
        Stage::TrainingB => format!("Fit A done; training fit B ({})…", fit_name(&b)),
        Stage::Done => "Both fits done: the comparison is below.".into(),
    };
    let label = if sc.stage == Stage::Done { "Run both fits again" } else { "Run both fits" };
    html! {
        <section class="card scenario" aria-labelledby="scenario-h">
            <h3 id="scenario-h">{format!("Scenario: {}", sc_def.title)}</h3>
            <p>{format!("A: {}. B: {}. ", fit_name(&a), fit_name(&b))}{sc_def.watch}</p>
            <div class="buttons">
                <button type="button" class="primary" disabled={running}
                    onclick={ctx.dispatcher(Action::Compare(CompareAction::RunScenario))}>{label}</button>
                <button type="button" onclick={ctx.dispatcher(Action::Compare(CompareAction::End))}>{"Close scenario"}</button>
                <span id="scenario-progress" class="hint" aria-live="polite">{progress}</span>
            </div>
        </section>
    }
}

/// The "Compare" button, the comparison (its layout, table and verdict) and the
/// scenario links.
#[component]
pub fn ComparePanel() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = ctx.state.borrow();
    let can = s.can_compare();
    let keep = ctx.dispatcher(Action::Compare(CompareAction::Keep));
    let links = html! {
        <nav class="scenarios" aria-label="Comparison scenarios">
            <span class="hint">{"Scenarios (links you can hand out): "}</span>
            <ul>
                { for SCENARIOS.iter().map(|sc| html! {
                    <li><a href={scenario_href(sc)} title={sc.watch}>{sc.title}</a></li>
                }) }
            </ul>
        </nav>
    };
    let Some(c) = &s.compare else {
        return html! {
            <section class="card compare" aria-labelledby="compare-h">
                <h3 id="compare-h">{"Compare two fits"}</h3>
                <div class="buttons">
                    <button type="button" onclick={keep} disabled={!can}
                        title="Keep this fit as fit A, then change the model or method and train fit B on the same data">
                        {"Compare with another fit"}</button>
                    if !can {
                        <span class="hint">{"Train a fit to the end first: it becomes fit A."}</span>
                    }
                </div>
                { links }
            </section>
        };
    };
    let d = ctx.dispatch.clone();
    let set_layout = move |l: Layout| {
        let d = d.clone();
        Callback::from(move |_: Event| d.emit(Action::Compare(CompareAction::SetLayout(l))))
    };
    let report = s.compare_report();
    let b_state = match (s.status, report.is_some()) {
        (_, true) => String::new(),
        (RunStatus::Running | RunStatus::Paused, _) => "Fit B is training…".into(),
        _ => "Now change the model or method and press Train: that fit is B, on the same data.".into(),
    };
    html! {
        <section class="card compare" aria-labelledby="compare-h">
            <h3 id="compare-h">{"Compare two fits"}</h3>
            <p>{format!("Fit A: {}", fit_name(&c.a.config))}
                { s.fitted.as_ref().map(|f| format!(" · fit B: {}", fit_name(&f.config))).unwrap_or_default() }</p>
            if !b_state.is_empty() {
                <p class="hint" id="compare-next">{b_state}</p>
            }
            <div class="buttons">
                <fieldset class="layout-choice">
                    <legend>{"Show the fits"}</legend>
                    <label><input type="radio" name="compare-layout" checked={c.layout == Layout::Apart}
                        onchange={set_layout(Layout::Apart)} />{"side by side"}</label>
                    <label><input type="radio" name="compare-layout" checked={c.layout == Layout::Overlay}
                        onchange={set_layout(Layout::Overlay)} />{"overlaid"}</label>
                </fieldset>
                if can {
                    <button type="button" onclick={keep}>{"Compare: keep fit B as the new A"}</button>
                }
                <button type="button" onclick={ctx.dispatcher(Action::Compare(CompareAction::End))}>{"End comparison"}</button>
            </div>
            if let Some(r) = report {
                <table id="compare-table">
                    <caption>{"Comparison"}</caption>
                    <thead><tr><th scope="col">{"metric"}</th><th scope="col">{"fit A"}</th><th scope="col">{"fit B"}</th></tr></thead>
                    <tbody>
                        { for r.rows.iter().map(|row| html! {
                            <tr data-metric={row.key}><th scope="row">{row.name}</th><td>{row.a.clone()}</td><td>{row.b.clone()}</td></tr>
                        }) }
                    </tbody>
                </table>
                <p class="hint">{format!("Metrics on {} (uncertainty-toolbox's, for N(mean, sd_total²)); lower is better except coverage (ideal 0.95).", r.on)}</p>
                <p id="compare-verdict" class="verdict"><strong>{"Verdict: "}</strong>{r.verdict.clone()}</p>
            }
            { links }
        </section>
    }
}
