//! The fitting worker (wasm only): a yew-agent reactor that owns one `Fit`, runs it
//! in chunks of a few milliseconds and posts snapshots to the UI ~12 times a second.

pub mod clock;
pub mod codec;
mod reactor;

pub use codec::JsCodec;
pub use reactor::FitReactor;

/// Entry point of the worker binary.
pub fn register() {
    use yew_agent::Registrable;
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        web_sys::console::error_1(&format!("worker panicked: {message}").into());
        codec::post_panic(&message);
    }));
    FitReactor::registrar().encoding::<JsCodec>().register();
}
