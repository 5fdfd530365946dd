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
//!
//! After `hello`, a shopper's message may travel on the socket too: `send` carries what
//! `POST .../messages` takes, with the same rules (one message per `client_id`, stored before
//! it is acknowledged or broadcast, the same validation and limits). It is answered `ack` with
//! the stored message (`created: false` for a repeat) or `refused` with the POST's error code;
//! a refusal leaves the socket open.

use serde::{Deserialize, Serialize};

use crate::{Message, PostMessage};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Hello { token: String, after: u64 },
    Ping,
    /// A shopper's message, as `POST .../messages` takes it.
    Send(PostMessage),
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
    /// `send` stored: the message as stored (`created` is false when this `client_id` was
    /// stored before, by either path). Every socket also gets it as a `message` frame.
    Ack { client_id: String, message: Message, created: bool },
    /// `send` not stored: the code and sentence the POST would answer (`retry_after` seconds
    /// for `rate_limited`). The socket stays open.
    Refused {
        client_id: String,
        code: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u32>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_carries_a_post_body_under_its_type() {
        let f: ClientFrame = serde_json::from_str(r#"{"type":"send","client_id":"c1","body":"hi"}"#).unwrap();
        assert_eq!(f, ClientFrame::Send(PostMessage { client_id: "c1".into(), body: "hi".into(), context: None }));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"send","body":"no id"}"#).is_err());
        let refused = ServerFrame::Refused { client_id: "c1".into(), code: "rate_limited".into(), message: "later".into(), retry_after: Some(3) };
        assert_eq!(serde_json::to_value(&refused).unwrap()["type"], "refused");
    }
}
