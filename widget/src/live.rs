//! The live side: one socket per browser (the leader tab's), re-opened with backoff, asking
//! for everything after `through`; and re-opened at once whenever the thread has a gap (a
//! reply stored while the socket was down, a backlog longer than the relay sends at once), so
//! the new socket's backlog fills it. The outbox sends over it when it is ready
//! ([`Engine::send_live`]).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;

use crate::socket;
use crate::store::Pending;
use crate::sync::{Engine, FIRST_BACKOFF_MS, MAX_BACKOFF_MS};
use crate::tabs::Note;
use crate::util::{deferred, settle, until, window};
use crate::thread::Edit;
use crate::wire::{self, Heard};

#[derive(Default)]
pub struct Live {
    /// This tab holds the site's live lock: it keeps the socket, the others hear from it.
    pub leader: Cell<bool>,
    running: Cell<bool>,
    socket: RefCell<Option<web_sys::WebSocket>>,
    /// Closed to fill a gap: reconnect without waiting.
    reconnect: Cell<bool>,
    /// `through` + 1 when a gap last made the socket reconnect (0: never). A gap that one
    /// reconnection did not fill (seqs the relay does not send this client) is not chased again.
    pub chased: Cell<u64>,
    /// The open socket said `ready`: the outbox may send over it. It is the current
    /// conversation's: a session change closes it at once (`Live::close` takes it away).
    ready: Cell<bool>,
    /// Resolves the wait of the send on its way (the outbox sends one at a time) with the
    /// answer frame.
    waiting: RefCell<Option<js_sys::Function>>,
}

impl Live {
    /// Closes the socket; the live loop then reconnects for whatever session is held then.
    pub fn close(&self) {
        if let Some(ws) = self.socket.borrow_mut().take() {
            let _ = ws.close();
        }
    }
}

impl Engine {
    /// A message heard on the socket or fetched: stored, shown, passed on to the other tabs.
    fn remember(self: &Rc<Self>, m: JsValue) -> Option<u64> {
        let entry = wire::entry(&m)?;
        let seq = entry.seq?;
        self.tell(Note::Message(m.clone()));
        if let Some(store) = self.store.clone() {
            spawn_local(async move {
                let _ = store.put_message(seq, &m).await;
            });
        }
        self.edit(Edit::Apply(entry));
        Some(seq)
    }

    /// The live loop (leader only): connect, hear the backlog after `through` and every new
    /// message, and reconnect with backoff when the socket ends. The backoff starts over after
    /// a connection that worked. A close that says the conversation is gone ends it.
    pub fn start_live(self: &Rc<Self>) {
        if self.stopped.get() || !self.live.leader.get() || self.live.running.replace(true) {
            return;
        }
        let me = self.clone();
        spawn_local(async move {
            let mut backoff = FIRST_BACKOFF_MS;
            while let Some(s) = me.current_session() {
                let (closed, close) = deferred();
                let weak = Rc::downgrade(&me);
                let on_heard = move |heard| {
                    let Some(me) = weak.upgrade() else { return };
                    match heard {
                        Heard::Message(m) => {
                            me.remember(m);
                        }
                        Heard::Ready(newest) => {
                            me.live.ready.set(true);
                            me.catch_up(newest);
                        }
                        Heard::Answer(frame) => {
                            if let Some(answered) = &*me.live.waiting.borrow() {
                                settle(answered, &frame);
                            }
                        }
                    }
                };
                let after = me.marks().through;
                let opened_at = js_sys::Date::now();
                let opened = socket::connect(&me.api.relay, &s.id, &s.token, after, on_heard, move |code| settle(&close, &code.into()));
                let mut code = 1006;
                if let Some(ws) = opened {
                    *me.live.socket.borrow_mut() = Some(ws);
                    code = until(closed).await.as_f64().unwrap_or(1006.0) as u16;
                    me.live.socket.borrow_mut().take();
                }
                // A send still waiting goes by POST (same `client_id`: stored once either way).
                let ready = me.live.ready.replace(false);
                if let Some(answered) = me.live.waiting.take() {
                    settle(&answered, &JsValue::UNDEFINED);
                }
                if socket::gone(code) {
                    me.gone(&s.id).await;
                    continue;
                }
                // Healthy (got going and stayed up): the next reconnect starts quickly again.
                if ready && js_sys::Date::now() - opened_at > 10_000.0 {
                    backoff = FIRST_BACKOFF_MS;
                }
                if !me.live.reconnect.replace(false) {
                    me.wake.sleep(backoff).await;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF_MS);
            }
            me.live.running.set(false);
        });
    }

    /// Sends a pending message over the open socket when it is ready; the promise resolves
    /// with the answer frame, or `undefined` after 10 s or when the socket closes. `None`: no
    /// such socket.
    pub(crate) fn send_live(&self, p: &Pending) -> Option<js_sys::Promise> {
        if !self.live.ready.get() {
            return None;
        }
        let (answer, answered) = deferred();
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&answered, 10_000);
        self.live.socket.borrow().as_ref()?.send_with_str(&wire::send(p)).ok()?;
        *self.live.waiting.borrow_mut() = Some(answered);
        Some(answer)
    }

    /// The thread lacks messages the relay holds (a reply stored while the socket was down,
    /// a backlog longer than the relay sends at once): the socket is opened again at once,
    /// and its `hello` asks for everything after `through`.
    pub fn catch_up(&self, relay_newest: u64) {
        let marks = self.marks();
        if marks.gap(relay_newest) && self.live.chased.replace(marks.through + 1) != marks.through + 1 {
            self.live.reconnect.set(true);
            self.live.close();
            self.wake.wake();
        }
    }
}
