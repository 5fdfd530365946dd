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
    let init = Init { id: id.clone(), site: site.id.clone(), token_hash: tokens::hash(&token), created_at: created_at.clone(), context: body.context };
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

/// A D1 parameter that may be NULL.
pub fn nullable<T: Into<wasm_bindgen::JsValue>>(v: Option<T>) -> wasm_bindgen::JsValue {
    v.map(Into::into).unwrap_or(wasm_bindgen::JsValue::NULL)
}
