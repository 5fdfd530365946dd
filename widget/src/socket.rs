//! The live WebSocket itself: the token goes in the first frame, never in the URL.

use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::js;

/// What the relay says on the socket.
pub enum Heard {
    /// A stored message object.
    Message(JsValue),
    /// The backlog is sent; the conversation's newest `seq` is this.
    Ready(u64),
}

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

    let hello = js::stringify(&js::object(&[("type", "hello".into()), ("token", token.into()), ("after", (after as f64).into())]));
    let opened = ws.clone();
    let onopen = Closure::once_into_js(move || {
        let _ = opened.send_with_str(&hello);
    });
    ws.set_onopen(Some(onopen.unchecked_ref()));

    let onmessage = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
        let frame = ev.data().as_string().and_then(|text| js::parse(&text)).unwrap_or(JsValue::UNDEFINED);
        match js::string(&frame, "type").as_deref() {
            Some("message") => on_heard(Heard::Message(js::get(&frame, "message"))),
            Some("ready") => on_heard(Heard::Ready(js::integer(&frame, "last_seq").unwrap_or(0).max(0) as u64)),
            _ => {}
        }
    });
    ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();

    let onclose = Closure::once_into_js(move |ev: CloseEvent| on_closed(ev.code()));
    ws.set_onclose(Some(onclose.unchecked_ref()));
    Some(ws)
}
