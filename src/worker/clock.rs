//! Milliseconds from the browser's monotonic clock. `std::time::Instant` panics on
//! wasm32-unknown-unknown, so the worker (and the UI) read `performance.now()`,
//! which exists on both the window and worker global scopes.

use wasm_bindgen::JsCast;

thread_local! {
    static PERFORMANCE: Option<web_sys::Performance> =
        js_sys::Reflect::get(&js_sys::global(), &"performance".into())
            .ok()
            .and_then(|p| p.dyn_into::<web_sys::Performance>().ok());
}

/// Milliseconds since an arbitrary origin, monotonic, sub-millisecond where the
/// browser allows it; falls back to `Date.now()`.
pub fn now_ms() -> f64 {
    PERFORMANCE.with(|p| p.as_ref().map(|p| p.now())).unwrap_or_else(js_sys::Date::now)
}
