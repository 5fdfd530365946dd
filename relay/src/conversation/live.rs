//! Live delivery over hibernatable WebSockets. A socket is accepted unauthenticated; its
//! first frame must be `hello` with the conversation token and the last `seq` the client
//! has. It then gets the backlog, `ready`, and every message stored afterwards.

use pigeon_protocol::{ClientFrame, Message, ServerFrame};
use serde::{Deserialize, Serialize};
use worker::{Response, State, WebSocket, WebSocketIncomingMessage, WebSocketPair};

use super::store::Store;
use crate::Result;

/// Close code when the hello is missing or wrong (4000-4999 are application codes).
const CLOSE_UNAUTHORIZED: u16 = 4401;
const CLOSE_BAD_FRAME: u16 = 4400;
const CLOSE_GONE: u16 = 4404;
const MAX_BACKLOG: u32 = 10_000;

/// Survives hibernation with the socket.
#[derive(Serialize, Deserialize, Default)]
struct Attachment {
    authed: bool,
}

pub fn accept(state: &State, store: &Store) -> Result<Response> {
    if !store.exists()? {
        return Err(crate::Error::NotFound);
    }
    let pair = WebSocketPair::new()?;
    state.accept_web_socket(&pair.server);
    pair.server.serialize_attachment(Attachment::default())?;
    Ok(Response::from_websocket(pair.client)?)
}

fn send(ws: &WebSocket, frame: &ServerFrame) {
    if let Ok(text) = serde_json::to_string(frame) {
        let _ = ws.send_with_str(text);
    }
}

fn refuse(ws: &WebSocket, code: u16, error: &str, message: &str) {
    send(ws, &ServerFrame::Error { code: error.into(), message: message.into() });
    let _ = ws.close(Some(code), Some(error));
}

pub fn on_frame(store: &Store, ws: &WebSocket, message: WebSocketIncomingMessage) {
    let WebSocketIncomingMessage::String(text) = message else {
        return refuse(ws, CLOSE_BAD_FRAME, "bad_frame", "Frames are JSON text.");
    };
    let Ok(frame) = serde_json::from_str::<ClientFrame>(&text) else {
        return refuse(ws, CLOSE_BAD_FRAME, "bad_frame", "Unknown frame.");
    };
    let authed = ws.deserialize_attachment::<Attachment>().ok().flatten().unwrap_or_default().authed;
    match frame {
        ClientFrame::Hello { token, after } => {
            if !matches!(store.token_matches(&token), Ok(true)) {
                return refuse(ws, CLOSE_UNAUTHORIZED, "not_found", "No such conversation, or the token does not open it.");
            }
            let _ = ws.serialize_attachment(Attachment { authed: true });
            // Synchronous from here to `ready`: no message can slip between backlog and live.
            let backlog = store.after(after, MAX_BACKLOG).unwrap_or_default();
            let mut last_seq = after;
            for message in backlog {
                last_seq = message.seq;
                send(ws, &ServerFrame::Message { message });
            }
            send(ws, &ServerFrame::Ready { last_seq });
        }
        ClientFrame::Ping if authed => send(ws, &ServerFrame::Pong),
        ClientFrame::Ping => refuse(ws, CLOSE_UNAUTHORIZED, "hello_first", "Say hello first."),
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
        send(&ws, &ServerFrame::Error { code: "not_found".into(), message: "This conversation was deleted.".into() });
        let _ = ws.close(Some(CLOSE_GONE), Some(reason));
    }
}
