//! The shopper's data rights and the retention job: contact address, export, erase.

use pigeon_protocol::validate;
use serde::Deserialize;
use worker::{Env, Method, Request, Response};

use crate::conversation::internal::{self, As};
use crate::{Result, http};

/// `PUT /v1/conversations/{id}/contact` `{email}`: where to send the answer when the shopper
/// has left. Kept only in the conversation's object, never in the index or logs.
pub async fn set_contact(mut req: Request, env: &Env, conversation: &str) -> Result<Response> {
    let token = http::shopper_token(&req)?;
    #[derive(Deserialize)]
    struct Body {
        email: String,
    }
    let body: Body = http::read_json(&mut req).await?;
    let email = validate::email(&body.email)?;
    let payload = serde_json::json!({ "email": email }).to_string();
    internal::call(env, conversation, Method::Post, "/contact", As::Shopper { token: &token }, Some(payload)).await
}

/// `GET /v1/conversations/{id}/export`: everything stored about the conversation.
pub async fn export(req: &Request, env: &Env, conversation: &str) -> Result<Response> {
    let token = http::shopper_token(req)?;
    let mut resp = internal::call(env, conversation, Method::Get, "/export", As::Shopper { token: &token }, None).await?;
    if resp.status_code() != 200 {
        return Ok(resp);
    }
    let mut export: serde_json::Value = resp.json().await?;
    export["conversation"]["id"] = conversation.into();
    export["exported_at"] = crate::conversation::now_iso().into();
    http::json(200, &export)
}

/// `DELETE /v1/conversations/{id}`: erased from the object (messages, contact, pending
/// notifications, live sockets) and from the D1 index; a tombstone keeps only its site.
pub async fn delete(req: &Request, env: &Env, conversation: &str) -> Result<Response> {
    let token = http::shopper_token(req)?;
    // The router found it, so it has a site (read before the index row goes).
    let site = crate::sites::site_of_conversation(env, conversation).await?.ok_or(crate::Error::NotFound)?;
    let resp = internal::call(env, conversation, Method::Post, "/erase", As::Shopper { token: &token }, None).await?;
    if resp.status_code() != 204 {
        return Ok(resp);
    }
    remove_from_index(env, conversation, &site).await?;
    http::no_content()
}

/// Replaces the index row by a tombstone (id, site, when), in one D1 transaction: the
/// widget's next request about it gets a 404 its page can read (CORS for the site's
/// origins), and nothing else about it is kept.
async fn remove_from_index(env: &Env, conversation: &str, site: &str) -> Result<()> {
    let db = env.d1("DB")?;
    db.batch(vec![
        db.prepare(
            "INSERT OR IGNORE INTO conversation_tombstones (id, site_id, erased_at) \
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        )
        .bind(&[conversation.into(), site.into()])?,
        db.prepare("DELETE FROM conversations WHERE id = ?1").bind(&[conversation.into()])?,
    ])
    .await?;
    crate::sites::forget_conversation(conversation);
    Ok(())
}

/// The scheduled job: erases conversations idle longer than their site's retention.
/// Returns how many were erased. Bounded per run; the next run continues.
pub async fn enforce_retention(env: &Env) -> Result<usize> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        site_id: String,
    }
    let rows: Vec<Row> = env
        .d1("DB")?
        .prepare(
            "SELECT c.id, c.site_id FROM conversations c JOIN sites s ON s.id = c.site_id \
             WHERE julianday('now') - julianday(COALESCE(c.last_message_at, c.created_at)) > s.retention_days \
             LIMIT 500",
        )
        .all()
        .await?
        .results()?;
    let mut erased = 0;
    for row in rows {
        let resp = internal::call(env, &row.id, Method::Post, "/erase", As::Worker, None).await?;
        // 404: the object is already empty (erased earlier); the index row still goes.
        if resp.status_code() == 204 || resp.status_code() == 404 {
            remove_from_index(env, &row.id, &row.site_id).await?;
            erased += 1;
        }
    }
    Ok(erased)
}
