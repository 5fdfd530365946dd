//! One text to many WebSockets: a live message to a conversation's sockets, a hub's frame to
//! the site's inbox tabs.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::wasm_bindgen;
use worker::WebSocket;

#[wasm_bindgen]
extern "C" {
    /// A WebSocket, for `send` with a string already in JavaScript (`send_with_str` makes one
    /// from Rust's UTF-8 at every call).
    type JsSocket;
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send(this: &JsSocket, data: &js_sys::JsString) -> std::result::Result<(), wasm_bindgen::JsValue>;
}

/// Sends `text` to each of `sockets`, made into a JavaScript string once. A socket that is
/// closing is passed over.
pub fn send(sockets: &[WebSocket], text: &str) {
    let text = js_sys::JsString::from(text);
    for ws in sockets {
        let socket: &web_sys::WebSocket = ws.as_ref();
        let _ = socket.unchecked_ref::<JsSocket>().send(&text);
    }
}
