//! Live delivery over hibernatable WebSockets. A socket is accepted unauthenticated; its
//! first frame must be `hello` with the conversation token and the last `seq` the client
//! has. It then gets the backlog (at most `MAX_BACKLOG` messages), `ready` with the thread's
//! highest `seq`, and every message stored afterwards.
//!
//! A conversation that is not open to the client (wrong token, deleted, never there) gets
//! the same answer everywhere: an `error` frame `not_found`, then close code 4404. The Worker
//! answers unknown and deleted ids that way itself ([`refuse_gone`]).

use pigeon_protocol::{ClientFrame, Message, ServerFrame};
use serde::{Deserialize, Serialize};
use worker::{Response, State, WebSocket, WebSocketIncomingMessage, WebSocketPair};

use super::store::Store;
use crate::Result;

/// Close codes (4000-4999 are application codes): a frame before `hello`, an unparsable
/// frame, and a conversation that is not open to this client (wrong token, deleted, unknown).
const CLOSE_HELLO_FIRST: u16 = 4401;
const CLOSE_BAD_FRAME: u16 = 4400;
/// Standard code for a server-side failure: the client reconnects.
const CLOSE_INTERNAL: u16 = 1011;
const CLOSE_GONE: u16 = 4404;
pub const MAX_BACKLOG: u32 = 10_000;

/// Survives hibernation with the socket.
#[derive(Serialize, Deserialize, Default)]
struct Attachment {
    authed: bool,
}

pub fn accept(state: &State, store: &Store) -> Result<Response> {
    if !store.exists()? {
        // Erased after the Worker looked it up: gone, as the Worker would have said.
        return refuse_gone();
    }
    let pair = WebSocketPair::new()?;
    state.accept_web_socket(&pair.server);
    pair.server.serialize_attachment(Attachment::default())?;
    Ok(Response::from_websocket(pair.client)?)
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

pub fn on_frame(store: &Store, ws: &WebSocket, message: WebSocketIncomingMessage, max_backlog: u32) {
    let WebSocketIncomingMessage::String(text) = message else {
        return refuse(ws, CLOSE_BAD_FRAME, "bad_frame", "Frames are JSON text.");
    };
    let Ok(frame) = serde_json::from_str::<ClientFrame>(&text) else {
        return refuse(ws, CLOSE_BAD_FRAME, "bad_frame", "Unknown frame.");
    };
    let authed = ws.deserialize_attachment::<Attachment>().ok().flatten().unwrap_or_default().authed;
    match frame {
        ClientFrame::Hello { token, after } => {
            if after > pigeon_protocol::validate::MAX_SEQ {
                return refuse(ws, CLOSE_BAD_FRAME, "bad_frame", "`after` must be an integer from 0 to 2^53 - 1.");
            }
            match store.token_matches(&token) {
                Ok(true) => {}
                Ok(false) => return refuse(ws, CLOSE_GONE, NOT_FOUND, NOT_FOUND_MESSAGE),
                // Storage failed for a moment: not "gone" (the client would drop the thread);
                // 1011 says try again.
                Err(_) => return refuse(ws, CLOSE_INTERNAL, "internal", "Something went wrong on our side; try again."),
            }
            let _ = ws.serialize_attachment(Attachment { authed: true });
            // Synchronous from here to `ready`: no message can slip between backlog and live.
            let backlog = store.after(after, max_backlog).unwrap_or_default();
            // The thread's highest seq, even when the backlog was capped: a client below it
            // after `ready` fetches the rest over HTTP (`GET .../messages?after=`).
            let last_seq = store.last_seq().unwrap_or_else(|_| backlog.last().map_or(after, |m| m.seq));
            for message in backlog {
                send(ws, &ServerFrame::Message { message });
            }
            send(ws, &ServerFrame::Ready { last_seq });
        }
        ClientFrame::Ping if authed => send(ws, &ServerFrame::Pong),
        ClientFrame::Ping => refuse(ws, CLOSE_HELLO_FIRST, "hello_first", "Say hello first."),
    }
}

/// Pushes a stored message to every authenticated socket of this conversation.
pub fn broadcast(state: &State, message: &Message) {
    let Ok(text) = serde_json::to_string(&ServerFrame::Message { message: message.clone() }) else { return };
    for ws in state.get_websockets() {
        let authed = ws.deserialize_attachment::<Attachment>().ok().flatten().is_some_and(|a| a.authed);
        if authed {
            let _ = ws.send_with_str(&text);
        }
    }
}

/// Closes every socket, e.g. after the conversation was erased.
pub fn close_all(state: &State, reason: &str) {
    for ws in state.get_websockets() {
        send(&ws, &ServerFrame::Error { code: NOT_FOUND.into(), message: "This conversation was deleted.".into() });
        let _ = ws.close(Some(CLOSE_GONE), Some(reason));
    }
}
