//! The page: owns the [`AppState`], the fitting workers (one per chain up to the
//! cores, see [`super::chains`]), the keyboard shortcuts, and saving settings to the
//! URL and local storage.

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::{abortable, AbortHandle};
use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::platform::pinned::RwLock;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_agent::reactor::{ReactorBridge, ReactorSpawner};

use super::browser;
use super::chains::{worker_count, Conductor, Out};
use super::compare_panel::{ComparePanel, ScenarioCard};
use super::context::{Ctx, SettingsCtx};
use super::data_panel::DataPanel;
use super::explore_panel::ExplorePanel;
use super::exports::Exports;
use super::help::Help;
use super::method_panel::MethodPanel;
use super::model_panel::ModelPanel;
use super::plots::Plots;
use super::run_controls::RunControls;
use super::state::{Action, AppState, RunStatus};
use super::status::{Alerts, FontWarmUp, Results, Status};
use crate::protocol::{FromChains, FromWorker, ToChains};
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
    html! { <App /> }
}

type Tx = Rc<RwLock<SplitSink<ReactorBridge<FitReactor>, ToChains>>>;
type OnPost = Rc<dyn Fn(usize, FromChains)>;

/// The page's fitting workers, spawned as fits need them (a fit of K chains uses
/// min(K, W) of the W = max(2, cores) the conductor allows) and replaced after a crash.
/// What worker `w` posts goes to `on_post(w, ..)`.
struct Workers {
    url: String,
    slots: Vec<(Tx, AbortHandle)>,
    on_post: Option<OnPost>,
}

impl Workers {
    fn ensure(&mut self, n: usize) {
        let Some(on_post) = self.on_post.clone() else { return };
        while self.slots.len() < n {
            let w = self.slots.len();
            let bridge = ReactorSpawner::<FitReactor>::new().as_module(false).encoding::<JsCodec>().spawn(&self.url);
            let (tx, mut rx) = bridge.split();
            let on_post = on_post.clone();
            let (task, abort) = abortable(async move {
                while let Some(m) = rx.next().await {
                    on_post(w, m);
                }
            });
            spawn_local(async move {
                let _ = task.await;
            });
            self.slots.push((Rc::new(RwLock::new(tx)), abort));
        }
    }

    fn send(&mut self, w: usize, msg: ToChains) {
        self.ensure(w + 1);
        let Some((tx, _)) = self.slots.get(w) else { return };
        let tx = tx.clone();
        spawn_local(async move {
            let _ = tx.write().await.send(msg).await;
        });
    }

    /// Stop and drop every worker (each closes when its bridge goes); the next
    /// `ensure` spawns fresh ones.
    fn drop_all(&mut self) {
        for w in 0..self.slots.len() {
            self.send(w, ToChains::Stop);
        }
        for (_, abort) in self.slots.drain(..) {
            abort.abort();
        }
    }
}

/// Write what the link and local storage hold (the state changed it).
fn persist(s: &AppState) {
    browser::save(&s.saved());
    browser::replace_query(&s.query());
}

/// The state's messages for the fit, split by the conductor over the workers.
fn post(conductor: &RefCell<Conductor>, workers: &RefCell<Workers>, msgs: Vec<crate::protocol::ToWorker>) {
    for m in msgs {
        for (w, m) in conductor.borrow_mut().send(m) {
            workers.borrow_mut().send(w, m);
        }
    }
}

/// Workers the browser's cores allow (`navigator.hardwareConcurrency`, at least 2), or
/// `window.bayesbandWorkers` when a benchmark set it before the page loaded (1 runs
/// every chain on one worker, as before issue 11).
fn page_workers() -> usize {
    let forced = js_sys::Reflect::get(&browser::window(), &"bayesbandWorkers".into()).ok().and_then(|v| v.as_f64());
    if let Some(n) = forced.filter(|n| n.is_finite() && *n >= 1.0) {
        return (n as usize).min(crate::config::MAX_CHAINS);
    }
    let cores = web_sys::window().map(|w| w.navigator().hardware_concurrency()).filter(|c| c.is_finite() && *c >= 1.0);
    worker_count(cores.map(|c| c as usize), crate::config::MAX_CHAINS)
}

/// Main-thread cost of pooling the workers' posts (for benches/browser.mjs, through
/// `window.bayesbandPoolStats()`).
#[derive(Default)]
struct PoolStats {
    posts: usize,
    frames: usize,
    ms: f64,
    max_ms: f64,
    /// Numbers in the posts' predictions (mu and sigma per grid x, theta).
    values: usize,
    /// Posts from each worker.
    per_worker: Vec<usize>,
}

thread_local! {
    static POOL_STATS: RefCell<PoolStats> = RefCell::default();
}

