//! Shopper message routes: list, post (exactly once per `client_id`), live.

use pigeon_protocol::{Author, PostMessage, validate};
use worker::{Env, Method, Request, Response};

use crate::conversation::internal::{self, Append, As};
use crate::{Error, Result, http};

pub async fn list(req: &Request, env: &Env, conversation: &str) -> Result<Response> {
    let token = http::shopper_token(req)?;
    let query = req.url()?.query().map(|q| format!("?{q}")).unwrap_or_default();
    internal::call(env, conversation, Method::Get, &format!("/messages{query}"), As::Shopper { token: &token }, None).await
}

pub async fn post(mut req: Request, env: &Env, conversation: &str) -> Result<Response> {
    let token = http::shopper_token(&req)?;
    if let Some(site) = crate::sites::site_of_conversation(env, conversation).await? {
        crate::limits::check(&req, env, &site, crate::limits::Kind::Message).await?;
    }
    let input: PostMessage = http::read_json(&mut req).await?;
    let msg = validate::shopper_message(&input)?;
    let append = Append { author: Author::Shopper, client_id: msg.client_id, body: msg.body, author_name: None, context: msg.context };
    store(env, conversation, As::Shopper { token: &token }, &append).await
}

/// Sends a validated message to the conversation's object, which stores it, pushes it
/// live and keeps the merchant's index current.
pub async fn store(env: &Env, conversation: &str, who: As<'_>, append: &Append) -> Result<Response> {
    let body = serde_json::to_string(append).map_err(|e| Error::Internal(e.to_string()))?;
    internal::call(env, conversation, Method::Post, "/messages", who, Some(body)).await
}

#[derive(serde::Deserialize)]
struct Read {
    seq: u64,
}

/// `POST .../read` `{seq}` for shopper or agent: read positions (the agent's drives the
/// unread count in the index).
pub async fn mark_read_as(mut req: Request, env: &Env, conversation: &str, who: As<'_>) -> Result<Response> {
    let read: Read = http::read_json(&mut req).await?;
    let body = serde_json::json!({ "seq": validate::seq(read.seq)? }).to_string();
    internal::call(env, conversation, Method::Post, "/read", who, Some(body)).await
}

pub async fn mark_read(req: Request, env: &Env, conversation: &str) -> Result<Response> {
    let token = http::shopper_token(&req)?;
    mark_read_as(req, env, conversation, As::Shopper { token: &token }).await
}

pub async fn live(req: &Request, env: &Env, conversation: &str) -> Result<Response> {
    let upgrade = req.headers().get("upgrade")?.unwrap_or_default();
    if !upgrade.eq_ignore_ascii_case("websocket") {
        return Err(Error::Invalid(validate::Invalid {
            code: "websocket_required",
            message: "This endpoint speaks WebSocket only.".into(),
        }));
    }
    internal::upgrade(env, conversation).await
}
