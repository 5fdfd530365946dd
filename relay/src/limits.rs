//! Per client IP and site limits, with Cloudflare's Rate Limiting binding (also simulated by
//! `wrangler dev`). Per-conversation limits live in the conversation object.

use worker::{Env, Request};

use crate::{Error, Result};

/// Binding for creating conversations and for sending messages.
pub enum Kind {
    NewConversation,
    Message,
    /// Asking for a sign-in link or opening one (key `inbox:<ip>`).
    SignIn,
}

/// `RATE_LIMITS = "off"` switches every limit off (load benchmark, tests).
pub fn off(env: &Env) -> bool {
    env.var("RATE_LIMITS").map(|v| v.to_string() == "off").unwrap_or(false)
}

/// The client's IP: set by Cloudflare's edge (and by wrangler dev); a client cannot choose it
/// in production.
pub fn client_ip(req: &Request) -> Result<String> {
    Ok(req.headers().get("cf-connecting-ip")?.unwrap_or_else(|| "unknown".into()))
}

pub async fn check(req: &Request, env: &Env, site: &str, kind: Kind) -> Result<()> {
    if off(env) {
        return Ok(());
    }
    check_ip(env, site, &client_ip(req)?, kind).await
}

/// As [`check`], for an IP known already (a message on a live socket).
pub async fn check_ip(env: &Env, site: &str, ip: &str, kind: Kind) -> Result<()> {
    if off(env) {
        return Ok(());
    }
    let (binding, retry_after_secs) = match kind {
        Kind::NewConversation => ("NEW_CONVERSATION_LIMIT", 60),
        Kind::Message => ("MESSAGE_LIMIT", 10),
        Kind::SignIn => ("SIGNIN_LIMIT", 60),
    };
    let outcome = env.rate_limiter(binding)?.limit(format!("{site}:{ip}")).await?;
    if outcome.success { Ok(()) } else { Err(Error::RateLimited { retry_after_secs }) }
}
