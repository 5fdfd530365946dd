//! Frames on `GET /v1/conversations/{id}/live` (WebSocket, JSON text frames).
//!
//! The token never travels in the URL: the client's first frame is `hello` with the token
//! and the last `seq` it has; the relay answers with everything after it (at most 10,000
//! messages), then `ready`, then every new message as it is stored.
//!
//! After `ready`, a client that holds less than `ready.last_seq` (the backlog was capped)
//! fetches the rest with `GET /v1/conversations/{id}/messages?after=<last seq it holds
//! without a gap>` (pages of up to 500, while `has_more`); live messages keep arriving
//! meanwhile.
//!
//! A conversation that is not open to this token (wrong token, deleted, erased, never
//! there) gets `Error { code: "not_found" }` and close code 4404, the same for all of them.

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
    /// `last_seq` is the conversation's highest stored `seq` when the backlog was read (0 for
    /// an empty thread), which is more than the last backlog message's when the backlog was
    /// capped: fetch the rest over HTTP.
    Ready { last_seq: u64 },
    Pong,
    /// Sent just before the relay closes the socket: `not_found` (close code 4404: the
    /// conversation is not open to this token, for good), `bad_frame` (4400), `hello_first`
    /// (4401).
    Error { code: String, message: String },
}
