//! Signed customer identity (see `pigeon_protocol::identity`).
//!
//! `POST /v1/sites/{site}/identify` is asked by the widget's extras when the page has called
//! `Pigeon('identify', ...)`: the signature is checked against the site's identity secret, and
//! the answer is the conversation this browser should hold for the customer: their most
//! active one on the site (a device new to it gets its own token), after the one the browser
//! holds became theirs if it was nobody's; or none (`204`: the browser starts afresh, whatever
//! it held, since it was someone else's).
//! A wrong signature attaches nothing and answers `403 identity_not_verified`.
//!
//! The owners make the secret in the inbox (`/v1/inbox/sites/{site}/identity`): shown once,
//! made anew (the old one stops at once) or removed (identity off).

use hmac::{Hmac, Mac};
use pigeon_protocol::identity::{self, SECRET_PREFIX};
use pigeon_protocol::{Conversation, Identified, Identify, IdentitySettings};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use worker::{Env, Request, Response};

use crate::conversation::op::{self, Caller, Op};
use crate::conversations::nullable;
use crate::routes::Ctx;
use crate::{Error, Result, http, limits, tokens};

/// The signature a shop's server makes for `customer_id`: lowercase hex HMAC-SHA256.
pub fn signature(secret: &str, customer_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(customer_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Is `given` the signature of `customer_id`? Constant time in the compared bytes.
pub fn verified(secret: &str, customer_id: &str, given: &str) -> bool {
    signature(secret, customer_id).as_bytes().ct_eq(given.as_bytes()).into()
}

#[derive(serde::Deserialize)]
struct SecretRow {
    identity_secret: Option<String>,
    identity_created_at: Option<String>,
}

async fn secret_row(env: &Env, site: &str) -> Result<SecretRow> {
    let row: Option<SecretRow> =
        env.d1("DB")?.prepare("SELECT identity_secret, identity_created_at FROM sites WHERE id = ?1").bind(&[site.into()])?.first(None).await?;
    row.ok_or(Error::NotFound)
}

/// One of the customer's conversations as the index has it.
#[derive(serde::Deserialize)]
struct Row {
    id: String,
    created_at: String,
    customer_id: Option<String>,
    customer_email: Option<String>,
    customer_name: Option<String>,
}

/// `POST /v1/sites/{site}/identify` `{customer, conversation?}`.
pub async fn identify(mut req: Request, cx: &Ctx) -> Result<Response> {
    let (env, site) = (&cx.env, &cx.site);
    let body: Identify = http::read_json(&mut req).await?;
    let customer = identity::customer(&body.customer)?;
    let secret = secret_row(env, &site.id).await?.identity_secret.ok_or(Error::IdentityOff)?;
    if !verified(&secret, &customer.id, &customer.signature) {
        return Err(Error::IdentityNotVerified);
    }
    let db = env.d1("DB")?;
    let row_of = |sql: &'static str, id: &str| db.prepare(sql).bind(&[site.id.as_str().into(), id.into()]);
    // The conversation the browser holds stays held if it is the customer's, or nobody's (it
    // becomes theirs), and the browser proves it holds it.
    let (mut kept, mut another_customers) = (None, false);
    if let Some(held) = &body.conversation {
        let row: Option<Row> = row_of("SELECT id, created_at, customer_id, customer_email, customer_name FROM conversations WHERE site_id = ?1 AND id = ?2", &held.id)?.first(None).await?;
        let owner = row.map(|r| r.customer_id);
        let opens = || async { op::send(env, &held.id, Caller::Shopper { token: held.token.clone() }, Op::Check).await.is_ok_and(|a| a.done().is_ok()) };
        match owner {
            Some(Some(theirs)) if theirs == customer.id => {
                if opens().await {
                    kept = Some(held);
                }
            }
            Some(None) if opens().await => {
                let attached = db
                    .prepare("UPDATE conversations SET customer_id = ?3, customer_email = ?4, customer_name = ?5 WHERE site_id = ?1 AND id = ?2 AND customer_id IS NULL")
                    .bind(&[site.id.as_str().into(), held.id.as_str().into(), customer.id.as_str().into(), nullable(customer.email.clone()), nullable(customer.name.clone())])?
                    .run()
                    .await?;
                if attached.meta()?.and_then(|m| m.changes).unwrap_or(0) == 1 {
                    kept = Some(held);
                }
            }
            // Someone else's, on a shared computer.
            Some(Some(_)) => another_customers = opens().await,
            // Not this site's, or the token does not open it.
            _ => {}
        }
    }
    // The customer's most active conversation is the one every device shows.
    let latest: Option<Row> = row_of(
        "SELECT id, created_at, customer_id, customer_email, customer_name FROM conversations \
         WHERE site_id = ?1 AND customer_id = ?2 ORDER BY COALESCE(last_message_at, created_at) DESC, id DESC LIMIT 1",
        &customer.id,
    )?
    .first(None)
    .await?;
    let Some(row) = latest else { return http::no_content() };
    let token = match kept {
        Some(held) if held.id == row.id => held.token.clone(),
        // A device new to the conversation gets its own token, as a resume link gives one.
        _ => {
            limits::check(&req, env, &site.id, limits::Kind::NewConversation).await?;
            let token = tokens::new_token()?;
            op::send(env, &row.id, Caller::Worker, Op::AddDevice { token_hash: tokens::hash(&token) }).await?.conversation()?;
            token
        }
    };
    // What the page says about the customer now is what the team sees.
    if row.customer_email != customer.email || row.customer_name != customer.name {
        db.prepare("UPDATE conversations SET customer_email = ?2, customer_name = ?3 WHERE id = ?1")
            .bind(&[row.id.as_str().into(), nullable(customer.email.clone()), nullable(customer.name.clone())])?
            .run()
            .await?;
    }
    let conversation = Conversation { id: row.id, site: site.id.clone(), created_at: row.created_at };
    http::json(200, &Identified { conversation, token, held_another_customers: another_customers })
}

/// `GET /v1/inbox/sites/{site}/identity`: on or off, and since when (never the secret).
pub async fn settings(cx: &Ctx) -> Result<Response> {
    cx.teammate()?.must_own()?;
    let row = secret_row(&cx.env, &cx.site.id).await?;
    http::json(200, &IdentitySettings { enabled: row.identity_secret.is_some(), created_at: row.identity_created_at, secret: None })
}

/// `POST /v1/inbox/sites/{site}/identity`: a new secret, shown this once; the old one stops
/// verifying at once.
pub async fn make_secret(cx: &Ctx) -> Result<Response> {
    cx.teammate()?.must_own()?;
    let secret = format!("{SECRET_PREFIX}{}", hex::encode(tokens::random_bytes::<32>()?));
    let now = crate::conversation::now_iso();
    cx.env
        .d1("DB")?
        .prepare("UPDATE sites SET identity_secret = ?2, identity_created_at = ?3 WHERE id = ?1")
        .bind(&[cx.site.id.as_str().into(), secret.as_str().into(), now.as_str().into()])?
        .run()
        .await?;
    http::json(201, &IdentitySettings { enabled: true, created_at: Some(now), secret: Some(secret) })
}

/// `DELETE /v1/inbox/sites/{site}/identity`: identity off; signed-in customers are treated as
/// anyone else (their conversations stay theirs, for when it is on again).
pub async fn turn_off(cx: &Ctx) -> Result<Response> {
    cx.teammate()?.must_own()?;
    cx.env
        .d1("DB")?
        .prepare("UPDATE sites SET identity_secret = NULL, identity_created_at = NULL WHERE id = ?1")
        .bind(&[cx.site.id.as_str().into()])?
        .run()
        .await?;
    http::no_content()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hex_hmac_sha256_of_the_id() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(signature("Jefe", "what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let good = signature("pgn_id_s3cret", "42");
        assert!(verified("pgn_id_s3cret", "42", &good));
        assert!(!verified("pgn_id_s3cret", "43", &good));
        assert!(!verified("pgn_id_other", "42", &good));
        assert!(!verified("pgn_id_s3cret", "42", &good.to_uppercase()));
        assert!(!verified("pgn_id_s3cret", "42", ""));
    }
}
