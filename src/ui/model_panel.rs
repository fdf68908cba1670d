//! Model: which BNN, the noise law (with its formula and priors), network shape,
//! activation, prior scale, raw vs standardised units.

use yew::prelude::*;

use super::app::SettingsCtx as Ctx;
use super::controls::{num, InputField, SelectField};
use super::state::Action;
use super::law_edit::{formula_text, prior_rows};
use super::text::model_info;
use crate::config::{parse_hidden, Activation, FitConfig, ModelKind, NoiseLawKind};

const KINDS: [(ModelKind, &str); 3] =
    [(ModelKind::Homoskedastic, "homoskedastic"), (ModelKind::TwoHead, "two_head"), (ModelKind::NoiseModel, "noise_model")];

#[component]
pub fn ModelPanel() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let open = *use_memo((), |_| !super::browser::is_narrow());
    let hidden_error = use_state(|| None::<String>);
    let prior_error = use_state(|| None::<String>);
    let s = ctx.state.borrow();
    let c = s.settings.config.clone();
    let m = &c.model;

    // Every change builds a new config from the current one.
    let update = |f: fn(&mut FitConfig, &str) -> Result<(), String>, err: Option<UseStateHandle<Option<String>>>| {
        let d = ctx.dispatch.clone();
        let state = ctx.state.clone();
        Callback::from(move |v: String| {
            let mut c = state.borrow().settings.config.clone();
            match f(&mut c, &v) {
                Ok(()) => {
                    if let Some(e) = &err {
                        e.set(None);
                    }
                    d.emit(Action::SetConfig(c));
                }
                Err(msg) => {
                    if let Some(e) = &err {
                        e.set(Some(msg));
                    }
                }
            }
        })
    };

    let on_kind = update(
        |c, v| {
            c.model.kind = KINDS.iter().find(|k| k.1 == v).map(|k| k.0).ok_or("unknown model")?;
            Ok(())
        },
        None,
    );
    let on_law = update(
        |c, v| {
            c.model.noise_law = NoiseLawKind::from_name(v).ok_or("unknown law")?;
            // Picking a law means the noise model.
            c.model.kind = ModelKind::NoiseModel;
            Ok(())
        },
        None,
    );
    let on_hidden = update(
        |c, v| {
            let h = parse_hidden(v).map_err(|e| e.to_string())?;
            let mut t = c.clone();
            t.model.hidden = h;
            t.validate().map_err(|e| e.to_string())?;
            *c = t;
            Ok(())
        },
        Some(hidden_error.clone()),
    );
    let on_act = update(
        |c, v| {
            c.model.activation = Activation::from_name(v).ok_or("unknown activation")?;
            Ok(())
        },
        None,
    );
    let on_prior = update(
        |c, v| {
            let x: f64 = v.trim().parse().map_err(|_| format!("prior scale must be a number (got '{v}')"))?;
            let mut t = c.clone();
            t.model.prior_scale = x;
            t.validate().map_err(|e| e.to_string())?;
            *c = t;
            Ok(())
        },
        Some(prior_error.clone()),
    );
    let on_scale = update(
        |c, v| {
            c.model.raw_scale = v == "raw";
            Ok(())
        },
        None,
    );

    let kind_value = KINDS.iter().find(|k| k.0 == m.kind).map(|k| k.1).unwrap_or("two_head");
    let kind_options: Vec<(String, String)> = KINDS.iter().map(|(k, v)| (v.to_string(), model_info(*k).0.to_string())).collect();
    let law_options: Vec<(String, String)> = NoiseLawKind::all().map(|l| (l.name().to_string(), l.label().to_string())).collect();
    let act_options = vec![
        ("tanh".to_string(), "tanh".to_string()),
        ("silu".to_string(), "SiLU".to_string()),
        ("relu".to_string(), "ReLU".to_string()),
    ];
    let scale_options =
        vec![("std".to_string(), "Standardised (z-scores)".to_string()), ("raw".to_string(), "Raw (data as given, like NeuroBayes)".to_string())];
    let hidden_text = m.hidden.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(",");
    let is_noise = m.kind == ModelKind::NoiseModel;

    html! {
        <details class="panel" {open}>
            <summary><h2>{"Model"}</h2></summary>
            <SelectField id="model" label="Model" value={kind_value} options={kind_options} onchange={on_kind}
                hint={AttrValue::from(model_info(m.kind).1)} />
            <SelectField id="noise-law" label="Noise law" value={m.noise_law.name()} options={law_options} onchange={on_law}
                hint={AttrValue::from(if is_noise { "Used by the noise-model BNN." } else { "Choosing a law switches to the noise-model BNN." })} />
            // The law's formula and priors: only where a law is used.
            if is_noise {
                <div class="law" aria-label="Noise law formula and priors">
                    <p class="formula">{format!("σ(x) = {}", formula_text(m))}</p>
                    <ul class="priors">
                        { for prior_rows(m, &s.data).into_iter().map(|p| html! { <li>{format!("{} ~ {}: {}", p.name, p.numbers.unwrap_or_default(), p.note)}</li> }) }
                    </ul>
                    <p class="hint">{"Priors are on the fitting scale (standardised units unless raw); results are reported in data units."}</p>
                </div>
            }
            <div class="row2">
                <InputField id="hidden" label="Hidden widths" kind="text" value={hidden_text} onchange={on_hidden}
                    hint={AttrValue::from("e.g. 32,16,8 (empty: linear)")} error={(*hidden_error).clone()} />
                <SelectField id="activation" label="Activation" value={m.activation.name()} options={act_options} onchange={on_act} />
            </div>
            <div class="row2">
                <InputField id="prior-scale" label="Prior scale" value={num(m.prior_scale)} onchange={on_prior} step="any" min="0.001"
                    hint={AttrValue::from("sd of every weight's N(0, s²) prior")} error={(*prior_error).clone()} />
                <SelectField id="scale" label="Units" value={if m.raw_scale { "raw" } else { "std" }} options={scale_options} onchange={on_scale} />
            </div>
        </details>
    }
}
