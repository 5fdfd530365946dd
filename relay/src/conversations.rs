//! `POST /v1/sites/{site}/conversations`: a new conversation with its own Durable Object,
//! indexed in D1 for the merchant side.

use pigeon_protocol::{Conversation, CreateConversation, CreatedConversation, validate};
use worker::{Env, Method, Request, Response};

use crate::conversation::internal::{self, As, Init};
use crate::conversation::now_iso;
use crate::{Error, Result, http, limits, sites, tokens};

pub async fn create(mut req: Request, env: &Env, site_id: &str) -> Result<Response> {
    let site = sites::require(env, site_id).await?;
    limits::check(&req, env, &site.id, limits::Kind::NewConversation).await?;
    // The body is optional; when present it is checked like any other.
    let has_body = req.headers().get("content-type")?.is_some()
        || req.headers().get("content-length")?.is_some_and(|l| l != "0");
    let body: CreateConversation = if has_body { http::read_json(&mut req).await? } else { CreateConversation::default() };
    if let Some(ctx) = &body.context {
        validate::context(ctx)?;
    }

    let id = tokens::new_conversation_id()?;
    let token = tokens::new_token()?;
    let created_at = now_iso();
    let context_json = body.context.as_ref().and_then(|c| serde_json::to_string(c).ok());
    let init = Init { site: site.id.clone(), token_hash: tokens::hash(&token), created_at: created_at.clone(), context: body.context };
    let init = serde_json::to_string(&init).map_err(|e| Error::Internal(e.to_string()))?;
    // Object first, index second: an index row never points at a missing object.
    let resp = internal::call(env, &id, Method::Post, "/init", As::Worker, Some(init)).await?;
    if resp.status_code() != 204 {
        return Err(Error::Internal(format!("conversation init answered {}", resp.status_code())));
    }
    env.d1("DB")?
        .prepare("INSERT INTO conversations (id, site_id, status, created_at, context) VALUES (?1, ?2, 'open', ?3, ?4)")
        .bind(&[id.as_str().into(), site.id.as_str().into(), created_at.as_str().into(), nullable(context_json)])?
        .run()
        .await?;
    sites::remember_conversation(&id, &site.id);
    http::json(201, &CreatedConversation { conversation: Conversation { id, site: site.id, created_at }, token })
}

/// Keeps the merchant-side index current: last activity, preview, highest `seq`. Updates
/// can arrive out of order, so an older message never overwrites a newer one.
pub async fn index_message(env: &Env, conversation: &str, message: &pigeon_protocol::Message, unread: Option<u64>) -> Result<()> {
    let preview: String = message.body.chars().take(140).collect();
    let context = message.context.as_ref().and_then(|c| serde_json::to_string(c).ok());
    let status = if message.author == pigeon_protocol::Author::Shopper { Some("open") } else { None };
    env.d1("DB")?
        .prepare(
            "UPDATE conversations SET last_seq = ?2, last_message_at = ?3, last_message_preview = ?4, \
             last_author = ?5, unread_count = COALESCE(?6, unread_count), context = COALESCE(?7, context), \
             status = COALESCE(?8, status) WHERE id = ?1 AND last_seq < ?2",
        )
        .bind(&[
            conversation.into(),
            (message.seq as f64).into(),
            message.created_at.as_str().into(),
            preview.as_str().into(),
            message.author.as_str().into(),
            nullable(unread.map(|n| n as f64)),
            nullable(context),
            nullable(status),
        ])?
        .run()
        .await?;
    Ok(())
}

/// Index fields that change without a new message.
pub async fn index_unread(env: &Env, conversation: &str, unread: u64) -> Result<()> {
    env.d1("DB")?
        .prepare("UPDATE conversations SET unread_count = ?2 WHERE id = ?1")
        .bind(&[conversation.into(), (unread as f64).into()])?
        .run()
        .await?;
    Ok(())
}

pub async fn index_status(env: &Env, conversation: &str, status: &str) -> Result<()> {
    env.d1("DB")?
        .prepare("UPDATE conversations SET status = ?2 WHERE id = ?1")
        .bind(&[conversation.into(), status.into()])?
        .run()
        .await?;
    Ok(())
}

/// A D1 parameter that may be NULL.
fn nullable<T: Into<wasm_bindgen::JsValue>>(v: Option<T>) -> wasm_bindgen::JsValue {
    v.map(Into::into).unwrap_or(wasm_bindgen::JsValue::NULL)
}
