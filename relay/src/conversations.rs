//! `POST /v1/sites/{site}/conversations`: a new conversation with its own Durable Object,
//! indexed in D1 for the merchant side.

use pigeon_protocol::{Conversation, CreateConversation, CreatedConversation, validate};
use worker::{Env, Method, Request, Response};

use crate::conversation::internal::{self, As, Init};
use crate::conversation::now_iso;
use crate::{Error, Result, http, sites, tokens};

pub async fn create(mut req: Request, env: &Env, site_id: &str) -> Result<Response> {
    let site = sites::require(env, site_id).await?;
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
    let init = Init { site: site.id.clone(), token_hash: tokens::hash(&token), created_at: created_at.clone(), context: body.context };
    let init = serde_json::to_string(&init).map_err(|e| Error::Internal(e.to_string()))?;
    // Object first, index second: an index row never points at a missing object.
    let resp = internal::call(env, &id, Method::Post, "/init", As::Worker, Some(init)).await?;
    if resp.status_code() != 204 {
        return Err(Error::Internal(format!("conversation init answered {}", resp.status_code())));
    }
    env.d1("DB")?
        .prepare("INSERT INTO conversations (id, site_id, status, created_at) VALUES (?1, ?2, 'open', ?3)")
        .bind(&[id.as_str().into(), site.id.as_str().into(), created_at.as_str().into()])?
        .run()
        .await?;
    sites::remember_conversation(&id, &site.id);
    http::json(201, &CreatedConversation { conversation: Conversation { id, site: site.id, created_at }, token })
}

/// Keeps the merchant-side index current: last activity, preview, highest `seq`. Updates
/// can arrive out of order, so an older message never overwrites a newer one.
pub async fn index_message(env: &Env, conversation: &str, message: &pigeon_protocol::Message) -> Result<()> {
    let preview: String = message.body.chars().take(140).collect();
    env.d1("DB")?
        .prepare(
            "UPDATE conversations SET last_seq = ?2, last_message_at = ?3, last_message_preview = ?4, \
             last_author = ?5 WHERE id = ?1 AND last_seq < ?2",
        )
        .bind(&[
            conversation.into(),
            (message.seq as f64).into(),
            message.created_at.as_str().into(),
            preview.as_str().into(),
            message.author.as_str().into(),
        ])?
        .run()
        .await?;
    Ok(())
}
