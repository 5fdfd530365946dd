//! Live delivery over hibernatable WebSockets. A socket is accepted unauthenticated; its
//! first frame must be `hello` with the conversation token and the last `seq` the client
//! has. It then gets the backlog (at most `MAX_BACKLOG` messages), `ready` with the thread's
//! highest `seq`, and every message stored afterwards.
//!
//! A conversation that is not open to the client (wrong token, deleted, never there) gets
//! the same answer everywhere: an `error` frame `not_found`, then close code 4404. The Worker
//! answers unknown and deleted ids that way itself ([`refuse_gone`]).
//!
//! Hygiene: a socket that has not said `hello` within [`HELLO_TIMEOUT`] is closed (4408; the
//! `sockets` job looks), a conversation holds at most [`MAX_SOCKETS`] (the next is told 4429
//! and closed), a socket may send [`FRAMES_PER_WINDOW`] frames per [`FRAME_WINDOW_MS`] (more
//! closes it, 4429), and a frame over [`MAX_FRAME_BYTES`] closes it before it is parsed
//! (1009). The widget reconnects with backoff after any of these (only 4401/4404 end it).
//!
//! While the object is awake, what it knows of its sockets is kept in memory ([`Sockets`]):
//! a frame or a broadcast reads no attachment. The attachment is written when a socket is
//! accepted and when it says `hello`, so an object woken from hibernation rebuilds the list
//! from the attachments; any accept or close drops the list, to be rebuilt on next use.

use std::cell::RefCell;
use std::time::Duration;

use pigeon_protocol::{ClientFrame, Message, PostMessage, ServerFrame};
use serde::{Deserialize, Serialize};
use worker::{Response, State, WebSocket, WebSocketIncomingMessage, WebSocketPair};

use super::jobs::Outcome;
use super::store::Store;
use crate::Result;

/// Close codes (4000-4999 are application codes): a frame before `hello`, an unparsable
/// frame, and a conversation that is not open to this client (wrong token, deleted, unknown).
const CLOSE_HELLO_FIRST: u16 = 4401;
const CLOSE_BAD_FRAME: u16 = 4400;
/// Standard code for a server-side failure: the client reconnects.
const CLOSE_INTERNAL: u16 = 1011;
const CLOSE_GONE: u16 = 4404;
/// No `hello` in time (like HTTP 408).
const CLOSE_HELLO_TIMEOUT: u16 = 4408;
/// Too many sockets on the conversation, or frames on this socket (like HTTP 429).
const CLOSE_TOO_MANY: u16 = 4429;
/// RFC 6455's "message too big".
const CLOSE_TOO_BIG: u16 = 1009;
pub const MAX_BACKLOG: u32 = 10_000;
/// How long a socket may stay open without saying `hello` (the widget says it on open).
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Sockets per conversation: a shopper's browsers and devices, with room to spare.
pub const MAX_SOCKETS: usize = 32;
/// Frames a socket may send per window: above an outbox's burst of 20 messages after `hello`
/// (the conversation's message limit applies to those as well), far below a flood.
pub const FRAMES_PER_WINDOW: u32 = 40;
pub const FRAME_WINDOW_MS: f64 = 1_000.0;
/// The largest frame read: a message's body and its context fit many times over.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Survives hibernation with the socket (the frame window only in memory: it is a second).
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
struct Attachment {
    authed: bool,
    /// The client's IP as the Worker saw it at the upgrade, for the per-IP message limit.
    #[serde(default)]
    ip: String,
    /// When it was accepted (ms since the epoch).
    #[serde(default)]
    opened_ms: f64,
    /// The current frame window's start, and the frames counted in it.
    #[serde(default)]
    window_ms: f64,
    #[serde(default)]
    frames: u32,
}

impl Attachment {
    /// Counts a frame at `now_ms`; false when it is one too many for its window.
    fn admit(&mut self, now_ms: f64) -> bool {
        if now_ms - self.window_ms >= FRAME_WINDOW_MS || now_ms < self.window_ms {
            self.window_ms = now_ms;
            self.frames = 0;
        }
        self.frames += 1;
        self.frames <= FRAMES_PER_WINDOW
    }

