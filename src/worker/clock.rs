//! Time in the worker: milliseconds from the browser's monotonic clock, and a yield
//! to the event loop that costs microseconds.
//!
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

thread_local! {
    static CHANNEL: Option<web_sys::MessageChannel> = web_sys::MessageChannel::new().ok();
}

/// Let the event loop run (incoming messages, outgoing posts) and come back.
///
/// A zero timeout would do, but browsers clamp nested `setTimeout(0)` to 4 ms, a
/// quarter of each 12 ms work slice; a message to ourselves through a
/// `MessageChannel` is an ordinary task with no clamp.
pub async fn yield_now() {
    let channel = CHANNEL.with(|c| c.clone());
    let Some(channel) = channel else {
        gloo_timers::future::TimeoutFuture::new(0).await;
        return;
    };
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        channel.port1().set_onmessage(Some(&resolve));
        let _ = channel.port2().post_message(&wasm_bindgen::JsValue::NULL);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
