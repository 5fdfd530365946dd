//! Message routes for shoppers and agents: list, post (exactly once per `client_id`), read
//! positions, live.

use pigeon_protocol::{MarkRead, PostMessage, StoredMessage, validate};
use worker::{Request, Response, Url};

use crate::conversation::op::{self, NewMessage, Op};
use crate::routes::{Asked, Ctx};
use crate::{Error, Result, http, limits};

/// Most messages one `GET .../messages` returns (`limit` 1..=500).
const MAX_PAGE: u32 = 500;

/// `GET .../messages?after={seq}&limit={n}` for shopper or agent.
pub async fn list(req: &Request, cx: &Ctx, asked: Asked) -> Result<Response> {
    let (after, limit) = page_query(&req.url()?)?;
    let page = op::send(&cx.env, &asked.conversation, asked.caller, Op::Page { after, limit }).await?.page()?;
    http::json(200, &page)
}

/// `after` (0..=2^53-1, default 0) and `limit` (1..=500, default 100); anything else is refused.
fn page_query(url: &Url) -> Result<(u64, u32)> {
    let (mut after, mut limit) = (0u64, 100u32);
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "after" => after = v.parse().ok().filter(|n| *n <= validate::MAX_SEQ).ok_or_else(|| bad_query("after", 0, validate::MAX_SEQ))?,
            "limit" => limit = v.parse().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| bad_query("limit", 1, MAX_PAGE.into()))?,
            _ => {}
        }
    }
    Ok((after, limit))
}

fn bad_query(name: &str, min: u64, max: u64) -> Error {
    Error::Invalid(validate::Invalid::new("invalid_query", format!("Query parameter `{name}` must be an integer from {min} to {max}.")))
}

/// `POST /v1/conversations/{id}/messages`.
pub async fn post(mut req: Request, cx: &Ctx, asked: Asked) -> Result<Response> {
    limits::check(&req, &cx.env, &cx.site.id, limits::Kind::Message).await?;
    let input: PostMessage = http::read_json(&mut req).await?;
    let msg = validate::shopper_message(&input)?;
    store(cx, asked, NewMessage { client_id: msg.client_id, body: msg.body, author_name: None, context: msg.context, quiet: false }).await
}

/// Sends a validated message to the conversation's object, which stores it, pushes it
/// live and keeps the merchant's index current: `201` when new, `200` for a retry.
pub async fn store(cx: &Ctx, asked: Asked, message: NewMessage) -> Result<Response> {
    let (message, created) = op::send(&cx.env, &asked.conversation, asked.caller, Op::Post(message)).await?.stored()?;
    http::json(if created { 201 } else { 200 }, &StoredMessage { message })
}

/// `POST .../read` `{seq}` for shopper or agent: read positions (the agent's drives the
/// unread count in the index).
pub async fn mark_read(mut req: Request, cx: &Ctx, asked: Asked) -> Result<Response> {
    let read: MarkRead = http::read_json(&mut req).await?;
    let seq = validate::seq(read.seq)?;
    op::send(&cx.env, &asked.conversation, asked.caller, Op::MarkRead { seq }).await?.done()?;
    http::no_content()
}

/// `GET .../live`: the WebSocket, handed to the conversation's object.
pub async fn live(req: &Request, cx: &Ctx, conversation: &str) -> Result<Response> {
    http::require_websocket(req)?;
    op::upgrade(&cx.env, conversation).await
}
