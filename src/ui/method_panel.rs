//! Method: the picker (from `config::METHODS`) and each method's main settings. The
//! method's rate (its registry row's `rate`) is live; every other change asks for a
//! restart.

use yew::prelude::*;

use super::context::SettingsCtx as Ctx;
use super::controls::{num, InputField, SelectField};
use super::state::Action;
use super::text::method_info;
use crate::config::{FitConfig, Keeps, Method, Units};

type Setter = fn(&mut FitConfig, f64);

struct NumSetting {
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    get: fn(&FitConfig) -> f64,
    set: Setter,
    step: &'static str,
    /// Shown as a percentage.
    percent: bool,
}

fn settings_for(method: Method) -> Vec<NumSetting> {
    let mut v = Vec::new();
    if method.spec().units == Units::Steps {
        v.push(NumSetting {
            id: "steps",
            label: "Steps",
            hint: "gradient steps per chain, warm start included",
            get: |c| c.inference.steps as f64,
            set: |c, x| c.inference.steps = x.round().max(0.0) as usize,
            step: "1000",
            percent: false,
        });
    }
    v.extend(method.spec().settings.iter().filter_map(|id| own_setting(method, id)));
    let q = method.spec().keeps == Keeps::SamplesFromQ;
    v.push(NumSetting {
        id: "draws",
        label: if q { "Draws" } else { "Draws kept / chain" },
        hint: match (q, method.spec().units) {
            (true, _) => "samples of q for the bands",
            (false, Units::Draws) => "every draw after the warm-up",
            (false, Units::Steps) => "thinning: evenly spaced after burn-in",
        },
        get: |c| c.inference.draws as f64,
        set: |c, x| c.inference.draws = x.round().max(0.0) as usize,
        step: "10",
        percent: false,
    });
    v.push(NumSetting {
        id: "chains",
        label: "Chains",
        hint: "independent runs, pooled",
        get: |c| c.inference.chains as f64,
        set: |c, x| c.inference.chains = x.round().max(0.0) as usize,
        step: "1",
        percent: false,
    });
    v.push(NumSetting {
        id: "seed",
        label: "Seed",
        hint: "same seed, same result",
        get: |c| c.inference.seed as f64,
        set: |c, x| c.inference.seed = x.round().max(0.0) as u64,
        step: "1",
        percent: false,
    });
    v
}

/// The field of the running method's live rate (VI's learning rate, a sampler's step
/// size): it reads and writes whichever setting the method's registry row names.
fn rate_field(id: &'static str, label: &'static str, method: Method) -> NumSetting {
    NumSetting {
        id,
        label,
        hint: method.spec().rate_hint,
        get: |c| c.inference.method.spec().rate.as_ref().map_or(0.0, |r| (r.get)(&c.inference)),
        set: |c, x| {
            if let Some(r) = &c.inference.method.spec().rate {
                (r.set)(&mut c.inference, x)
            }
        },
        step: "any",
        percent: false,
    }
}

/// A method's own setting by its field id (the ids a registry row's `settings` lists).
fn own_setting(method: Method, id: &str) -> Option<NumSetting> {
    Some(match id {
        "learning-rate" => rate_field("learning-rate", "Learning rate", method),
        "kl-weight" => NumSetting {
            id: "kl-weight",
            label: "KL weight",
            hint: "below 1 the posterior is tempered (narrower than Bayes)",
            get: |c| c.inference.kl_weight,
            set: |c, x| c.inference.kl_weight = x,
            step: "0.05",
            percent: false,
        },
        "step-size" => rate_field("step-size", "Step size", method),
        "burn-in" => NumSetting {
            id: "burn-in",
            label: "Burn-in (%)",
            hint: "of the sampling budget, discarded",
            get: |c| c.inference.burn_in_frac,
            set: |c, x| c.inference.burn_in_frac = x,
            step: "5",
            percent: true,
        },
        "warmup" => NumSetting {
            id: "warmup",
            label: "Warm-up draws / chain",
            hint: "step size and mass matrix adapt; not kept",
            get: |c| c.inference.warmup as f64,
            set: |c, x| c.inference.warmup = x.round().max(0.0) as usize,
            step: "100",
            percent: false,
        },
        "target-accept" => NumSetting {
            id: "target-accept",
            label: "Target acceptance",
            hint: "higher: smaller steps, fewer divergences, slower",
            get: |c| c.inference.target_accept,
            set: |c, x| c.inference.target_accept = x,
            step: "0.05",
            percent: false,
        },
        "max-depth" => NumSetting {
            id: "max-depth",
            label: "Max tree depth",
            hint: "at most 2^depth − 1 gradients per draw",
            get: |c| c.inference.max_depth as f64,
            set: |c, x| c.inference.max_depth = x.round().max(0.0) as usize,
            step: "1",
            percent: false,
        },
        _ => return None,
    })
}

fn advanced() -> Vec<NumSetting> {
    vec![
        NumSetting {
            id: "warm-start",
            label: "Warm start (%)",
            hint: "Adam on the log posterior first (clamped to 2000 steps … 40%)",
            get: |c| c.inference.warm_start_frac,
            set: |c, x| c.inference.warm_start_frac = x,
            step: "5",
            percent: true,
        },
        NumSetting {
            id: "warm-start-lr",
            label: "Warm-start learning rate",
            hint: "Adam",
            get: |c| c.inference.warm_start_lr,
            set: |c, x| c.inference.warm_start_lr = x,
            step: "any",
            percent: false,
        },
        NumSetting {
            id: "cycles",
            label: "Step-size cycles",
            hint: "cyclical SG-MCMC; 0 = constant",
            get: |c| c.inference.cycles as f64,
            set: |c, x| c.inference.cycles = x.round().max(0.0) as usize,
            step: "1",
            percent: false,
        },
        NumSetting {
            id: "beta-nll",
            label: "β-NLL",
            hint: "two-head only; 0 = plain likelihood",
            get: |c| c.inference.beta_nll,
            set: |c, x| c.inference.beta_nll = x,
            step: "0.1",
            percent: false,
        },
    ]
}

