//! Message routes for shoppers and agents: list, post (exactly once per `client_id`), read
//! positions, live.

use pigeon_protocol::{MarkRead, PostMessage, StoredMessage, validate};
use worker::{Request, Response, Url};

use crate::conversation::op::{self, NewMessage, Op, Window};
use crate::routes::{Asked, Ctx};
use crate::http::Reply;
use crate::{Error, Result, http, limits};

/// Most messages one `GET .../messages` returns (`limit` 1..=500).
const MAX_PAGE: u32 = 500;

/// `GET .../messages?after={seq}&limit={n}` (or `before={seq}`, or `last={n}`) for shopper,
/// agent or teammate.
pub async fn list(req: &Request, cx: &Ctx, asked: Asked) -> Result<Response> {
    let (window, limit) = page_query(&req.url()?)?;
    let page = op::send(&cx.env, &asked.conversation, asked.caller, Op::Page { window, limit }).await?.page()?;
    http::json(200, &page)
}

/// `after` (0..=2^53-1, default 0) or `before` (1..=2^53-1), with `limit` (1..=500, default
/// 100); or `last` (1..=500) alone: the newest. Anything else is refused, never clamped.
fn page_query(url: &Url) -> Result<(Window, u32)> {
    let (mut after, mut before, mut limit, mut last) = (None, None, None, None);
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "after" => after = Some(v.parse().ok().filter(|n| *n <= validate::MAX_SEQ).ok_or_else(|| bad_query("after", 0, validate::MAX_SEQ))?),
            "before" => before = Some(v.parse().ok().filter(|n| (1..=validate::MAX_SEQ).contains(n)).ok_or_else(|| bad_query("before", 1, validate::MAX_SEQ))?),
            "limit" => limit = Some(v.parse().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| bad_query("limit", 1, MAX_PAGE.into()))?),
            "last" => last = Some(v.parse().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| bad_query("last", 1, MAX_PAGE.into()))?),
            _ => {}
        }
    }
    match (after, before, last) {
        (_, _, Some(last)) if after.is_none() && before.is_none() && limit.is_none() => Ok((Window::Newest, last)),
        (Some(_), Some(_), _) | (_, _, Some(_)) => Err(Error::Invalid(validate::Invalid::new(
            "invalid_query",
            "Ask for one window: `after` or `before` (each with `limit`), or `last` alone.",
        ))),
        (None, Some(before), None) => Ok((Window::Before(before), limit.unwrap_or(100))),
        (after, None, None) => Ok((Window::After(after.unwrap_or(0)), limit.unwrap_or(100))),
    }
}

fn bad_query(name: &str, min: u64, max: u64) -> Error {
    Error::Invalid(validate::Invalid::new("invalid_query", format!("Query parameter `{name}` must be an integer from {min} to {max}.")))
}

/// `POST /v1/conversations/{id}/messages`, the hot path: the Worker checks what it alone
/// knows (the site and origin, before this; the per-IP limit here), then passes the request
/// to the conversation's object as it came. The object reads, validates, stores and answers
/// it whole, with the API's headers and CORS (`Conversation::post_from_shop`): one request,
/// and no JSON read or written in the Worker. The object only reads bodies that say their
/// length, up to 16 KiB: one that does not (a chunked upload) is read and checked here and
/// sent as an `Op`, as every other route does, with the same answers.
pub async fn post(mut req: Request, cx: &Ctx, asked: Asked) -> Result<Reply> {
    limits::check(&req, &cx.env, &cx.site.id, limits::Kind::Message).await?;
    match req.headers().get("content-length")?.map(|l| l.trim().parse::<usize>()) {
        Some(Ok(len)) if len <= validate::MAX_REQUEST_BYTES => Ok(Reply::Whole(op::pass(&cx.env, &asked.conversation, &req).await?)),
        // In `read_json`'s order: the type, then the size.
        Some(Ok(_)) => {
            http::check_content_type(&req.headers().get("content-type")?.unwrap_or_default())?;
            Err(Error::TooLarge)
        }
        _ => {
            let input: PostMessage = http::read_json(&mut req).await?;
            Ok(Reply::Made(store(cx, asked, NewMessage::from_shopper(&input)?).await?))
        }
    }
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
    op::upgrade(&cx.env, conversation, &limits::client_ip(req)?).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str) -> std::result::Result<(Window, u32), String> {
        page_query(&Url::parse(&format!("https://relay.test/v1/conversations/c/messages?{q}")).unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn each_window_is_read_with_its_limit() {
        assert_eq!(query(""), Ok((Window::After(0), 100)));
        assert_eq!(query("after=12&limit=500"), Ok((Window::After(12), 500)));
        assert_eq!(query("before=901&limit=100"), Ok((Window::Before(901), 100)));
        assert_eq!(query("before=2"), Ok((Window::Before(2), 100)));
        assert_eq!(query("last=100"), Ok((Window::Newest, 100)));
    }

    #[test]
    fn mixed_windows_and_numbers_out_of_range_are_refused() {
        for q in ["last=100&after=3", "last=100&limit=5", "last=5&before=9", "after=1&before=9", "last=0", "last=501", "before=0", "before=9007199254740992", "before=-1", "after=1.5"] {
            assert!(query(q).is_err(), "{q} was accepted");
        }
    }
}
