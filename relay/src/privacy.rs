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
/// notifications, live sockets) and from the D1 index.
pub async fn delete(req: &Request, env: &Env, conversation: &str) -> Result<Response> {
    let token = http::shopper_token(req)?;
    let resp = internal::call(env, conversation, Method::Post, "/erase", As::Shopper { token: &token }, None).await?;
    if resp.status_code() != 204 {
        return Ok(resp);
    }
    remove_from_index(env, conversation).await?;
    http::no_content()
}

async fn remove_from_index(env: &Env, conversation: &str) -> Result<()> {
    env.d1("DB")?.prepare("DELETE FROM conversations WHERE id = ?1").bind(&[conversation.into()])?.run().await?;
    crate::sites::forget_conversation(conversation);
    Ok(())
}

/// The scheduled job: erases conversations idle longer than their site's retention.
/// Returns how many were erased. Bounded per run; the next run continues.
pub async fn enforce_retention(env: &Env) -> Result<usize> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let rows: Vec<Row> = env
        .d1("DB")?
        .prepare(
            "SELECT c.id FROM conversations c JOIN sites s ON s.id = c.site_id \
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
            remove_from_index(env, &row.id).await?;
            erased += 1;
        }
    }
    Ok(erased)
}
