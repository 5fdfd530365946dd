//! Pigeon relay: a stateless Worker that routes each conversation to its own Durable Object.
//!
//! The entry point only dispatches; features live in their own modules.

mod agent;
mod closing;
mod conversation;
mod conversations;
mod egress;
mod error;
mod fanout;
mod files;
mod http;
mod identity;
mod hub;
mod inbound;
mod inbox;
mod limits;
mod mail;
mod messages;
mod metrics;
#[cfg(test)]
mod openapi;
mod origin;
mod privacy;
mod ratings;
mod push;
mod resume;
mod routes;
mod sites;
mod time;
mod tokens;
mod webhooks;

pub use conversation::Conversation;
pub use hub::SiteHub;
pub use error::{Error, Result};

use worker::{Context, Env, ForwardableEmailMessage, MessageBatch, Request, ScheduleContext, ScheduledEvent, event};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<web_sys::Response> {
    // The closing email's rating links: a page, not the API.
    if req.path().starts_with("/rate/") {
        return Ok(ratings::page::answer(req, &env).await.into());
    }
    Ok(routes::handle(req, env).await)
}

/// Daily: erase conversations idle longer than their site's retention; close those idle
/// longer than their site's `auto_close_days`; old webhook deliveries leave the log.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match privacy::enforce_retention(&env).await {
        Ok(n) => worker::console_log!("retention: erased {n} conversations"),
        Err(e) => worker::console_error!("retention failed: {e}"),
    }
    match closing::sweep_idle(&env).await {
        Ok(n) => worker::console_log!("idle: closed {n} conversations"),
        Err(e) => worker::console_error!("idle sweep failed: {e}"),
    }
    match webhooks::prune(&env).await {
        Ok(n) => worker::console_log!("webhooks: {n} old deliveries left the log"),
        Err(e) => worker::console_error!("webhook log clean-up failed: {e}"),
    }
    match webhooks::sweep(&env).await {
        Ok(n) => worker::console_log!("webhooks: {n} conversations' stranded deliveries queued again"),
        Err(e) => worker::console_error!("webhook sweep failed: {e}"),
    }
}

/// Replies to our notification emails (see `inbound`).
#[event(email)]
async fn email(message: ForwardableEmailMessage, env: Env, _ctx: Context) -> worker::Result<()> {
    inbound::receive(message, env).await;
    Ok(())
}

/// Webhook events, from the conversations' objects (see `webhooks`).
#[event(queue)]
async fn queue(batch: MessageBatch<webhooks::QueueJob>, env: Env, _ctx: Context) -> worker::Result<()> {
    if let Err(e) = webhooks::consume(batch, env).await {
        worker::console_error!("webhooks: {e}");
    }
    Ok(())
}
