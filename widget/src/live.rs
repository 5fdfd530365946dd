//! The live connection: one WebSocket per open panel, re-opened with backoff. The token goes
//! in the first frame, never in the URL.

use pigeon_protocol::{ClientFrame, Message, ServerFrame};
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{MessageEvent, WebSocket};

/// Opens the socket and calls `on_message` for every stored message after `after`.
/// `on_closed` runs once when the socket ends, so the caller can reconnect.
pub fn connect(relay: &str, conversation: &str, token: String, after: u64, on_message: impl Fn(Message) + 'static, on_closed: impl FnOnce() + 'static) -> Result<WebSocket, String> {
    let ws_url = format!("{}/v1/conversations/{conversation}/live", relay.replacen("http", "ws", 1));
    let ws = WebSocket::new(&ws_url).map_err(|e| format!("{e:?}"))?;

    let hello = serde_json::to_string(&ClientFrame::Hello { token, after }).map_err(|e| e.to_string())?;
    let opened = ws.clone();
    let onopen = Closure::once_into_js(move || {
        let _ = opened.send_with_str(&hello);
    });
    ws.set_onopen(Some(onopen.unchecked_ref()));

    let onmessage = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
        let Some(text) = ev.data().as_string() else { return };
        if let Ok(ServerFrame::Message { message }) = serde_json::from_str(&text) {
            on_message(message);
        }
    });
    ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();

    let onclose = Closure::once_into_js(on_closed);
    ws.set_onclose(Some(onclose.unchecked_ref()));
    Ok(ws)
}
