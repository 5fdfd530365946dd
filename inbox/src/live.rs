//! The site's inbox socket (`/v1/inbox/sites/{site}/live`): frames as they happen, and a
//! reconnect with backoff that starts with a fresh read of what it may have missed.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use pigeon_protocol::InboxFrame;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{MessageEvent, WebSocket};

/// An open (or reopening) socket; dropping it closes the socket and stops reconnecting.
pub struct Live {
    ws: Rc<RefCell<Option<WebSocket>>>,
    stopped: Rc<Cell<bool>>,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stopped.set(true);
        if let Some(ws) = self.ws.borrow_mut().take() {
            let _ = ws.close();
        }
    }
}

impl Live {
    /// Sends `text` if the socket is open (what is said again on each reconnect need not
    /// queue); whether it went.
    pub fn send(&self, text: &str) -> bool {
        self.ws.borrow().as_ref().is_some_and(|ws| ws.ready_state() == WebSocket::OPEN && ws.send_with_str(text).is_ok())
    }
}

/// Connects to `site`'s socket: `on_frame` for each frame, `on_open` after each (re)connect
/// (catch up there), `on_state(connected)` as the connection comes and goes, `on_refused` when
/// the relay refused a `reply` sent on it (the POST of the same reply says why).
pub fn connect(site: &str, on_frame: impl Fn(InboxFrame) + 'static, on_open: impl Fn() + 'static, on_state: impl Fn(bool) + 'static, on_refused: impl Fn() + 'static) -> Live {
    let live = Live { ws: Rc::new(RefCell::new(None)), stopped: Rc::new(Cell::new(false)) };
    let handlers = Rc::new(Handlers { on_frame: Box::new(on_frame), on_open: Box::new(on_open), on_state: Box::new(on_state), on_refused: Box::new(on_refused) });
    open(url(site), live.ws.clone(), live.stopped.clone(), handlers, 0);
    live
}

struct Handlers {
    on_frame: Box<dyn Fn(InboxFrame)>,
    on_open: Box<dyn Fn()>,
    on_state: Box<dyn Fn(bool)>,
    on_refused: Box<dyn Fn()>,
}

fn url(site: &str) -> String {
    let location = web_sys::window().map(|w| w.location());
    let host = location.as_ref().and_then(|l| l.host().ok()).unwrap_or_default();
    let secure = location.and_then(|l| l.protocol().ok()).is_some_and(|p| p == "https:");
    format!("{}://{host}/v1/inbox/sites/{site}/live", if secure { "wss" } else { "ws" })
}

fn open(url: String, slot: Rc<RefCell<Option<WebSocket>>>, stopped: Rc<Cell<bool>>, h: Rc<Handlers>, attempt: u32) {
    if stopped.get() {
        return;
    }
    let Ok(ws) = WebSocket::new(&url) else { return retry(url, slot, stopped, h, attempt) };
    let opened = Rc::new(Cell::new(false));
    {
        let (h, opened) = (h.clone(), opened.clone());
        let on_open = Closure::<dyn FnMut()>::new(move || {
            opened.set(true);
            (h.on_state)(true);
            (h.on_open)();
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();
    }
    {
        let h = h.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let Some(text) = ev.data().as_string() else { return };
            match serde_json::from_str::<InboxFrame>(&text) {
                Ok(frame) => (h.on_frame)(frame),
                // `InboxRefused`, read no further: which reply and why, the POST tells.
                Err(_) if text.starts_with(r#"{"type":"refused""#) => (h.on_refused)(),
                Err(_) => {}
            }
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
    }
    {
        let (url, slot2, stopped, h) = (url.clone(), slot.clone(), stopped.clone(), h.clone());
        let on_close = Closure::once(move || {
            (h.on_state)(false);
            // A connection that opened starts the backoff over.
            let next = if opened.get() { 0 } else { attempt + 1 };
            retry(url, slot2, stopped, h, next);
        });
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        on_close.forget();
    }
    *slot.borrow_mut() = Some(ws);
}

/// 0.5 s, 1 s, 2 s … at most 30 s.
fn retry(url: String, slot: Rc<RefCell<Option<WebSocket>>>, stopped: Rc<Cell<bool>>, h: Rc<Handlers>, attempt: u32) {
    if stopped.get() {
        return;
    }
    let delay = (500u32 << attempt.min(6)).min(30_000);
    let again = Closure::once(move || open(url, slot, stopped, h, attempt));
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(again.as_ref().unchecked_ref(), delay as i32);
    }
    again.forget();
}

/// A promise resolved after `ms`.
pub async fn pause(ms: i32) {
    let wait = js_sys::Promise::new(&mut |done, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&done, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(wait).await;
}
