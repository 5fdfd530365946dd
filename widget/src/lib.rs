//! Pigeon's chat panel. The loader (`loader/pigeon.js`) draws the launcher and imports this
//! module only when the shopper shows intent; `mount` then renders the panel into the
//! loader's Shadow DOM.

mod api;
mod live;
mod panel;
pub mod thread;
mod util;

use wasm_bindgen::prelude::*;

/// Called by the loader: renders the panel into `container` (inside the Shadow DOM).
/// `on_close` is the loader's function that hides the panel again.
#[wasm_bindgen]
pub fn mount(container: web_sys::HtmlElement, relay: String, site: String, on_close: js_sys::Function) {
    console_error_panic_hook::set_once();
    let config = panel::Config { relay, site };
    leptos::mount::mount_to(container, move || panel::Panel(panel::PanelProps { config, on_close })).forget();
}
