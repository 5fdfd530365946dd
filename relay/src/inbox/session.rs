//! Signing in to the inbox: a single-use link by email, exchanged for a session cookie.
//!
//! - The link's token (256 random bits) is in the URL fragment, which browsers never send to
//!   a server or in a `Referer`; the inbox page removes it from the address bar at once and
//!   posts it here. Only its hash is stored; it works once, for 15 minutes.
//! - Asking for a link answers the same whether or not the address is a teammate's, and is
//!   rate limited per address and per client.
//! - The session token lives only in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` over
//!   https) scoped to `/v1/inbox`; state-changing requests must also come from the inbox's
//!   own origin (checked by the router). 30 days; "Sign out" revokes it on the relay.

use worker::{Env, Request};

use crate::mail::{MailConfig, Mailbox, notice};
use crate::{Error, Result, tokens};

pub const COOKIE: &str = "pigeon_inbox";
const COOKIE_PATH: &str = "/v1/inbox";
/// How long a sign-in link works: `SIGNIN_LINK_SECONDS`, 15 minutes unless set.
fn link_ttl_ms(env: &Env) -> f64 {
    env.var("SIGNIN_LINK_SECONDS").ok().and_then(|v| v.to_string().parse::<f64>().ok()).filter(|s| *s > 0.0).unwrap_or(900.0) * 1000.0
}
pub const SESSION_TTL_MS: f64 = 30.0 * 86_400_000.0;
/// Links one address may ask for per link lifetime.
const LINKS_PER_ADDRESS: u32 = 5;

