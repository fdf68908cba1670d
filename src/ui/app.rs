//! The page: owns the [`AppState`], the bridge to the fitting worker, the keyboard
//! shortcuts, and saving settings to the URL and local storage.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_agent::reactor::{use_reactor_bridge, ReactorEvent, ReactorProvider};
use yew_agent::Reach;

use super::browser;
use super::compare_panel::{ComparePanel, ScenarioCard};
use super::context::{Ctx, SettingsCtx};
use super::data_panel::DataPanel;
use super::exports::Exports;
use super::help::Help;
use super::method_panel::MethodPanel;
use super::model_panel::ModelPanel;
use super::plots::Plots;
use super::run_controls::RunControls;
use super::state::{Action, AppState, RunStatus};
use super::status::{Alerts, FontWarmUp, Results, Status};
use crate::protocol::FromWorker;
use crate::worker::clock::now_ms;
use crate::worker::codec::PANIC_EVENT;
use crate::worker::{FitReactor, JsCodec};

/// At load, when settings saved in this browser came back: what, and the way back.
#[component]
fn Restored() -> Html {
    let ctx = use_context::<SettingsCtx>().expect("context");
    let s = ctx.state.borrow();
    let Some(text) = s.restored.clone() else { return html! {} };
    html! {
        <section class="restored" aria-label="Restored settings">
            <p>{text}</p>
            <div class="buttons">
                <button type="button" class="primary" onclick={ctx.dispatcher(Action::RestoreDefaults)}>{"Restore defaults"}</button>
                <button type="button" onclick={ctx.dispatcher(Action::DismissRestored)}>{"Keep them"}</button>
            </div>
        </section>
    }
}

#[component]
pub fn Root() -> Html {
    let path = use_memo((), |_| browser::worker_url());
    html! {
        <ReactorProvider<FitReactor, JsCodec> path={AttrValue::from((*path).clone())} reach={Reach::Private}>
            <App />
        </ReactorProvider<FitReactor, JsCodec>>
    }
}

struct Timing {
    train_at: Option<f64>,
    first_plot_ms: Option<f64>,
}

