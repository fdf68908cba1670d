//! The Web Worker entry point: registers the fitting reactor (see `bayesband::worker`).

#[cfg(target_arch = "wasm32")]
fn main() {
    bayesband::worker::register();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in a browser: build it with `trunk build` (see README)");
}
