//! Agent routes, for the merchant's tools and scripts: `Authorization: Bearer <agent key>`,
//! checked by the router (see `routes::agent_context`).

use pigeon_protocol::{Context, ConversationList, ConversationSummary, InboxConversation, PostAgentMessage, Status, validate};
use worker::{Env, Request, Response};

use crate::conversation::op::{self, NewMessage, Op};
use crate::routes::{Asked, Ctx};
use crate::{Error, Result, http, messages};

/// `POST /v1/agent/conversations/{id}/messages`.
pub async fn post(mut req: Request, cx: &Ctx, asked: Asked) -> Result<Response> {
    let input: PostAgentMessage = http::read_json(&mut req).await?;
    let msg = validate::agent_message(&input)?;
    messages::store(cx, asked, NewMessage { client_id: msg.client_id, body: msg.body, author_name: msg.author_name, context: None, quiet: false }).await
}

/// `POST /v1/agent/conversations/{id}/close`: done for now; the shopper writing again reopens it.
pub async fn close(cx: &Ctx, asked: Asked) -> Result<Response> {
    op::send(&cx.env, &asked.conversation, asked.caller, Op::Close).await?.done()?;
    http::no_content()
}

/// One row of the D1 index as stored (numbers are JavaScript numbers, the context JSON).
#[derive(serde::Deserialize)]
struct Row {
    id: String,
    status: Status,
    created_at: String,
    last_seq: f64,
    last_message_at: Option<String>,
    last_message_preview: Option<String>,
    last_author: Option<String>,
    unread_count: f64,
    context: Option<String>,
    contact_email: Option<String>,
}

impl From<Row> for InboxConversation {
    fn from(r: Row) -> Self {
        let summary = ConversationSummary {
            id: r.id,
            status: r.status,
            created_at: r.created_at,
            last_seq: r.last_seq as u64,
            last_message_at: r.last_message_at,
            last_message_preview: r.last_message_preview,
            last_author: r.last_author.as_deref().and_then(pigeon_protocol::Author::parse),
            unread_count: r.unread_count as u64,
            context: r.context.as_deref().and_then(|c| serde_json::from_str::<Context>(c).ok()),
        };
        InboxConversation { summary, contact_email: r.contact_email }
    }
}

/// `?status=open|closed` (default open).
pub fn status_query(req: &Request) -> Result<Status> {
    match req.url()?.query_pairs().find(|(k, _)| k == "status") {
        None => Ok(Status::Open),
        Some((_, v)) => Status::parse(&v).ok_or_else(|| Error::Invalid(validate::Invalid::new("invalid_query", "status is open or closed."))),
    }
}

/// Which conversations of a site to list.
#[derive(Default)]
pub struct Filter<'a> {
    /// Only open or only closed ones; `None`: both.
    pub status: Option<Status>,
    /// Only the shopper with this address.
    pub contact: Option<&'a str>,
    /// Only those last active before this time (the next page).
    pub before: Option<&'a str>,
}

/// Most rows one list answer holds.
pub const LIST_PAGE: usize = 200;

/// The site's conversations that `filter` lets through, from the D1 index, newest activity
/// first, at most `LIST_PAGE`.
pub async fn list(env: &Env, site: &str, filter: Filter<'_>) -> Result<Vec<InboxConversation>> {
    let rows: Vec<Row> = env
        .d1("DB")?
        .prepare(
            "SELECT id, status, created_at, last_seq, last_message_at, last_message_preview, last_author, \
             unread_count, context, contact_email \
             FROM conversations WHERE site_id = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR contact_email = ?3) \
             AND (?4 IS NULL OR COALESCE(last_message_at, created_at) < ?4) \
             ORDER BY COALESCE(last_message_at, created_at) DESC LIMIT ?5",
        )
        .bind(&[
            site.into(),
            crate::conversations::nullable(filter.status.map(Status::as_str)),
            crate::conversations::nullable(filter.contact),
            crate::conversations::nullable(filter.before),
            (LIST_PAGE as f64).into(),
        ])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(InboxConversation::from).collect())
}

/// `GET /v1/agent/sites/{site}/conversations?status=open|closed`, most recent first.
pub async fn conversations(req: &Request, cx: &Ctx) -> Result<Response> {
    let status = status_query(req)?;
    let conversations = list(&cx.env, &cx.site.id, Filter { status: Some(status), ..Filter::default() }).await?.into_iter().map(|c| c.summary).collect();
    http::json(200, &ConversationList { conversations })
}