    /// Milliseconds left to say `hello`; `None` once authenticated.
    fn hello_left(&self, now_ms: f64) -> Option<f64> {
        (!self.authed).then(|| HELLO_TIMEOUT.as_secs_f64() * 1000.0 - (now_ms - self.opened_ms))
    }
}

fn attachment(ws: &WebSocket) -> Attachment {
    ws.deserialize_attachment::<Attachment>().ok().flatten().unwrap_or_default()
}

/// The object's sockets and their attachments, read once while the object is awake.
#[derive(Default)]
pub struct Sockets {
    known: RefCell<Option<Vec<(WebSocket, Attachment)>>>,
    stale: std::cell::Cell<bool>,
}

impl Sockets {
    /// Read again from the runtime on next use (a socket came or went).
    pub fn forget(&self) {
        self.stale.set(true);
    }

    fn with<T>(&self, state: &State, f: impl FnOnce(&mut Vec<(WebSocket, Attachment)>) -> T) -> T {
        let mut known = self.known.borrow_mut();
        if known.is_none() || self.stale.replace(false) {
            let old = known.take().unwrap_or_default();
            let list = state.get_websockets().into_iter().map(|ws| {
                let mut a = attachment(&ws);
                // The frame window is only in memory: kept for the sockets still here.
                if let Some((_, was)) = old.iter().find(|(w, _)| *w == ws) {
                    (a.window_ms, a.frames) = (was.window_ms, was.frames);
                }
                (ws, a)
            });
            *known = Some(list.collect());
        }
        f(known.as_mut().expect("filled above"))
    }

    /// `ws`'s attachment as known, changed by `f` (read again once if `ws` is not in the list;
    /// a socket the runtime does not list is read from its own attachment and written back).
    fn update<T>(&self, state: &State, ws: &WebSocket, f: impl FnOnce(&mut Attachment) -> T) -> T {
        for attempt in 0..2 {
            if attempt == 1 {
                self.forget();
            }
            let found = self.with(state, |list| list.iter().position(|(w, _)| w == ws));
            if let Some(i) = found {
                return self.with(state, |list| f(&mut list[i].1));
            }
        }
        let mut a = attachment(ws);
        let out = f(&mut a);
        let _ = ws.serialize_attachment(&a);
        out
    }

    /// The sockets that said `hello`.
    fn authed(&self, state: &State) -> Vec<WebSocket> {
        self.with(state, |list| list.iter().filter(|(_, a)| a.authed).map(|(ws, _)| ws.clone()).collect())
    }
}

/// Accepts a socket for this conversation, or refuses it when the conversation already holds
/// [`MAX_SOCKETS`]. The caller schedules the `sockets` job to enforce the `hello` deadline.
pub fn accept(state: &State, sockets: &Sockets, store: &Store, ip: String) -> Result<Response> {
    if !store.exists()? {
        // Erased after the Worker looked it up: gone, as the Worker would have said.
        return refuse_gone();
    }
    let pair = WebSocketPair::new()?;
    if state.get_websockets().len() >= MAX_SOCKETS {
        pair.server.accept()?;
        refuse(&pair.server, CLOSE_TOO_MANY, "too_many_sockets", "This conversation has too many live connections; try again later.");
        return Ok(Response::from_websocket(pair.client)?);
    }
    state.accept_web_socket(&pair.server);
    pair.server.serialize_attachment(Attachment { opened_ms: js_sys::Date::now(), ip, ..Attachment::default() })?;
    sockets.forget();
    Ok(Response::from_websocket(pair.client)?)
}

