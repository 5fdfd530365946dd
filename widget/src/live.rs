//! The live connection: one WebSocket per open panel, re-opened with backoff. The token goes
//! in the first frame, never in the URL.

use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{MessageEvent, WebSocket};

use crate::js;

/// Opens the socket and calls `on_message` with every stored message object after `after`.
/// `on_closed` runs once when the socket ends, so the caller can reconnect.
pub fn connect(relay: &str, conversation: &str, token: &str, after: u64, on_message: impl Fn(JsValue) + 'static, on_closed: impl FnOnce() + 'static) -> Option<WebSocket> {
    let ws_url = format!("ws{}/v1/conversations/{conversation}/live", relay.strip_prefix("http").unwrap_or(relay));
    let ws = WebSocket::new(&ws_url).ok()?;

    let hello = js::stringify(&js::object(&[("type", "hello".into()), ("token", token.into()), ("after", (after as f64).into())]));
    let opened = ws.clone();
    let onopen = Closure::once_into_js(move || {
        let _ = opened.send_with_str(&hello);
    });
    ws.set_onopen(Some(onopen.unchecked_ref()));

    let onmessage = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
        let frame = ev.data().as_string().and_then(|text| js::parse(&text)).unwrap_or(JsValue::UNDEFINED);
        if js::string(&frame, "type").as_deref() == Some("message") {
            on_message(js::get(&frame, "message"));
        }
    });
    ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();

    let onclose = Closure::once_into_js(on_closed);
    ws.set_onclose(Some(onclose.unchecked_ref()));
    Some(ws)
}
