//! Pigeon relay: a stateless Worker that routes each conversation to its own Durable Object.
//!
//! The entry point only dispatches; features live in their own modules.

mod agent;
mod conversation;
mod conversations;
mod error;
mod http;
mod messages;
mod routes;
mod sites;
mod tokens;

pub use conversation::Conversation;
pub use error::{Error, Result};

use worker::{Context, Env, Request, Response, event};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    Ok(routes::handle(req, env, ctx).await)
}