/// The session token in a `Cookie` header, if any.
pub fn token_in(cookie_header: &str) -> Option<&str> {
    cookie_header.split(';').filter_map(|pair| pair.trim().split_once('=')).find(|(name, _)| *name == COOKIE).map(|(_, value)| value.trim()).filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a new session.
pub fn set_cookie(token: &str, secure: bool) -> String {
    let max_age = (SESSION_TTL_MS / 1000.0) as u64;
    format!("{COOKIE}={token}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; SameSite=Strict{}", if secure { "; Secure" } else { "" })
}

/// `Set-Cookie` that ends the session in this browser.
pub fn clear_cookie(secure: bool) -> String {
    format!("{COOKIE}=; Path={COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Strict{}", if secure { "; Secure" } else { "" })
}

/// A signed-in person: their address and the hash of their session token.
#[derive(Debug, Clone)]
pub struct Person {
    pub email: String,
    pub session_hash: String,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The person whose live session cookie `req` carries, if any.
pub async fn signed_in(env: &Env, req: &Request) -> Result<Option<Person>> {
    let header = req.headers().get("cookie")?.unwrap_or_default();
    let Some(token) = token_in(&header) else { return Ok(None) };
    let hash = tokens::hash(token);
    Ok(email_of(env, &hash).await?.map(|email| Person { email, session_hash: hash }))
}

/// Whose session this is (by its token's hash), while it is live: not revoked, not expired.
pub async fn email_of(env: &Env, session_hash: &str) -> Result<Option<String>> {
    #[derive(serde::Deserialize)]
    struct Row {
        email: String,
    }
    let row: Option<Row> = env
        .d1("DB")?
        .prepare("SELECT email FROM sessions WHERE token_hash = ?1 AND revoked_ms IS NULL AND expires_ms > ?2")
        .bind(&[session_hash.into(), now_ms().into()])?
        .first(None)
        .await?;
    Ok(row.map(|r| r.email))
}

/// Emails a sign-in link to `email` if it is a teammate's address; otherwise does nothing.
/// `origin` is the inbox's origin (the relay's); `invite` (site name, who invited) when it
/// comes with an invitation. The caller answers the same either way.
pub async fn send_link(env: &Env, email: &str, origin: &str, invite: Option<(&str, &str)>) -> Result<()> {
    let db = env.d1("DB")?;
    #[derive(serde::Deserialize)]
    struct N {
        n: u32,
    }
    let known: Option<N> = db.prepare("SELECT COUNT(*) AS n FROM teammates WHERE email = ?1").bind(&[email.into()])?.first(None).await?;
    if known.is_none_or(|k| k.n == 0) {
        return Ok(());
    }
    let now = now_ms();
    let ttl = link_ttl_ms(env);
    let recent: Option<N> = db
        .prepare("SELECT COUNT(*) AS n FROM signin_links WHERE email = ?1 AND created_ms > ?2")
        .bind(&[email.into(), (now - ttl).into()])?
        .first(None)
        .await?;
    if recent.is_some_and(|r| r.n >= LINKS_PER_ADDRESS) && !crate::limits::off(env) {
        // Quietly: the answer must not tell whether the address is known.
        worker::console_log!("sign-in: link limit reached for an address");
        return Ok(());
    }
    let Some(config) = MailConfig::from_env(env) else {
        worker::console_error!("sign-in: email is off, no link sent");
        return Ok(());
    };
    let token = tokens::new_token()?;
    db.prepare("INSERT INTO signin_links (token_hash, email, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)")
        .bind(&[tokens::hash(&token).into(), email.into(), now.into(), (now + ttl).into()])?
        .run()
        .await?;
    let words = notice::signin(&format!("{origin}/inbox/#signin={token}"), (ttl / 60_000.0).round().max(1.0) as u32, invite);
    crate::mail::send_notice(env, &config, Mailbox::bare(email), words, &format!("signin.{}", tokens::new_conversation_id()?), "sign-in").await
}

/// Exchanges a sign-in link's token for a new session: `(session token, address)`. A link
/// works once (claimed atomically), until it expires; anything else is `SignInLinkInvalid`.
pub async fn open(env: &Env, link_token: &str) -> Result<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Row {
        email: String,
    }
    let now = now_ms();
    let db = env.d1("DB")?;
    let claimed: Option<Row> = db
        .prepare("UPDATE signin_links SET used_ms = ?2 WHERE token_hash = ?1 AND used_ms IS NULL AND expires_ms > ?2 RETURNING email")
        .bind(&[tokens::hash(link_token).into(), now.into()])?
        .first(None)
        .await?;
    let email = claimed.ok_or(Error::SignInLinkInvalid)?.email;
    let token = tokens::new_token()?;
    db.prepare("INSERT INTO sessions (token_hash, email, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)")
        .bind(&[tokens::hash(&token).into(), email.as_str().into(), now.into(), (now + SESSION_TTL_MS).into()])?
        .run()
        .await?;
    Ok((token, email))
}

/// Ends a session on the relay.
pub async fn revoke(env: &Env, session_hash: &str) -> Result<()> {
    env.d1("DB")?
        .prepare("UPDATE sessions SET revoked_ms = ?2 WHERE token_hash = ?1 AND revoked_ms IS NULL")
        .bind(&[session_hash.into(), now_ms().into()])?
        .run()
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others_and_only_by_its_name() {
        assert_eq!(token_in("a=1; pigeon_inbox=abc; b=2"), Some("abc"));
        assert_eq!(token_in("pigeon_inbox=abc"), Some("abc"));
        assert_eq!(token_in("xpigeon_inbox=abc; pigeon_inboxx=def"), None);
        assert_eq!(token_in("pigeon_inbox="), None);
        assert_eq!(token_in(""), None);
    }

    #[test]
    fn cookies_are_http_only_strict_and_scoped() {
        let c = set_cookie("tok", true);
        assert!(c.starts_with("pigeon_inbox=tok; Path=/v1/inbox; Max-Age=2592000; HttpOnly; SameSite=Strict; Secure"), "{c}");
        assert!(!set_cookie("tok", false).contains("Secure"));
        assert!(clear_cookie(true).contains("Max-Age=0"));
    }
}
