//! Small adapters over browser APIs: storage, the address bar, downloads, files,
//! the clipboard and the worker's URL.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

const STORAGE_KEY: &str = "bayesband.v1";

pub fn window() -> web_sys::Window {
    web_sys::window().expect("a window")
}

pub fn document() -> web_sys::Document {
    window().document().expect("a document")
}

/// The smallest module using a relaxed-SIMD opcode: `(func (result v128) i32.const 1
/// i8x16.splat` three times, then `f32x4.relaxed_madd`, the opcode the relaxed worker's
/// kernels use). Without the opcode (`i8x16.add` of two splats) it is a valid simd128
/// module, so `WebAssembly.validate` says exactly whether the engine has relaxed SIMD.
const RELAXED_PROBE: [u8; 40] = [
    0, 97, 115, 109, 1, 0, 0, 0, // magic, version 1
    1, 5, 1, 96, 0, 1, 123, // type: () -> v128
    3, 2, 1, 0, // one function of that type
    10, 19, 1, 17, 0, // code: one body of 17 bytes, no locals
    65, 1, 253, 15, 65, 1, 253, 15, 65, 1, 253, 15, // (i32.const 1, i8x16.splat) x 3
    253, 133, 2, // f32x4.relaxed_madd (0xfd 0x105)
    11, // end
];

/// The kernel build this page's workers run: "relaxed-simd" (worker-relaxed.js, built
/// with `+relaxed-simd`: fused multiply-adds in the dense tiles and the tanh) where the
/// engine validates a relaxed-SIMD module, else "simd128" (worker.js). Told to tests
/// and the curious as `window.bayesbandKernels`.
pub fn kernel_build() -> &'static str {
    let probe = js_sys::Uint8Array::from(&RELAXED_PROBE[..]);
    let relaxed = js_sys::WebAssembly::validate(&probe).unwrap_or(false);
    let build = if relaxed { "relaxed-simd" } else { "simd128" };
    let _ = js_sys::Reflect::set(&window(), &JsValue::from_str("bayesbandKernels"), &JsValue::from_str(build));
    build
}

/// The worker script next to the app's own files, wherever the site is hosted
/// (sub-paths included): the app's module URL if Trunk preloads it, else the
/// document's base URL. The relaxed-SIMD build where the engine has it
/// ([`kernel_build`]), else the simd128 one.
pub fn worker_url() -> String {
    let script = if kernel_build() == "relaxed-simd" { "worker-relaxed.js" } else { "worker.js" };
    let doc = document();
    let from_preload = doc
        .query_selector("link[rel=modulepreload]")
        .ok()
        .flatten()
        .and_then(|l| l.dyn_into::<web_sys::HtmlLinkElement>().ok())
        .map(|l| l.href());
    let base = from_preload.or_else(|| doc.base_uri().ok().flatten()).unwrap_or_else(|| "./".into());
    web_sys::Url::new_with_base(script, &base).map(|u| u.href()).unwrap_or_else(|_| script.into())
}

pub fn load_saved() -> Option<String> {
    window().local_storage().ok().flatten()?.get_item(STORAGE_KEY).ok().flatten()
}

pub fn save(text: &str) {
    if let Some(s) = window().local_storage().ok().flatten() {
        let _ = s.set_item(STORAGE_KEY, text);
    }
}

pub fn location_query() -> String {
    window().location().search().unwrap_or_default()
}

/// Put the settings in the address bar without reloading or adding history.
pub fn replace_query(query: &str) {
    let loc = window().location();
    let path = loc.pathname().unwrap_or_default();
    let url = format!("{path}?{query}");
    if let Ok(h) = window().history() {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

pub fn current_url() -> String {
    window().location().href().unwrap_or_default()
}

/// Offer `bytes` as a file download.
pub fn download_bytes(name: &str, mime: &str, bytes: &[u8]) {
    let arr = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&arr);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    download_url(name, &url);
    let _ = web_sys::Url::revoke_object_url(&url);
}

pub fn download_url(name: &str, url: &str) {
    let doc = document();
    let Ok(a) = doc.create_element("a") else { return };
    let a: web_sys::HtmlAnchorElement = a.unchecked_into();
    a.set_href(url);
    a.set_download(name);
    a.set_hidden(true);
    if let Some(body) = doc.body() {
        let _ = body.append_child(&a);
        a.click();
        let _ = body.remove_child(&a);
    }
}

/// Read a chosen file as text.
pub async fn read_file(file: web_sys::File) -> Result<String, String> {
    JsFuture::from(file.text())
        .await
        .map_err(|e| format!("could not read the file: {e:?}"))?
        .as_string()
        .ok_or_else(|| "the file is not text".into())
}

/// Copy text to the clipboard; false when the browser refuses.
pub async fn copy_text(text: &str) -> bool {
    let clip = window().navigator().clipboard();
    JsFuture::from(clip.write_text(text)).await.is_ok()
}

pub fn device_pixel_ratio() -> f64 {
    window().device_pixel_ratio().clamp(1.0, 4.0)
}

/// Phone-sized window: secondary panels start collapsed.
pub fn is_narrow() -> bool {
    window().inner_width().ok().and_then(|w| w.as_f64()).is_some_and(|w| w <= 900.0)
}
