//! Labelled native form controls shared by the panels: every control has a visible
//! `<label for>` and reports its value as text on change.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SelectProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    /// (value, text) pairs.
    pub options: Vec<(String, String)>,
    pub onchange: Callback<String>,
    #[prop_or_default]
    pub disabled: bool,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
}

#[component]
pub fn SelectField(p: &SelectProps) -> Html {
    // The select shows the state's value, not merely the last option picked: a choice
    // the state refuses or adjusts (a column swap, an unknown name) snaps back.
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with(p.value.clone(), move |v| {
            if let Some(el) = node.cast::<HtmlSelectElement>() {
                el.set_value(v);
            }
        });
    }
    let onchange = {
        let cb = p.onchange.clone();
        let value = p.value.clone();
        Callback::from(move |e: Event| {
            let el = e.target_unchecked_into::<HtmlSelectElement>();
            cb.emit(el.value());
            // Back to the value this render shows; the next render (with the state's
            // new value, if it changed) sets it again.
            el.set_value(&value);
        })
    };
    let hint_id = format!("{}-hint", p.id);
    html! {
        <div class="field">
            <label for={p.id.clone()}>{p.label.clone()}</label>
            <select id={p.id.clone()} ref={node} {onchange} disabled={p.disabled}
                aria-describedby={p.hint.as_ref().map(|_| hint_id.clone())}>
                { for p.options.iter().map(|(v, t)| html! {
                    <option value={v.clone()} selected={*v == *p.value}>{t.clone()}</option>
                }) }
            </select>
            if let Some(h) = &p.hint { <p class="hint" id={hint_id}>{h.clone()}</p> }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct InputProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    pub onchange: Callback<String>,
    /// "number" or "text".
    #[prop_or(AttrValue::Static("number"))]
    pub kind: AttrValue,
    #[prop_or_default]
    pub step: Option<AttrValue>,
    #[prop_or_default]
    pub min: Option<AttrValue>,
    #[prop_or_default]
    pub max: Option<AttrValue>,
    #[prop_or_default]
    pub disabled: bool,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    /// A message about the value (shown as an alert beside the field).
    #[prop_or_default]
    pub error: Option<String>,
    /// Marks the live-editable setting.
    #[prop_or_default]
    pub live: bool,
}

#[component]
pub fn InputField(p: &InputProps) -> Html {
    let onchange = {
        let cb = p.onchange.clone();
        Callback::from(move |e: Event| cb.emit(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let hint_id = format!("{}-hint", p.id);
    html! {
        <div class={classes!("field", p.live.then_some("live"))}>
            <label for={p.id.clone()}>
                {p.label.clone()}
                if p.live { <span class="badge" title="Takes effect immediately, even while training">{"live"}</span> }
            </label>
            <input id={p.id.clone()} type={p.kind.clone()} value={p.value.clone()} {onchange}
                step={p.step.clone()} min={p.min.clone()} max={p.max.clone()} disabled={p.disabled}
                inputmode={(p.kind == "number").then_some("decimal")}
                aria-invalid={p.error.is_some().then_some("true")}
                aria-describedby={p.hint.as_ref().map(|_| hint_id.clone())} />
            if let Some(h) = &p.hint { <p class="hint" id={hint_id}>{h.clone()}</p> }
            if let Some(e) = &p.error { <p class="error" role="alert">{e.clone()}</p> }
        </div>
    }
}

/// Format a setting for an input box without float noise (0.0005, not 0.00050000001).
pub fn num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = format!("{v}");
    if s.len() <= 10 {
        s
    } else {
        format!("{v:e}")
    }
}