/// The `sockets` job: closes the sockets that did not say `hello` in time; runs again for the
/// ones still within their time.
pub fn close_silent(state: &State, sockets: &Sockets) -> Outcome {
    sockets.forget();
    let now = js_sys::Date::now();
    let mut next: Option<f64> = None;
    for ws in state.get_websockets() {
        match attachment(&ws).hello_left(now) {
            Some(left) if left <= 0.0 => refuse(&ws, CLOSE_HELLO_TIMEOUT, "hello_timeout", "Say hello within 10 seconds of connecting."),
            Some(left) => next = Some(next.map_or(left, |n: f64| n.min(left))),
            None => {}
        }
    }
    next.map_or(Outcome::Done, |ms| Outcome::RetryIn(Duration::from_millis(ms.ceil() as u64)))
}

/// A socket for a conversation that is gone or was never there: accepted, told `not_found`
/// and closed with 4404 at once, so a browser can tell "gone" from "network down" (a refused
/// upgrade looks like the latter). Nothing is kept open.
pub fn refuse_gone() -> Result<Response> {
    let pair = WebSocketPair::new()?;
    pair.server.accept()?;
    refuse(&pair.server, CLOSE_GONE, NOT_FOUND, NOT_FOUND_MESSAGE);
    Ok(Response::from_websocket(pair.client)?)
}

const NOT_FOUND: &str = "not_found";
const NOT_FOUND_MESSAGE: &str = "No such conversation, or the token does not open it.";

fn send(ws: &WebSocket, frame: &ServerFrame) {
    if let Ok(text) = serde_json::to_string(frame) {
        let _ = ws.send_with_str(text);
    }
}

fn refuse(ws: &WebSocket, code: u16, error: &str, message: &str) {
    send(ws, &ServerFrame::Error { code: error.into(), message: message.into() });
    let _ = ws.close(Some(code), Some(error));
}

/// A `send` from an authenticated socket, for the object to store: the message and the IP
/// the socket came from.
pub struct Send {
    pub post: PostMessage,
    pub ip: String,
}

/// Handles one frame; a `send` is handed back to the caller (storing it is async).
/// `limit_frames` is false only when every limit is off (`RATE_LIMITS = "off"`, the load
/// benchmark).
pub fn on_frame(sockets: &Sockets, state: &State, store: &Store, ws: &WebSocket, message: WebSocketIncomingMessage, max_backlog: u32, limit_frames: bool) -> Option<Send> {
    let now = js_sys::Date::now();
    let (admitted, authed, ip) = sockets.update(state, ws, |a| (a.admit(now), a.authed, a.ip.clone()));
    if !admitted && limit_frames {
        sockets.forget();
        refuse(ws, CLOSE_TOO_MANY, "too_many_frames", "Too many frames; reconnect a little later.");
        return None;
    }
    let WebSocketIncomingMessage::String(text) = message else {
        sockets.forget();
        refuse(ws, CLOSE_BAD_FRAME, "bad_frame", "Frames are JSON text.");
        return None;
    };
    if text.len() > MAX_FRAME_BYTES {
        sockets.forget();
        refuse(ws, CLOSE_TOO_BIG, "frame_too_large", "Frames are at most 64 KiB.");
        return None;
    }
    let Ok(frame) = serde_json::from_str::<ClientFrame>(&text) else {
        sockets.forget();
        refuse(ws, CLOSE_BAD_FRAME, "bad_frame", "Unknown frame.");
        return None;
    };
    match frame {
        ClientFrame::Hello { token, after } => {
            let refusal = if after > pigeon_protocol::validate::MAX_SEQ {
                Some((CLOSE_BAD_FRAME, "bad_frame", "`after` must be an integer from 0 to 2^53 - 1."))
            } else {
                match store.token_matches(&token) {
                    Ok(true) => None,
                    Ok(false) => Some((CLOSE_GONE, NOT_FOUND, NOT_FOUND_MESSAGE)),
                    // Storage failed for a moment: not "gone" (the client would drop the
                    // thread); 1011 says try again.
                    Err(_) => Some((CLOSE_INTERNAL, "internal", "Something went wrong on our side; try again.")),
                }
            };
            if let Some((code, error, message)) = refusal {
                sockets.forget();
                refuse(ws, code, error, message);
                return None;
            }
            let hello = sockets.update(state, ws, |a| {
                a.authed = true;
                a.clone()
            });
            let _ = ws.serialize_attachment(Attachment { window_ms: 0.0, frames: 0, ..hello });
            // Once per socket: read again with this attachment, whatever the runtime's
            // identity of socket objects (the list is right either way).
            sockets.forget();
            // Synchronous from here to `ready`: no message can slip between backlog and live.
            let backlog = store.after(after, max_backlog).unwrap_or_default();
            // The thread's highest seq, even when the backlog was capped: a client below it
            // after `ready` fetches the rest over HTTP (`GET .../messages?after=`).
            let last_seq = store.last_seq().unwrap_or_else(|_| backlog.last().map_or(after, |m| m.seq));
            for message in backlog {
                send(ws, &ServerFrame::Message { message });
            }
            send(ws, &ServerFrame::Ready { last_seq });
            None
        }
        ClientFrame::Ping if authed => {
            send(ws, &ServerFrame::Pong);
            None
        }
        ClientFrame::Send(post) if authed => Some(Send { post, ip }),
        ClientFrame::Ping | ClientFrame::Send(_) => {
            sockets.forget();
            refuse(ws, CLOSE_HELLO_FIRST, "hello_first", "Say hello first.");
            None
        }
    }
}

