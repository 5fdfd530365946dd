//! Frames on `GET /v1/conversations/{id}/live` (WebSocket, JSON text frames).
//!
//! The token never travels in the URL: the client's first frame is `hello` with the token
//! and the last `seq` it has; the relay answers with everything after it, then `ready`,
//! then every new message as it is stored.

use serde::{Deserialize, Serialize};

use crate::Message;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Hello { token: String, after: u64 },
    Ping,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// One stored message, in `seq` order.
    Message { message: Message },
    /// The backlog after the client's `after` has been sent; live messages follow.
    Ready { last_seq: u64 },
    Pong,
    /// Sent just before the relay closes the socket.
    Error { code: String, message: String },
}
