//! Agent routes, for the merchant's tools and scripts: `Authorization: Bearer <agent key>`.

use pigeon_protocol::{Author, PostAgentMessage, validate};
use worker::{Env, Method, Request, Response};

use crate::conversation::internal::{self, Append, As};
use crate::{Error, Result, http, messages, sites};

/// The key must be the agent key of the conversation's site. An id never seen answers 401
/// like a wrong key, so no key (right for some site or not) can probe which ids exist; the
/// site's own key learns that its deleted or erased conversation is gone (404).
async fn authorize(req: &Request, env: &Env, conversation: &str) -> Result<()> {
    let key = http::bearer(req);
    match sites::owner_of_conversation(env, conversation).await? {
        sites::Owner::Site(site) => sites::check_agent_key(env, &site, key.as_deref()).await.map(|_| ()),
        sites::Owner::Gone(site) => {
            sites::check_agent_key(env, &site, key.as_deref()).await?;
            Err(Error::NotFound)
        }
        sites::Owner::Unknown => Err(Error::Unauthorized),
    }
}

pub async fn list(req: &Request, env: &Env, conversation: &str) -> Result<Response> {
    authorize(req, env, conversation).await?;
    let query = req.url()?.query().map(|q| format!("?{q}")).unwrap_or_default();
    internal::call(env, conversation, Method::Get, &format!("/messages{query}"), As::Agent, None).await
}

pub async fn post(mut req: Request, env: &Env, conversation: &str) -> Result<Response> {
    authorize(&req, env, conversation).await?;
    let input: PostAgentMessage = http::read_json(&mut req).await?;
    let msg = validate::agent_message(&input)?;
    let append = Append { author: Author::Agent, client_id: msg.client_id, body: msg.body, author_name: msg.author_name, context: None };
    messages::store(env, conversation, As::Agent, &append).await
}

pub async fn mark_read(req: Request, env: &Env, conversation: &str) -> Result<Response> {
    authorize(&req, env, conversation).await?;
    messages::mark_read_as(req, env, conversation, As::Agent).await
}

/// `POST /v1/agent/conversations/{id}/close`: done for now; the shopper writing again reopens it.
pub async fn close(req: &Request, env: &Env, conversation: &str) -> Result<Response> {
    authorize(req, env, conversation).await?;
    internal::call(env, conversation, Method::Post, "/close", As::Agent, None).await
}

/// One row of `GET /v1/agent/sites/{site}/conversations`.
#[derive(serde::Deserialize, serde::Serialize)]
struct ConversationRow {
    id: String,
    status: String,
    created_at: String,
    last_seq: f64,
    last_message_at: Option<String>,
    last_message_preview: Option<String>,
    last_author: Option<String>,
    unread_count: f64,
    context: Option<String>,
}

/// `GET /v1/agent/sites/{site}/conversations?status=open|closed`, most recent first.
pub async fn conversations(req: &Request, env: &Env, site: &str) -> Result<Response> {
    sites::check_agent_key(env, site, http::bearer(req).as_deref()).await?;
    let status = req
        .url()?
        .query_pairs()
        .find(|(k, _)| k == "status")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| "open".into());
    if status != "open" && status != "closed" {
        return Err(Error::Invalid(validate::Invalid { code: "invalid_query", message: "status is open or closed.".into() }));
    }
    let rows: Vec<ConversationRow> = env
        .d1("DB")?
        .prepare(
            "SELECT id, status, created_at, last_seq, last_message_at, last_message_preview, last_author, \
             unread_count, context \
             FROM conversations WHERE site_id = ?1 AND status = ?2 \
             ORDER BY COALESCE(last_message_at, created_at) DESC LIMIT 200",
        )
        .bind(&[site.into(), status.as_str().into()])?
        .all()
        .await?
        .results()?;
    let conversations: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id, "status": r.status, "created_at": r.created_at, "last_seq": r.last_seq as u64,
                "last_message_at": r.last_message_at, "last_message_preview": r.last_message_preview,
                "last_author": r.last_author, "unread_count": r.unread_count as u64,
                "context": r.context.as_deref().and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok()),
            })
        })
        .collect();
    http::json(200, &serde_json::json!({ "conversations": conversations }))
}
