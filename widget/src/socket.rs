//! The live WebSocket itself: the token goes in the first frame, never in the URL.

use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::js;
use crate::wire::{self, Heard};

/// Close codes the relay sends when the conversation is not there for this token (erased,
/// never existed, or the token does not open it): reconnecting cannot help.
pub fn gone(code: u16) -> bool {
    matches!(code, 4401 | 4404)
}

/// Opens the socket and says `hello` with everything after `after`. `on_closed` gets the
/// close code once the socket ends (1006 when it never opened).
pub fn connect(relay: &str, conversation: &str, token: &str, after: u64, on_heard: impl Fn(Heard) + 'static, on_closed: impl FnOnce(u16) + 'static) -> Option<WebSocket> {
    let ws_url = format!("ws{}/v1/conversations/{conversation}/live", relay.strip_prefix("http").unwrap_or(relay));
    let ws = WebSocket::new(&ws_url).ok()?;

    let hello = wire::hello(token, after);
    let opened = ws.clone();
    let onopen = Closure::once_into_js(move || {
        let _ = opened.send_with_str(&hello);
    });
    ws.set_onopen(Some(onopen.unchecked_ref()));

    let onmessage = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
        let frame = ev.data().as_string().and_then(|text| js::parse(&text)).unwrap_or(JsValue::UNDEFINED);
        if let Some(heard) = wire::heard(&frame) {
            on_heard(heard);
        }
    });
    ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();

    let onclose = Closure::once_into_js(move |ev: CloseEvent| on_closed(ev.code()));
    ws.set_onclose(Some(onclose.unchecked_ref()));
    Some(ws)
}
