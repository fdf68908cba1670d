//! Model: which BNN, the noise law (its formula, typed or a preset's, and a table of its
//! parameters' priors), network shape, activation, prior scale, raw vs standardised units.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::context::SettingsCtx as Ctx;
use super::controls::{num, InputField, SelectField};
use super::state::Action;
use super::law_edit::{choose_law, formula_text, prior_rows, set_formula, set_prior, PriorRow};
use super::text::{model_info, FLOOR_NOTE};
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
    let draft = use_state(|| None::<Draft>);
    let priors_error = use_state(|| None::<String>);
    // Picking a law means the noise model; a preset brings its formula and priors (and
    // whatever was being typed in the field goes).
    let on_law = {
        let (d, state, dr, pe) = (ctx.dispatch.clone(), ctx.state.clone(), draft.clone(), priors_error.clone());
        Callback::from(move |v: String| {
            let Some(law) = NoiseLawKind::from_name(&v) else { return };
            let c = choose_law(&state.borrow().settings.config, law);
            dr.set(None);
            pe.set(None);
            d.emit(Action::SetConfig(c));
        })
    };
    // Checked as it is typed (the alert says what is wrong, with its column); applied
    // on Enter or on leaving the field (before a click on Train lands), and
    // only when it works: otherwise the previous formula is kept as the law while the
    // field keeps the text (a controlled input would put the law's formula back at the
    // next render, under the user's typing).
    let formula_cb = |apply: bool| {
        let (d, state, dr) = (ctx.dispatch.clone(), ctx.state.clone(), draft.clone());
        move |text: String| {
            let over = formula_text(&state.borrow().settings.config.model);
            if apply && text.trim() == over {
                // Nothing typed (or typed back): the law as it is, its priors' text untouched.
                dr.set(None);
                return;
            }
            let result = {
                let st = state.borrow();
                set_formula(&st.settings.config, &text, &st.data)
            };
            match result {
                Ok(c) if apply => {
                    dr.set(None);
                    if c != state.borrow().settings.config {
                        d.emit(Action::SetConfig(c));
                    }
                }
                Ok(_) => dr.set(Some(Draft { over, text, error: None })),
                Err(msg) => {
                    let error = Some(format!("{msg}. The law stays {over}."));
                    dr.set(Some(Draft { over, text, error }))
                }
            }
        }
    };
    let on_formula_input = {
        let f = formula_cb(false);
        Callback::from(move |e: InputEvent| f(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    // Enter and leaving the field apply it, not the field's change event: Chromium fires
    // none when the text is the one of its last change event, even if the law's formula was
    // put into the field in between (a law picked without leaving the field, then the
    // earlier formula typed again).
    let on_formula_blur = {
        let f = formula_cb(true);
        Callback::from(move |e: FocusEvent| f(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_formula_key = {
        let f = formula_cb(true);
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                f(e.target_unchecked_into::<HtmlInputElement>().value())
            }
        })
    };
    let on_law_prior = {
        let (d, state, pe) = (ctx.dispatch.clone(), ctx.state.clone(), priors_error.clone());
        Callback::from(move |(name, positive, loc, scale): (String, bool, String, String)| {
            let result = {
                let st = state.borrow();
                set_prior(&st.settings.config, &name, positive, &loc, &scale, &st.data)
            };
            match result {
                Ok(c) => {
                    pe.set(None);
                    d.emit(Action::SetConfig(c));
                }
                Err(msg) => pe.set(Some(format!("{name}: {msg}"))),
            }
        })
    };
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
    let rows = if m.kind == ModelKind::NoiseModel { prior_rows(m, &s.data) } else { vec![] };
    let formula_hint = format!(
        "σ(x; θ) in data units: x, mu (the mean at x), numbers, pi, x_min, x_max, mean_x, sd_x, sd_y, + − * / ^, exp log \
         sqrt abs sin cos tanh softplus sigmoid min max; any other name is a parameter. {FLOOR_NOTE}"
    );
    let act_options = vec![
        ("tanh".to_string(), "tanh".to_string()),
        ("silu".to_string(), "SiLU".to_string()),
        ("relu".to_string(), "ReLU".to_string()),
    ];
    let scale_options =
        vec![("std".to_string(), "Standardised (z-scores)".to_string()), ("raw".to_string(), "Raw (data as given, like NeuroBayes)".to_string())];
    let hidden_text = m.hidden.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(",");
    let is_noise = m.kind == ModelKind::NoiseModel;
    let shown_formula = formula_text(m);
    let typed = (*draft).clone().filter(|t| t.over == shown_formula);
    let formula_error = typed.as_ref().and_then(|t| t.error.clone());
    let formula_value = typed.map_or(shown_formula, |t| t.text);
    let formula_invalid = formula_error.is_some().then_some("true");

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
                    <div class="field">
                        <label for="noise-formula">{"Noise formula"}</label>
                        <input id="noise-formula" type="text" class="formula" value={formula_value}
                            oninput={on_formula_input} onblur={on_formula_blur} onkeydown={on_formula_key}
                            spellcheck="false" autocomplete="off"
                            aria-invalid={formula_invalid} aria-describedby="noise-formula-hint" />
                        if let Some(e) = formula_error { <p class="error" role="alert">{e}</p> }
                        <p class="hint" id="noise-formula-hint">{formula_hint}</p>
                    </div>
                    <PriorTable rows={rows} onchange={on_law_prior} />
                    if let Some(e) = &*priors_error { <p class="error" role="alert">{e.clone()}</p> }
                    <p class="hint">{"Priors in data units: lognormal(m, s) is a positive θ with log θ ~ N(m, s²), normal(m, s) a real θ ~ N(m, s²); m and s may use sd_x, sd_y, mean_x, x_min, x_max of the data. A new parameter is real with a prior scaled to the data by its units; mark it positive if it is. Results are reported in data units."}</p>
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

/// The formula field's text while it is not the law: what was typed, the law's formula
/// it was typed over (a new law, from the picker, a link or Restore defaults, drops it),
/// and what is wrong with it.
#[derive(Clone, PartialEq)]
struct Draft {
    over: String,
    text: String,
    error: Option<String>,
}

#[derive(Properties, PartialEq)]
struct PriorTableProps {
    rows: Vec<PriorRow>,
    /// (parameter, positive, location, scale) after an edit.
    onchange: Callback<(String, bool, String, String)>,
}

/// The law's parameters with their priors, editable: kind, location, scale.
#[component]
fn PriorTable(p: &PriorTableProps) -> Html {
    html! {
        // Scrolls sideways where the panel is narrower than the table (the prior's numbers last).
        <div class="prior-wrap">
        <table class="prior-table">
            <caption>{"Priors of the noise parameters"}</caption>
            <thead><tr>
                <th scope="col">{"θ"}</th><th scope="col">{"prior"}</th><th scope="col">{"location"}</th>
                <th scope="col">{"scale"}</th><th scope="col">{"on these data"}</th>
            </tr></thead>
            <tbody>
            { for p.rows.iter().map(|r| {
                let (name, positive, loc, scale) = (r.name.clone(), r.positive, r.loc.clone(), r.scale.clone());
                let on_kind = {
                    let (cb, name, loc, scale) = (p.onchange.clone(), name.clone(), loc.clone(), scale.clone());
                    Callback::from(move |positive: bool| cb.emit((name.clone(), positive, loc.clone(), scale.clone())))
                };
                let (loc_blur, loc_key) = {
                    let (cb, name, scale) = (p.onchange.clone(), name.clone(), scale.clone());
                    on_commit(loc.clone(), move |v| cb.emit((name.clone(), positive, v, scale.clone())))
                };
                let (scale_blur, scale_key) = {
                    let (cb, name, loc) = (p.onchange.clone(), name.clone(), loc.clone());
                    on_commit(scale.clone(), move |v| cb.emit((name.clone(), positive, loc.clone(), v)))
                };
                html! {
                    <tr key={r.name.clone()}>
                        <th scope="row" title={r.note.clone()}>{r.name.clone()}</th>
                        <td>
                            <PriorKind name={r.name.clone()} positive={r.positive} onchange={on_kind} />
                        </td>
                        <td><input type="text" class="formula" aria-label={format!("Location of {}", r.name)} value={r.loc.clone()} onblur={loc_blur} onkeydown={loc_key} /></td>
                        <td><input type="text" class="formula scale" aria-label={format!("Scale of {}", r.name)} value={r.scale.clone()} onblur={scale_blur} onkeydown={scale_key} /></td>
                        <td class="numbers" title={r.note.clone()}>{r.numbers.clone().unwrap_or_else(|| "–".into())}</td>
                    </tr>
                }
            }) }
            </tbody>
        </table>
        </div>
    }
}

/// Handlers that report a text field's value on Enter or on leaving it, when it is not the
/// value shown (`shown`). Not the change event: Chromium fires none for a text equal to that
/// of its last change event, even when the page put another value in between (a location
/// refused and put back, then typed again).
fn on_commit(shown: String, emit: impl Fn(String) + 'static) -> (Callback<FocusEvent>, Callback<KeyboardEvent>) {
    let emit = std::rc::Rc::new(move |v: String| {
        if v != shown {
            emit(v)
        }
    });
    let e = emit.clone();
    let blur = Callback::from(move |ev: FocusEvent| e(ev.target_unchecked_into::<HtmlInputElement>().value()));
    let key = Callback::from(move |ev: KeyboardEvent| {
        if ev.key() == "Enter" {
            emit(ev.target_unchecked_into::<HtmlInputElement>().value())
        }
    });
    (blur, key)
}

#[derive(Properties, PartialEq)]
struct PriorKindProps {
    name: String,
    positive: bool,
    onchange: Callback<bool>,
}

/// A parameter's prior kind: shows the settings' kind, not merely the last option picked
/// (an option's `selected` attribute no longer moves a select the user has touched: a kind
/// refused, or put back by Restore defaults, must snap back).
#[component]
fn PriorKind(p: &PriorKindProps) -> Html {
    let value = if p.positive { "positive" } else { "real" };
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with(value, move |v| {
            if let Some(el) = node.cast::<HtmlSelectElement>() {
                el.set_value(v);
            }
        });
    }
    let onchange = {
        let cb = p.onchange.clone();
        Callback::from(move |e: Event| {
            let el = e.target_unchecked_into::<HtmlSelectElement>();
            cb.emit(el.value() == "positive");
            el.set_value(value);
        })
    };
    html! {
        <select aria-label={format!("Prior of {}", p.name)} ref={node} {onchange}>
            <option value="positive" selected={p.positive}>{"positive (lognormal)"}</option>
            <option value="real" selected={!p.positive}>{"real (normal)"}</option>
        </select>
    }
}
