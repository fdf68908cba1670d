//! Data: generators (NeuroBayes's notebook data among them), CSV upload and paste,
//! the column picker, clearing, and the summary line.

use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::context::SettingsCtx as Ctx;
use super::browser;
use super::controls::{num, InputField, SelectField};
use super::settings::DataSource;
use super::state::{fmt, Action, DataControl, MAX_CSV_BYTES};
use crate::data::Synthetic;

fn error_for(ctx: &Ctx, control: DataControl) -> Html {
    let s = ctx.state.borrow();
    match &s.data_error {
        Some((c, msg)) if *c == control => html! { <p class="error" role="alert">{msg.clone()}</p> },
        _ => html! {},
    }
}

#[component]
pub fn DataPanel() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let paste_ref = use_node_ref();
    let s = ctx.state.borrow();

    let mut options: Vec<(String, String)> = Vec::new();
    for g in [Synthetic::NbExp, Synthetic::NbStep] {
        if crate::data::synthetic::notebook_preset(g).is_some() {
            options.push((format!("notebook:{}", g.name()), format!("NeuroBayes notebook: {}", g.label())));
        }
    }
    for g in Synthetic::ALL {
        options.push((g.name().to_string(), format!("Generated: {}", g.label())));
    }
    if let DataSource::Custom { name } = &s.settings.source {
        options.push(("custom".into(), format!("Your data: {name}")));
    }
    let picker = s.settings.source.picker_value();
    let (n, seed, generated) = match &s.settings.source {
        DataSource::Generated { n, seed, .. } => (n.to_string(), seed.to_string(), true),
        _ => (s.data.len().to_string(), String::new(), false),
    };

    let d = ctx.dispatch.clone();
    let on_dataset = Callback::from(move |v: String| d.emit(Action::SelectDataset(v)));
    let d = ctx.dispatch.clone();
    let on_n = Callback::from(move |v: String| match v.trim().parse::<usize>() {
        Ok(n) => d.emit(Action::SetN(n)),
        Err(_) => d.emit(Action::DataError {
            control: DataControl::Generator,
            message: format!("N must be a whole number between 2 and {} (got '{}').", super::settings::MAX_GENERATED, v.trim()),
        }),
    });
    let d = ctx.dispatch.clone();
    let on_seed = Callback::from(move |v: String| {
        if let Ok(x) = v.trim().parse::<u64>() {
            d.emit(Action::SetDataSeed(x.min(1 << 53)))
        }
    });

    let d = ctx.dispatch.clone();
    let state = ctx.state.clone();
    let on_holdout = Callback::from(move |v: String| {
        let mut c = state.borrow().settings.config.clone();
        let refuse = |m: String| Action::DataError { control: DataControl::Holdout, message: m };
        match v.trim().parse::<f64>().ok().filter(|x| x.is_finite()) {
            Some(pct) if (0.0..100.0).contains(&pct) => {
                c.inference.holdout_frac = pct / 100.0;
                match c.validate() {
                    Ok(()) => d.emit(Action::SetConfig(c)),
                    Err(e) => d.emit(refuse(format!("{e}."))),
                }
            }
            _ => d.emit(refuse(format!("Hold out (%) must be a number from 0 to below 100 (got '{}').", v.trim()))),
        }
    });
    let holdout_pct = num((s.settings.config.inference.holdout_frac * 1e6).round() / 1e4);
    let held_n = s.held_out_mask().iter().filter(|&&h| h).count();
    let holdout_hint = if held_n > 0 {
        format!("{held_n} of {} points, chosen by the seed, are kept out of the fit (drawn hollow) and score it.", s.data.len())
    } else {
        "0 = off. Points kept out of the fit (chosen by the seed) score it: the Held-out results.".to_string()
    };

    let d = ctx.dispatch.clone();
    let on_upload = Callback::from(move |e: Event| {
        let input: HtmlInputElement = e.target_unchecked_into();
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        if file.size() > MAX_CSV_BYTES as f64 {
            d.emit(Action::DataError {
                control: DataControl::Upload,
                message: format!(
                    "{} is {:.0} MB; files up to {} MB can be read. The previous data are kept.",
                    file.name(),
                    file.size() / 1e6,
                    MAX_CSV_BYTES / 1_000_000
                ),
            });
            return;
        }
        let d = d.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let name = file.name();
            match browser::read_file(file).await {
                Ok(text) => d.emit(Action::LoadCsv { name, text, control: DataControl::Upload }),
                Err(message) => d.emit(Action::DataError { control: DataControl::Upload, message }),
            }
        });
    });

    let d = ctx.dispatch.clone();
    let paste = paste_ref.clone();
    let on_paste = Callback::from(move |_| {
        if let Some(t) = paste.cast::<HtmlTextAreaElement>() {
            d.emit(Action::LoadCsv { name: "pasted data".into(), text: t.value(), control: DataControl::Paste });
        }
    });

    let column_picker = s.table.as_ref().map(|t| {
        let opts: Vec<(String, String)> =
            t.headers.iter().enumerate().map(|(i, h)| (i.to_string(), h.clone())).collect();
        let (x, y) = s.columns;
        let d = ctx.dispatch.clone();
        let on_x = Callback::from(move |v: String| d.emit(Action::ChooseColumns { x: v.parse().unwrap_or(0), y }));
        let d = ctx.dispatch.clone();
        let on_y = Callback::from(move |v: String| d.emit(Action::ChooseColumns { x, y: v.parse().unwrap_or(1) }));
        html! {
            <div class="row2">
                <SelectField id="x-column" label="x column" value={x.to_string()} options={opts.clone()} onchange={on_x} />
                <SelectField id="y-column" label="y column" value={y.to_string()} options={opts} onchange={on_y} />
            </div>
        }
    });

    let (lo, hi) = s.data.x_range();
    let summary = if s.data.is_empty() {
        "No data: click on the plot to add points, or choose a data set.".to_string()
    } else {
        format!("N = {} · {} from {} to {}", s.data.len(), s.data.x_label, fmt(lo), fmt(hi))
    };
    let truth_note = s.data.truth.map(|t| format!("Synthetic: the true f(x) and σ(x) of “{}” are drawn dashed.", t.label()));

    html! {
        <details class="panel" open=true>
            <summary><h2>{"Data"}</h2></summary>
            <SelectField id="dataset" label="Dataset" value={picker} options={options} onchange={on_dataset} />
            <div class="row3">
                <InputField id="n-points" label="N" value={n} onchange={on_n} min="2" max="100000" step="1" disabled={!generated} />
                <InputField id="data-seed" label="Data seed" value={seed} onchange={on_seed} min="0" step="1" disabled={!generated} />
                <div class="field field-button">
                    <button type="button" onclick={ctx.dispatcher(Action::Regenerate)} disabled={matches!(s.settings.source, DataSource::Custom { .. })}
                        title="Draw new data from the same generator (next seed)">{"Regenerate"}</button>
                </div>
            </div>
            { error_for(&ctx, DataControl::Generator) }
            <div class="field">
                <label for="upload">{"Upload CSV"}</label>
                <input id="upload" type="file" accept=".csv,.tsv,.txt,text/csv,text/plain" onchange={on_upload} aria-describedby="upload-hint" />
                <p class="hint" id="upload-hint">{"Two numeric columns (x, y), with or without a header; pick the columns when there are more."}</p>
                { error_for(&ctx, DataControl::Upload) }
            </div>
            { column_picker.unwrap_or_default() }
            <div class="field">
                <label for="paste">{"Paste data"}</label>
                <textarea id="paste" ref={paste_ref} rows="3" placeholder={"x,y\n0.1,1.2\n0.5,0.9"} spellcheck="false" />
                <div class="buttons">
                    <button type="button" onclick={on_paste}>{"Apply"}</button>
                    <button type="button" onclick={ctx.dispatcher(Action::ClearData)} title="Remove every point, then click on the plot to add your own">{"Clear"}</button>
                </div>
                { error_for(&ctx, DataControl::Paste) }
            </div>
            <InputField id="holdout" label="Hold out (%)" value={holdout_pct} onchange={on_holdout} min="0" max="95" step="5"
                hint={AttrValue::from(holdout_hint)} />
            { error_for(&ctx, DataControl::Holdout) }
            <p class="summary-line" id="data-summary">{summary}</p>
            if let Some(t) = truth_note { <p class="hint">{t}</p> }
            <p class="hint">{"Click (or tap) on the main plot to add a point; Shift-click or long-press to remove the nearest."}</p>
            { error_for(&ctx, DataControl::Plot) }
        </details>
    }
}
