//! Downloads (predictions CSV, PNG, SVG, project JSON), "Copy link", "Open project".

use plotters::prelude::*;
use super::plots::Canvas;
use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, HtmlInputElement};
use yew::prelude::*;

use super::context::Ctx;
use super::browser;
use super::plots::{compare_views, draw, view_of};
use super::state::{predictions_csv, Action, DataControl};

/// Size of the PNG / SVG figure (CSS pixels; the PNG is drawn at 2x).
const FIGURE: (u32, u32) = (1200, 1000);

/// The download's figure: the fit's three plots, or both fits of a comparison.
fn figure<DB: DrawingBackend>(root: &DrawingArea<DB, plotters::coord::Shift>, state: &super::state::AppState, scale: f64) -> Option<()>
where
    DB::ErrorType: 'static,
{
    match compare_views(state, scale) {
        Some((a, b)) => {
            let overlay = state.compare.as_ref().is_some_and(|c| c.layout == super::compare::Layout::Overlay);
            draw::draw_compare_all(root, &a, &b, overlay).ok()
        }
        None => draw::draw_all(root, &view_of(state, scale)).ok(),
    }
}

fn png_of(state: &super::state::AppState) -> Option<String> {
    let canvas: HtmlCanvasElement = browser::document().create_element("canvas").ok()?.unchecked_into();
    let scale = 2.0;
    canvas.set_width(FIGURE.0 * 2);
    canvas.set_height(FIGURE.1 * 2);
    let root = Canvas::new(canvas.clone())?.into_drawing_area();
    figure(&root, state, scale)?;
    root.present().ok()?;
    canvas.to_data_url_with_type("image/png").ok()
}

fn svg_of(state: &super::state::AppState) -> Option<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, FIGURE).into_drawing_area();
        figure(&root, state, 1.0)?;
        root.present().ok()?;
    }
    Some(out)
}

#[component]
pub fn Exports() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let link = use_state(|| None::<String>);
    // "Copied" (or why not) beside the button, in a live region, for a few seconds.
    let copied = use_state(|| None::<&'static str>);
    let copied_timer = use_mut_ref(|| None::<gloo_timers::callback::Timeout>);
    let s = ctx.state.borrow();
    let has_fit = s.frame.is_some();
    let custom = !s.settings.source.fits_in_url();

    let st = ctx.state.clone();
    let on_csv = Callback::from(move |_| {
        let s = st.borrow();
        if let Some(f) = &s.frame {
            let name = if s.compare.is_some() { "bayesband-predictions-b.csv" } else { "bayesband-predictions.csv" };
            browser::download_bytes(name, "text/csv", predictions_csv(&f.snapshot.summary).as_bytes());
        }
    });
    let st = ctx.state.clone();
    let on_csv_a = Callback::from(move |_| {
        if let Some(c) = &st.borrow().compare {
            browser::download_bytes("bayesband-predictions-a.csv", "text/csv", predictions_csv(&c.a.frame.snapshot.summary).as_bytes());
        }
    });
    let comparing = s.compare.is_some();
    let st = ctx.state.clone();
    let on_png = Callback::from(move |_| {
        if let Some(url) = png_of(&st.borrow()) {
            browser::download_url("bayesband.png", &url);
        }
    });
    let st = ctx.state.clone();
    let on_svg = Callback::from(move |_| {
        if let Some(svg) = svg_of(&st.borrow()) {
            browser::download_bytes("bayesband.svg", "image/svg+xml", svg.as_bytes());
        }
    });
    let st = ctx.state.clone();
    let on_project = Callback::from(move |_| {
        browser::download_bytes("bayesband-project.json", "application/json", st.borrow().project_json().as_bytes());
    });
    let on_copy = {
        let link = link.clone();
        let copied = copied.clone();
        let copied_timer = copied_timer.clone();
        Callback::from(move |_| {
            let url = browser::current_url();
            link.set(Some(url.clone()));
            copied.set(None);
            let (copied, copied_timer) = (copied.clone(), copied_timer.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let ok = browser::copy_text(&url).await;
                copied.set(Some(if ok { "Copied" } else { "Could not copy: select the link below and copy it" }));
                let c = copied.clone();
                *copied_timer.borrow_mut() = Some(gloo_timers::callback::Timeout::new(5000, move || c.set(None)));
            });
        })
    };
    let d = ctx.dispatch.clone();
    let on_open = Callback::from(move |e: Event| {
        let input: HtmlInputElement = e.target_unchecked_into();
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        let d = d.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match browser::read_file(file).await {
                Ok(text) => d.emit(Action::OpenProject(text)),
                Err(message) => d.emit(Action::DataError { control: DataControl::Project, message }),
            }
        });
    });
    let project_error = match &s.data_error {
        Some((DataControl::Project, m)) => html! { <p class="error" role="alert">{m.clone()}</p> },
        _ => html! {},
    };

    html! {
        <section class="card exports" aria-labelledby="exports-h">
            <h3 id="exports-h">{"Save and share"}</h3>
            <div class="buttons">
                <button type="button" onclick={on_csv} disabled={!has_fit}>{"Download predictions (CSV)"}</button>
                if comparing {
                    <button type="button" onclick={on_csv_a}>{"Download predictions of fit A (CSV)"}</button>
                }
                <button type="button" onclick={on_png}>{"Download PNG"}</button>
                <button type="button" onclick={on_svg}>{"Download SVG"}</button>
                <button type="button" onclick={on_copy} aria-describedby="copied">{"Copy link"}</button>
                <span id="copied" class="copied" aria-live="polite">{copied.unwrap_or_default()}</span>
                <button type="button" onclick={on_project}>{"Download project (JSON)"}</button>
            </div>
            if custom {
                <p class="hint warn">{"Your uploaded or hand-edited data do not fit in a link: the link carries the settings only. Use “Download project (JSON)” to share the data too."}</p>
            }
            if let Some(url) = &*link {
                <div class="field">
                    <label for="link">{"Link to these settings"}</label>
                    <input id="link" type="url" readonly=true value={url.clone()} onfocus={Callback::from(|e: FocusEvent| {
                        if let Some(i) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) { i.select(); }
                    })} />
                </div>
            }
            <div class="field">
                <label for="open-project">{"Open project"}</label>
                <input id="open-project" type="file" accept=".json,application/json" onchange={on_open} />
                { project_error }
            </div>
        </section>
    }
}
