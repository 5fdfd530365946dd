//! `POST /v1/sites/{site}/conversations`: a new conversation with its own Durable Object,
//! indexed in D1 for the merchant side.

use pigeon_protocol::identity::Held;
use pigeon_protocol::validate::Invalid;
use pigeon_protocol::{Conversation, CreateConversation, CreatedConversation, Status, validate};
use worker::{Request, Response};

use crate::conversation::now_iso;
use crate::conversation::op::{self, Caller, Init, Op, Refusal};
use crate::routes::Ctx;
use crate::{Error, Result, http, limits, sites, tokens};

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

    let follows = match &body.follows {
        Some(held) => Some(followed(env, &site.id, held).await?),
        None => None,
    };

    let id = tokens::new_conversation_id()?;
    let token = tokens::new_token()?;
    let created_at = now_iso();
    let context_json = body.context.as_ref().and_then(|c| serde_json::to_string(c).ok());
    let locale = body.context.as_ref().and_then(|c| c.locale.as_deref());
    let note = follows.as_ref().map(|_| follows_note(&site.name, locale));
    let origin = Some(req.url()?.origin().ascii_serialization());
    let init = Init { id: id.clone(), site: site.id.clone(), token_hash: tokens::hash(&token), created_at: created_at.clone(), context: body.context, note, origin };
    // Object first, index second: an index row never points at a missing object.
    op::send(env, &id, Caller::Worker, Op::Init(init)).await?.done()?;
    env.d1("DB")?
        .prepare("INSERT INTO conversations (id, site_id, status, created_at, context, follows) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(&[id.as_str().into(), site.id.as_str().into(), Status::Open.as_str().into(), created_at.as_str().into(), nullable(context_json), nullable(follows)])?
        .run()
        .await?;
    sites::remember_conversation(&id, &site.id);
    http::json(201, &CreatedConversation { conversation: Conversation { id, site: site.id.clone(), created_at }, token })
}

/// The conversation a new one follows: one of this site's, opened by the token given.
/// Anything else is refused (nothing is made), with one answer whatever was wrong.
async fn followed(env: &worker::Env, site: &str, held: &Held) -> Result<String> {
    let refused = || Error::Invalid(Invalid::new("invalid_follows", "`follows` must be a conversation of this site with its token (the one this browser held)."));
    let row = env.d1("DB")?.prepare("SELECT id FROM conversations WHERE site_id = ?1 AND id = ?2").bind(&[site.into(), held.id.as_str().into()])?.first::<serde_json::Value>(None).await?;
    if row.is_none() {
        return Err(refused());
    }
    // A wrong token is refused as bad input; the object failing is the relay's error.
    match op::send(env, &held.id, Caller::Shopper { token: held.token.clone() }, Op::Check).await {
        Ok(answer) => answer.done().map(|()| held.id.clone()).map_err(|_| refused()),
        Err(Refusal::NotFound) => Err(refused()),
        Err(other) => Err(other.into()),
    }
}

/// The note a conversation that follows an earlier one starts with, in the shopper's language.
fn follows_note(site_name: &str, locale: Option<&str>) -> String {
    use crate::sites::reply_time::Lang;
    match Lang::pick(locale, None) {
        Lang::De => format!("Ein neues Gespräch mit {site_name}. Ihre früheren bleiben unter „Frühere Gespräche“ lesbar."),
        _ => format!("A new conversation with {site_name}. Your earlier ones stay readable under “Earlier conversations”."),
    }
}

/// A D1 parameter that may be NULL.
pub fn nullable<T: Into<wasm_bindgen::JsValue>>(v: Option<T>) -> wasm_bindgen::JsValue {
    v.map(Into::into).unwrap_or(wasm_bindgen::JsValue::NULL)
}