#[component]
fn App() -> Html {
    let state = use_mut_ref(|| {
        let (s, problem) = AppState::load(browser::load_saved().as_deref(), &browser::location_query());
        let mut s = s;
        s.alert = problem;
        s
    });
    let version = use_mut_ref(|| 0u64);
    let timing = use_mut_ref(|| Timing { train_at: None, first_plot_ms: None });
    let rerender = use_force_update();

    let bridge = {
        let state = state.clone();
        let version = version.clone();
        let timing = timing.clone();
        let rerender = rerender.clone();
        use_reactor_bridge::<FitReactor, _>(move |event| {
            if let ReactorEvent::Output(msg) = event {
                let first = matches!(msg, FromWorker::Snapshot(_) | FromWorker::Finished(_));
                let run = msg.run();
                let mut s = state.borrow_mut();
                s.apply(Action::Worker(msg));
                if first && run == s.run {
                    let mut t = timing.borrow_mut();
                    if let (Some(t0), None) = (t.train_at, t.first_plot_ms) {
                        t.first_plot_ms = Some(now_ms() - t0);
                    }
                }
                drop(s);
                *version.borrow_mut() += 1;
                rerender.force_update();
            }
        })
    };

    // The bridge changes when a crashed worker is replaced; dispatch always uses the
    // current one, so dispatch itself can stay the same callback for the page's life.
    let bridge_ref = use_mut_ref(|| bridge.clone());
    *bridge_ref.borrow_mut() = bridge.clone();
    let settings_version = use_mut_ref(|| 0u64);

    let dispatch = {
        let state = state.clone();
        let version = version.clone();
        let settings_version = settings_version.clone();
        let timing = timing.clone();
        let bridge_ref = bridge_ref.clone();
        let rerender = rerender.clone();
        (*use_memo((), move |_| {
            Callback::from(move |action: Action| {
                let starts = matches!(action, Action::Train | Action::Step);
                let mut s = state.borrow_mut();
                let before = (s.settings.clone(), s.data.clone(), s.scenario.map(|x| x.scenario.id));
                let run_before = s.run;
                let msgs = s.apply(action);
                if starts && s.run != run_before {
                    *timing.borrow_mut() = Timing { train_at: Some(now_ms()), first_plot_ms: None };
                }
                if before.0 != s.settings || before.1 != s.data || before.2 != s.scenario.map(|x| x.scenario.id) {
                    browser::save(&s.saved());
                    browser::replace_query(&s.query());
                }
                drop(s);
                let bridge = bridge_ref.borrow().clone();
                for m in msgs {
                    bridge.send(m);
                }
                *version.borrow_mut() += 1;
                *settings_version.borrow_mut() += 1;
                rerender.force_update();
            })
        }))
        .clone()
    };

    // Listeners installed once call whatever dispatch is current.
    let latest = use_mut_ref(|| dispatch.clone());
    *latest.borrow_mut() = dispatch.clone();

    // Keep the address bar in step with the settings from the start.
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            let s = state.borrow();
            browser::replace_query(&s.query());
            browser::save(&s.saved());
        });
    }

    // A worker panic: say so, and start a fresh worker so Train works again.
    {
        let latest = latest.clone();
        let bridge = bridge.clone();
        use_effect_with((), move |_| {
            let cb = Closure::<dyn Fn(web_sys::CustomEvent)>::new(move |ev: web_sys::CustomEvent| {
                let message = ev.detail().as_string().unwrap_or_else(|| "unknown error".into());
                bridge.reset();
                let d = latest.borrow().clone();
                d.emit(Action::WorkerCrashed(message));
            });
            let w = browser::window();
            let _ = w.add_event_listener_with_callback(PANIC_EVENT, cb.as_ref().unchecked_ref());
            move || {
                let _ = w.remove_event_listener_with_callback(PANIC_EVENT, cb.as_ref().unchecked_ref());
            }
        });
    }

    // Test hook for the browser tests: `window.bayesbandTestPanic()` crashes the worker.
    {
        let latest = latest.clone();
        use_effect_with((), move |_| {
            let cb = Closure::<dyn Fn()>::new(move || {
                let d = latest.borrow().clone();
                d.emit(Action::TestPanic);
            });
            let _ = js_sys::Reflect::set(&browser::window(), &"bayesbandTestPanic".into(), cb.as_ref());
            move || drop(cb)
        });
    }

    // Keyboard: Space = pause/resume (Train when idle), S = step, R = reset, wherever
    // the focus is (a button just clicked included: Space must not "click" Train again
    // and restart the fit), except in form fields, where keys type or choose.
    {
        let latest = latest.clone();
        let state = state.clone();
        use_effect_with((), move |_| {
            let in_field = |ev: &KeyboardEvent| -> bool {
                ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|el| {
                    let tag = el.tag_name().to_ascii_lowercase();
                    matches!(tag.as_str(), "input" | "textarea" | "select")
                        || el.closest("[contenteditable]").ok().flatten().is_some()
                })
            };
            let cb = Closure::<dyn Fn(KeyboardEvent)>::new(move |ev: KeyboardEvent| {
                if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || in_field(&ev) {
                    return;
                }
                let action = match ev.key().as_str() {
                    " " | "Spacebar" => {
                        let status = state.borrow().status;
                        if matches!(status, RunStatus::Running | RunStatus::Paused) {
                            Action::TogglePause
                        } else {
                            Action::Train
                        }
                    }
                    "s" | "S" => Action::Step,
                    "r" | "R" => Action::Reset,
                    _ => return,
                };
                // Also keeps a focused button from being clicked by this key.
                ev.prevent_default();
                let d = latest.borrow().clone();
                d.emit(action);
            });
            // A button is activated by Space on key-up: that is the shortcut's key too.
            let up = Closure::<dyn Fn(KeyboardEvent)>::new(move |ev: KeyboardEvent| {
                if matches!(ev.key().as_str(), " " | "Spacebar") && !(ev.ctrl_key() || ev.meta_key() || ev.alt_key() || in_field(&ev)) {
                    ev.prevent_default();
                }
            });
            let doc = browser::document();
            let _ = doc.add_event_listener_with_callback("keydown", cb.as_ref().unchecked_ref());
            let _ = doc.add_event_listener_with_callback("keyup", up.as_ref().unchecked_ref());
            move || {
                let _ = doc.remove_event_listener_with_callback("keydown", cb.as_ref().unchecked_ref());
                let _ = doc.remove_event_listener_with_callback("keyup", up.as_ref().unchecked_ref());
            }
        });
    }

    let settings_ctx = SettingsCtx { state: state.clone(), dispatch: dispatch.clone(), version: *settings_version.borrow() };
    let restore = settings_ctx.dispatcher(Action::RestoreDefaults);
    let ctx = Ctx { state: state.clone(), dispatch, version: *version.borrow(), first_plot_ms: timing.borrow().first_plot_ms };

    html! {
        <ContextProvider<Ctx> context={ctx}>
        <ContextProvider<SettingsCtx> context={settings_ctx}>
            <div class="app">
                <header class="topbar">
                    <div class="brand">
                        <svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
                            <path d="M2 22 C8 20 10 6 16 9 S24 24 30 10 L30 18 C24 30 18 16 16 17 S8 26 2 28 Z" fill="#56B4E9" fill-opacity="0.5"/>
                            <path d="M2 25 C8 23 10 10 16 13 S24 27 30 14" fill="none" stroke="#0072B2" stroke-width="2.5" stroke-linecap="round"/>
                        </svg>
                        <div>
                            <h1>{"BayesBand"}</h1>
                            <p class="tagline">{"Bayesian neural networks for 1-D data: watch epistemic and aleatoric uncertainty form, live, in your browser."}</p>
                        </div>
                    </div>
                    <a class="help-link" href="#help">{"What am I looking at?"}</a>
                </header>
                <main class="layout">
                    <Restored />
                    <section class="view" aria-label="Fit">
                        <RunControls />
                        <ScenarioCard />
                        <Alerts />
                        <Status />
                        <Plots />
                        <ComparePanel />
                        <Results />
                        <Exports />
                    </section>
                    <aside class="controls" aria-label="Settings">
                        <div class="settings-head">
                            <button type="button" onclick={restore}
                                title="Data, model and method back to those of a first visit">{"Restore defaults"}</button>
                        </div>
                        <DataPanel />
                        <ModelPanel />
                        <MethodPanel />
                    </aside>
                </main>
                <Help />
                <FontWarmUp />
                <footer class="footer">
                    {"BayesBand runs entirely in this page: your data never leave your computer. "}
                    {"Keys: Space = pause/resume, S = step, R = reset."}
                </footer>
            </div>
        </ContextProvider<SettingsCtx>>
        </ContextProvider<Ctx>>
    }
}
