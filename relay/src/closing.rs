//! Closing conversations: a teammate's close (asking for a rating as the site says), and the
//! daily sweep that closes conversations idle for their site's `auto_close_days` (never asking).

use pigeon_protocol::CloseConversation;
use serde::Deserialize;
use worker::{Env, Request, Response};

use crate::conversation::op::{self, Answer, Caller, Op};
use crate::routes::{Asked, Ctx};
use crate::{Result, http, ratings};

/// Conversations closed per sweep at most; the next day's sweep takes the rest.
const SWEEP_LIMIT: u32 = 500;

/// `POST /v1/agent/conversations/{id}/close` and `POST /v1/inbox/conversations/{id}/close`,
/// body optional (`{ask_rating}`): done for now; the shopper writing again reopens it. A close
/// that asks for a rating also emails the shopper the rating links.
pub async fn close(mut req: Request, cx: &Ctx, asked: Asked) -> Result<Response> {
    let body: CloseConversation = http::read_optional_json(&mut req).await?;
    let ask_rating = ratings::asks(cx.site.ratings, body.ask_rating)?;
    let relay = req.url()?.origin().ascii_serialization();
    let close = Op::Close { ask_rating, origin: Some(relay.clone()) };
    let (ask, contact) = op::send(&cx.env, &asked.conversation, asked.caller, close).await?.closed()?;
    // A close that asked: the thread says so with the link (the object did), and the shopper
    // hears by email too, if they gave an address.
    if let (Some(ask), Some(to)) = (ask, contact) {
        ratings::ask_by_email(&cx.env, &cx.site, &asked.conversation, ask, &to, &relay).await;
    }
    http::no_content()
}

/// Closes open conversations whose last message (or start) is older than their site's
/// `auto_close_days`, oldest first. Each object checks again that nothing was written and no
/// teammate reopened it since (the index lags, and keeps no reopens). Returns how many closed.
pub async fn sweep_idle(env: &Env) -> Result<u32> {
    #[derive(Deserialize)]
    struct Idle {
        id: String,
        idle_since: String,
    }
    let idle: Vec<Idle> = env
        .d1("DB")?
        .prepare(
            "SELECT c.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || s.auto_close_days || ' days') AS idle_since \
             FROM sites s JOIN conversations c ON c.site_id = s.id AND c.status = 'open' \
             WHERE s.auto_close_days > 0 \
               AND COALESCE(c.last_message_at, c.created_at) < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || s.auto_close_days || ' days') \
             ORDER BY COALESCE(c.last_message_at, c.created_at) LIMIT ?1",
        )
        .bind(&[SWEEP_LIMIT.into()])?
        .all()
        .await?
        .results()?;
    let mut closed = 0;
    for c in idle {
        match op::send(env, &c.id, Caller::Worker, Op::CloseIdle { idle_since: c.idle_since }).await {
            Ok(Answer::Closed { .. }) => closed += 1,
            // In use after all (its object knows better than the index).
            Ok(_) => {}
            Err(e) => worker::console_error!("idle close of {}: {e:?}", c.id),
        }
    }
    Ok(closed)
}
