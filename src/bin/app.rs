//! The browser app entry point: mounts the Yew UI (see `bayesband::ui`).

#[cfg(target_arch = "wasm32")]
fn main() {
    bayesband::ui::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the app runs in a browser: `./run serve` builds it and prints its URL");
}