#[component]
pub fn MethodPanel() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let open = *use_memo((), |_| !super::browser::is_narrow());
    let errors = use_state(std::collections::HashMap::<&'static str, String>::new);
    let s = ctx.state.borrow();
    let c = s.settings.config.clone();
    let method = c.inference.method;

    let field = |n: NumSetting| {
        let d = ctx.dispatch.clone();
        let state = ctx.state.clone();
        let field_error = errors.get(n.id).cloned();
        let errors = errors.clone();
        let (id, set, get, percent, label) = (n.id, n.set, n.get, n.percent, n.label);
        let onchange = Callback::from(move |v: String| {
            let mut map = (*errors).clone();
            let parsed = v.trim().parse::<f64>().ok().filter(|x| x.is_finite());
            let mut c = state.borrow().settings.config.clone();
            match parsed {
                // A count given as a negative or fractional number: say so with the number typed.
                Some(x) if (x < 0.0 || x.fract() != 0.0) && { let mut t = c.clone(); set(&mut t, x); get(&t) != x } && !percent => {
                    map.insert(id, format!("{label} must be a whole number, 0 or more (got {}).", v.trim()));
                }
                Some(x) => {
                    set(&mut c, if percent { x / 100.0 } else { x });
                    match c.validate() {
                        Ok(()) => {
                            map.remove(id);
                            d.emit(Action::SetConfig(c));
                        }
                        Err(e) => {
                            map.insert(id, format!("{e}."));
                        }
                    }
                }
                None => {
                    map.insert(id, format!("Enter a number (got '{v}')."));
                }
            }
            errors.set(map);
        });
        let value = (n.get)(&c);
        let value = if percent { num((value * 1e6).round() / 1e4) } else { num(value) };
        let live = method.spec().rate.is_some_and(|r| n.id == r.field);
        html! {
            <InputField id={n.id} label={n.label} value={value} onchange={onchange} step={n.step} min="0"
                hint={AttrValue::from(n.hint)} error={field_error} live={live} />
        }
    };

    let d = ctx.dispatch.clone();
    let state = ctx.state.clone();
    let on_method = Callback::from(move |v: String| {
        let mut c = state.borrow().settings.config.clone();
        if let Some(m) = Method::from_name(&v) {
            // Draws left at the old method's default follow the new method's (NUTS: 200).
            if c.inference.draws == c.inference.method.spec().default_draws {
                c.inference.draws = m.spec().default_draws;
            }
            c.inference.method = m;
            d.emit(Action::SetConfig(c));
        }
    });
    // A checkbox's callback: `set` the setting to its state and apply the settings.
    let checkbox = |set: fn(&mut FitConfig, bool)| {
        let (d, state) = (ctx.dispatch.clone(), ctx.state.clone());
        Callback::from(move |e: Event| {
            let on = e.target_unchecked_into::<web_sys::HtmlInputElement>().checked();
            let mut c = state.borrow().settings.config.clone();
            set(&mut c, on);
            d.emit(Action::SetConfig(c));
        })
    };
    let on_warmup = checkbox(|c, on| c.inference.mean_warmup = on);
    let on_extend = checkbox(|c, on| c.inference.extend = on);

    let method_options: Vec<(String, String)> =
        Method::ALL.iter().map(|m| (m.name().to_string(), method_info(*m).0.to_string())).collect();
    let tempered = (method.spec().tempered)(&c.inference);

    html! {
        <details class="panel" {open}>
            <summary><h2>{"Method"}</h2></summary>
            <SelectField id="method" label="Method" value={method.name()} options={method_options} onchange={on_method}
                hint={AttrValue::from(method_info(method).1)} />
            <div class="grid2">
                { for settings_for(method).into_iter().map(field) }
            </div>
            if method.spec().extends {
                <div class="field check">
                    <input id="extend" type="checkbox" checked={c.inference.extend} onchange={on_extend}
                        aria-describedby="extend-hint" />
                    <label for="extend">{"Draw more while the chains disagree"}</label>
                </div>
                <p id="extend-hint" class="hint">{format!(
                    "half the draws again at a time, up to {} gradients per chain (up to 1.5 times that on fewer than 150 points); a note says why it stopped",
                    super::status::thousands(c.inference.extend_gradients)
                )}</p>
            }
            if let Some(w) = tempered {
                <p class="hint warn">{format!("Tempered VI: the KL term is weighted {} (1 = exact Bayes), which keeps mean-field VI from collapsing to the prior but makes its bands narrower than a true posterior.", num(w))}</p>
            }
            <details class="advanced">
                <summary>{"Advanced"}</summary>
                <div class="grid2">
                    { for advanced().into_iter().map(field) }
                </div>
                <div class="field check">
                    <input id="mean-warmup" type="checkbox" checked={c.inference.mean_warmup} onchange={on_warmup} />
                    <label for="mean-warmup">{"Mean-only warm-up (fit the mean before the noise)"}</label>
                </div>
            </details>
        </details>
    }
}