fn values_in(msg: &FromChains) -> usize {
    let FromChains::Posts(f) = msg else { return 0 };
    let n = |d: &crate::summary::bands::DrawPrediction| d.mu.len() + d.sigma.len() + d.theta.len();
    f.posts.iter().map(|p| p.kept.iter().chain(&p.live).chain(p.eval.iter().flatten()).map(n).sum::<usize>()).sum()
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

    // Bumped when the settings or the data change (the settings panels re-render then).
    let settings_version = use_mut_ref(|| 0u64);
    let conductor = use_mut_ref(|| Conductor::new(page_workers()));
    let workers = use_mut_ref(|| Workers { url: browser::worker_url(), slots: Vec::new(), on_post: None });
    if workers.borrow().on_post.is_none() {
        let state = state.clone();
        let version = version.clone();
        let timing = timing.clone();
        let rerender = rerender.clone();
        let conductor = conductor.clone();
        let workers_ref = workers.clone();
        let settings_version = settings_version.clone();
        let on_post: OnPost = Rc::new(move |w: usize, msg: FromChains| {
            let values = values_in(&msg);
            let t0 = now_ms();
            let outs = conductor.borrow_mut().receive(w, msg);
            let ms = now_ms() - t0;
            let frames = outs.iter().filter(|o| matches!(o, Out::Page(FromWorker::Snapshot(_) | FromWorker::Finished(_)))).count();
            POOL_STATS.with(|s| {
                let mut s = s.borrow_mut();
                s.posts += 1;
                if s.per_worker.len() <= w {
                    s.per_worker.resize(w + 1, 0);
                }
                s.per_worker[w] += 1;
                s.frames += frames;
                s.ms += ms;
                s.max_ms = s.max_ms.max(ms);
                s.values += values;
            });
            let mut shown = false;
            for o in outs {
                match o {
                    Out::Worker(v, m) => workers_ref.borrow_mut().send(v, m),
                    Out::Page(msg) => {
                        let first = matches!(msg, FromWorker::Snapshot(_) | FromWorker::Finished(_));
                        let run = msg.run();
                        let mut s = state.borrow_mut();
                        let before = s.link_state();
                        // A finished fit may start the next (Auto's rounds).
                        let next = s.apply(Action::Worker(msg));
                        if first && run == s.run {
                            let mut t = timing.borrow_mut();
                            if let (Some(t0), None) = (t.train_at, t.first_plot_ms) {
                                t.first_plot_ms = Some(now_ms() - t0);
                            }
                        }
                        if s.link_state() != before {
                            persist(&s);
                            *settings_version.borrow_mut() += 1;
                        }
                        drop(s);
                        post(&conductor, &workers_ref, next);
                        shown = true;
                    }
                }
            }
            if shown {
                *version.borrow_mut() += 1;
                rerender.force_update();
            }
        });
        workers.borrow_mut().on_post = Some(on_post);
    }

    let dispatch = {
        let state = state.clone();
        let version = version.clone();
        let settings_version = settings_version.clone();
        let timing = timing.clone();
        let conductor = conductor.clone();
        let workers = workers.clone();
        let rerender = rerender.clone();
        (*use_memo((), move |_| {
            Callback::from(move |action: Action| {
                let starts = matches!(action, Action::Train | Action::Step);
                let mut s = state.borrow_mut();
                let before = s.link_state();
                let run_before = s.run;
                let msgs = s.apply(action);
                if starts && s.run != run_before {
                    *timing.borrow_mut() = Timing { train_at: Some(now_ms()), first_plot_ms: None };
                }
                if before != s.link_state() {
                    persist(&s);
                }
                drop(s);
                post(&conductor, &workers, msgs);
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
            persist(&state.borrow());
        });
    }

    // Workers for the fit the settings describe, spawned at load so they rehearse
    // (see the worker's reactor) while the user reads the page.
    let spawn_for_settings = {
        let state = state.clone();
        let conductor = conductor.clone();
        let workers = workers.clone();
        move || {
            let n = conductor.borrow().workers_for(state.borrow().settings.config.inference.chains);
            workers.borrow_mut().ensure(n);
        }
    };
    {
        let spawn = spawn_for_settings.clone();
        use_effect_with((), move |_| spawn());
    }

    // A worker panic: say so, and start fresh workers so Train works again (the
    // others stop: their chains belonged to the crashed fit).
    {
        let latest = latest.clone();
        let conductor = conductor.clone();
        let workers = workers.clone();
        use_effect_with((), move |_| {
            let cb = Closure::<dyn Fn(web_sys::CustomEvent)>::new(move |ev: web_sys::CustomEvent| {
                let message = ev.detail().as_string().unwrap_or_else(|| "unknown error".into());
                workers.borrow_mut().drop_all();
                conductor.borrow_mut().reset();
                spawn_for_settings();
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

    // For benches/browser.mjs and the browser tests: `window.bayesbandPoolStats()` gives
    // the main thread's pooling cost and the posts' size so far, as JSON
    // `{workers, posts, frames, ms, maxMs, values, perWorker}`.
    {
        let workers = workers.clone();
        use_effect_with((), move |_| {
            let cb = Closure::<dyn Fn() -> String>::new(move || {
                let n = workers.borrow().slots.len();
                POOL_STATS.with(|s| {
                    let s = s.borrow();
                    format!(
                        r#"{{"workers":{n},"posts":{},"frames":{},"ms":{},"maxMs":{},"values":{},"perWorker":{:?}}}"#,
                        s.posts, s.frames, s.ms, s.max_ms, s.values, s.per_worker
                    )
                })
            });
            let _ = js_sys::Reflect::set(&browser::window(), &"bayesbandPoolStats".into(), cb.as_ref());
            move || drop(cb)
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
                        <ExplorePanel />
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