/// Answers a `send`: `ack` with the stored message, or `refused` with the POST's error.
pub fn answer_send(ws: &WebSocket, client_id: String, outcome: std::result::Result<(Message, bool), crate::Error>) {
    let frame = match outcome {
        Ok((message, created)) => ServerFrame::Ack { client_id, message, created },
        Err(e) => {
            if let crate::Error::Internal(cause) = &e {
                worker::console_error!("live send: {cause}");
            }
            let retry_after = match &e {
                crate::Error::RateLimited { retry_after_secs } => Some(*retry_after_secs),
                _ => None,
            };
            let body = e.body();
            ServerFrame::Refused { client_id, code: body.error.code, message: body.error.message, retry_after }
        }
    };
    send(ws, &frame);
}

/// Pushes a stored message to every authenticated socket of this conversation: one frame text,
/// made once.
pub fn broadcast(state: &State, sockets: &Sockets, message: &Message) {
    let Ok(text) = serde_json::to_string(&ServerFrame::Message { message: message.clone() }) else { return };
    crate::fanout::send(&sockets.authed(state), &text);
}

/// Closes every socket, e.g. after the conversation was erased.
pub fn close_all(state: &State, sockets: &Sockets, reason: &str) {
    sockets.forget();
    for ws in state.get_websockets() {
        send(&ws, &ServerFrame::Error { code: NOT_FOUND.into(), message: "This conversation was deleted.".into() });
        let _ = ws.close(Some(CLOSE_GONE), Some(reason));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_may_send_so_many_frames_per_window() {
        let mut a = Attachment::default();
        let t = 1_000_000.0;
        assert!((0..FRAMES_PER_WINDOW).all(|i| a.admit(t + f64::from(i))));
        assert!(!a.admit(t + 500.0), "one over within the window");
        assert!(a.admit(t + FRAME_WINDOW_MS), "a new window");
        // A clock that went back starts a new window rather than blocking for good.
        assert!(a.admit(t - 5_000.0));
    }

    #[test]
    fn hello_is_due_within_the_timeout_and_not_after_it() {
        let a = Attachment { opened_ms: 1_000.0, ..Attachment::default() };
        assert_eq!(a.hello_left(1_000.0), Some(10_000.0));
        assert!(a.hello_left(11_000.0).is_some_and(|left| left <= 0.0));
        assert_eq!(Attachment { authed: true, ..a }.hello_left(99_000.0), None);
        // Sockets accepted before this field existed count from the epoch: overdue at once.
        assert!(Attachment::default().hello_left(1_700_000_000_000.0).is_some_and(|left| left <= 0.0));
    }
}
