//! How messages cross the worker boundary: structured-cloned JS values via
//! serde-wasm-bindgen (self-describing, unlike bincode, so `#[serde(default)]`,
//! skipped fields and NaN survive), plus the worker-panic signal.

use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

/// Property that marks a raw "the worker panicked" message (see [`post_panic`]).
const PANIC_KEY: &str = "bayesbandWorkerPanic";
/// Event dispatched on `window` when a worker panic arrives; `detail` is the message.
pub const PANIC_EVENT: &str = "bayesband-worker-panic";

/// The yew-agent codec used by both the reactor and the UI bridge.
pub struct JsCodec;

impl yew_agent::Codec for JsCodec {
    fn encode<I: Serialize>(input: I) -> JsValue {
        let ser = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
        input.serialize(&ser).expect("a worker message always serialises")
    }

    fn decode<O: for<'de> Deserialize<'de>>(input: JsValue) -> O {
        if let Some(message) = panic_message(&input) {
            // A panic aborts the worker's wasm instance, so it can never answer through
            // the reactor again. Tell the UI (which respawns the worker) and hand the
            // bridge a harmless `WorkerLoaded` (the first variant of yew-agent's
            // message enum), which it ignores after start-up.
            if let Some(w) = web_sys::window() {
                let init = web_sys::CustomEventInit::new();
                init.set_detail(&JsValue::from_str(&message));
                if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(PANIC_EVENT, &init) {
                    let _ = w.dispatch_event(&ev);
                }
            }
            return serde_wasm_bindgen::from_value(JsValue::from_str("WorkerLoaded"))
                .expect("yew-agent's worker message has a WorkerLoaded variant");
        }
        serde_wasm_bindgen::from_value(input).expect("a worker message always deserialises")
    }
}

fn panic_message(v: &JsValue) -> Option<String> {
    if !v.is_object() {
        return None;
    }
    js_sys::Reflect::get(v, &JsValue::from_str(PANIC_KEY)).ok().and_then(|m| m.as_string())
}

/// Called from the worker's panic hook: post the panic text straight to the page,
/// bypassing the reactor (whose queue never runs again after the trap).
pub fn post_panic(message: &str) {
    let obj = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&obj, &JsValue::from_str(PANIC_KEY), &JsValue::from_str(message));
    if let Ok(scope) = js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>() {
        let _ = scope.post_message(&obj);
    }
}
