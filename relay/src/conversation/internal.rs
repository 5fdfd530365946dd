//! What the Worker sends to a conversation object. Only the Worker can reach the object, and
//! it builds each internal request itself, so these headers never come from a client.

use pigeon_protocol::{Author, Context};
use serde::{Deserialize, Serialize};
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

use crate::Result;

/// Set by the Worker: `agent` on calls for a verified agent, `worker` for its own jobs
/// (creating, erasing on retention). Absent: the caller must show the conversation token.
pub const ROLE_HEADER: &str = "x-pigeon-role";

#[derive(Debug, Serialize, Deserialize)]
pub struct Init {
    pub id: String,
    pub site: String,
    pub token_hash: String,
    pub created_at: String,
    pub context: Option<Context>,
}

/// A validated, normalised message to store.
#[derive(Debug, Serialize, Deserialize)]
pub struct Append {
    pub author: Author,
    pub client_id: String,
    pub body: String,
    pub author_name: Option<String>,
    pub context: Option<Context>,
}

/// A reply that arrived by email, for `/email`.
#[derive(Debug, Serialize, Deserialize)]
pub struct EmailReply {
    pub append: Append,
    /// The sender's address (checked against the shopper's contact address).
    pub from: String,
    /// The mail's Message-ID, so our next email continues its thread.
    pub message_id: Option<String>,
}

pub enum As<'a> {
    Shopper { token: &'a str },
    Agent,
    Worker,
}

pub fn stub(env: &Env, conversation: &str) -> Result<Stub> {
    Ok(env.durable_object("CONVERSATIONS")?.id_from_name(conversation)?.get_stub()?)
}

/// Calls `op` (e.g. `/messages?after=3`) on the conversation's object.
pub async fn call(env: &Env, conversation: &str, method: Method, op: &str, who: As<'_>, body: Option<String>) -> Result<Response> {
    let headers = Headers::new();
    match who {
        As::Shopper { token } => headers.set("authorization", &format!("Bearer {token}"))?,
        As::Agent => headers.set(ROLE_HEADER, "agent")?,
        As::Worker => headers.set(ROLE_HEADER, "worker")?,
    }
    if body.is_some() {
        headers.set("content-type", "application/json")?;
    }
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers).with_body(body.map(Into::into));
    let req = Request::new_with_init(&format!("https://conversation{op}"), &init)?;
    Ok(stub(env, conversation)?.fetch_with_request(req).await?)
}

/// Opens the live socket on the object; authentication happens in the first frame.
pub async fn upgrade(env: &Env, conversation: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("upgrade", "websocket")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let req = Request::new_with_init("https://conversation/live", &init)?;
    Ok(stub(env, conversation)?.fetch_with_request(req).await?)
}
