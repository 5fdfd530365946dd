//! `POST /v1/sites/{site}/conversations`: a new conversation with its own Durable Object,
//! indexed in D1 for the merchant side.

use pigeon_protocol::{Conversation, CreateConversation, CreatedConversation, Status, validate};
use worker::{Request, Response};

use crate::conversation::now_iso;
use crate::conversation::op::{self, Caller, Init, Op};
use crate::routes::Ctx;
use crate::{Result, http, limits, sites, tokens};

pub async fn create(mut req: Request, cx: &Ctx) -> Result<Response> {
    let (env, site) = (&cx.env, &cx.site);
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
    // Object first, index second: an index row never points at a missing object.
    op::send(env, &id, Caller::Worker, Op::Init(init)).await?.done()?;
    env.d1("DB")?
        .prepare("INSERT INTO conversations (id, site_id, status, created_at, context) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(&[id.as_str().into(), site.id.as_str().into(), Status::Open.as_str().into(), created_at.as_str().into(), nullable(context_json)])?
        .run()
        .await?;
    sites::remember_conversation(&id, &site.id);
    http::json(201, &CreatedConversation { conversation: Conversation { id, site: site.id.clone(), created_at }, token })
}

/// A D1 parameter that may be NULL.
pub fn nullable<T: Into<wasm_bindgen::JsValue>>(v: Option<T>) -> wasm_bindgen::JsValue {
    v.map(Into::into).unwrap_or(wasm_bindgen::JsValue::NULL)
}
