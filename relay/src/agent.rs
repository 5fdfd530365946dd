//! Agent routes, for the merchant's tools and scripts: `Authorization: Bearer <agent key>`,
//! checked by the router (see `routes::agent_context`).

use pigeon_protocol::{Context, ConversationList, ConversationSummary, InboxConversation, PostAgentMessage, Status, validate};
use worker::{Env, Request, Response};

use crate::conversation::op::{Assignee, NewMessage, Via};
use crate::routes::{Asked, Ctx};
use crate::{Error, Result, http, messages};

/// `POST /v1/agent/conversations/{id}/messages`. With a personal token the reply is the
/// teammate's, as from the inbox: signed with their name unless `author_name` says otherwise,
/// and a conversation nobody answers becomes theirs.
pub async fn post(mut req: Request, cx: &Ctx, asked: Asked) -> Result<Response> {
    let mut input: PostAgentMessage = http::read_json(&mut req).await?;
    if let Some(teammate) = &cx.teammate {
        input.author_name = input.author_name.filter(|n| !n.trim().is_empty()).or_else(|| Some(teammate.name.clone()));
    }
    let msg = validate::agent_message(&input)?;
    let claim = cx.teammate.as_ref().map(|t| Assignee { email: t.email.clone(), name: t.name.clone() });
    messages::store(cx, asked, NewMessage { client_id: msg.client_id, body: msg.body, author_name: msg.author_name, context: None, quiet: false, claim, via: Via::Api, attachments: vec![] }).await
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
    #[serde(default)]
    assignee: Option<String>,
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
        InboxConversation { summary, contact_email: r.contact_email, assignee: r.assignee }
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
    /// Only the verified customer with this id (signed identity).
    pub customer: Option<&'a str>,
    /// The next page: only the rows after this one in the list's order.
    pub after_row: Option<Cursor<'a>>,
    /// Only those this teammate answers, or only those nobody does.
    pub assigned: Option<Assigned<'a>>,
    /// Most rows (`None`: [`LIST_PAGE`]).
    pub limit: Option<u32>,
}

/// Whom a conversation is assigned to, as a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assigned<'a> {
    To(&'a str),
    Nobody,
}

/// A row's place in the list: its last activity, then its id (rows active in the same
/// millisecond are still each listed once).
pub struct Cursor<'a> {
    pub at: &'a str,
    pub id: Option<&'a str>,
}

/// Most rows one list answer holds.
pub const LIST_PAGE: u32 = 200;

/// A row's last activity, as the list orders by it (an index has the same expression).
const ACTIVITY: &str = "COALESCE(last_message_at, created_at)";

/// The SQL for `filter` and its parameters after the site (`?1`): only the conditions asked
/// for, so the planner can use `conversations_by_activity`.
fn list_sql(filter: &Filter<'_>) -> (String, Vec<String>) {
    let mut sql = String::from(
        "SELECT id, status, created_at, last_seq, last_message_at, last_message_preview, last_author, \
         unread_count, context, contact_email, assignee FROM conversations WHERE site_id = ?1",
    );
    let mut params: Vec<String> = vec![];
    // `#` in `clause` becomes the number of `value`'s parameter.
    fn bind(sql: &mut String, params: &mut Vec<String>, clause: &str, value: &str) {
        params.push(value.to_owned());
        sql.push_str(&clause.replace('#', &format!("?{}", params.len() + 1)));
    }
    if let Some(status) = filter.status {
        bind(&mut sql, &mut params, " AND status = #", status.as_str());
    }
    if let Some(contact) = filter.contact {
        bind(&mut sql, &mut params, " AND contact_email = #", contact);
    }
    if let Some(customer) = filter.customer {
        bind(&mut sql, &mut params, " AND customer_id = #", customer);
    }
    match filter.assigned {
        Some(Assigned::To(email)) => bind(&mut sql, &mut params, " AND assignee = #", email),
        Some(Assigned::Nobody) => sql.push_str(" AND assignee IS NULL"),
        None => {}
    }
    if let Some(cursor) = &filter.after_row {
        bind(&mut sql, &mut params, &format!(" AND ({ACTIVITY} < #"), cursor.at);
        let at = params.len() + 1;
        match cursor.id {
            Some(id) => bind(&mut sql, &mut params, &format!(" OR ({ACTIVITY} = ?{at} AND id < #))"), id),
            None => sql.push(')'),
        }
    }
    let limit = filter.limit.unwrap_or(LIST_PAGE).min(LIST_PAGE);
    sql.push_str(&format!(" ORDER BY {ACTIVITY} DESC, id DESC LIMIT {limit}"));
    (sql, params)
}

/// The site's conversations that `filter` lets through, from the D1 index, newest activity
/// first (then by id), at most `LIST_PAGE`.
pub async fn list(env: &Env, site: &str, filter: Filter<'_>) -> Result<Vec<InboxConversation>> {
    let (sql, params) = list_sql(&filter);
    let mut binds: Vec<wasm_bindgen::JsValue> = vec![site.into()];
    binds.extend(params.into_iter().map(wasm_bindgen::JsValue::from));
    let rows: Vec<Row> = env.d1("DB")?.prepare(&sql).bind(&binds)?.all().await?.results()?;
    Ok(rows.into_iter().map(InboxConversation::from).collect())
}

/// `GET /v1/agent/sites/{site}/conversations?status=open|closed`, most recent first.
pub async fn conversations(req: &Request, cx: &Ctx) -> Result<Response> {
    let status = status_query(req)?;
    let conversations = list(&cx.env, &cx.site.id, Filter { status: Some(status), ..Filter::default() }).await?.into_iter().map(|c| c.summary).collect();
    http::json(200, &ConversationList { conversations })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_sql_has_only_the_conditions_asked_for_numbered_in_order() {
        let (sql, params) = list_sql(&Filter::default());
        assert!(sql.ends_with("WHERE site_id = ?1 ORDER BY COALESCE(last_message_at, created_at) DESC, id DESC LIMIT 200"), "{sql}");
        assert!(params.is_empty());

        let filter = Filter { status: Some(Status::Open), after_row: Some(Cursor { at: "2026-11-24T10:00:00.000Z", id: Some("abc") }), limit: Some(50), ..Filter::default() };
        let (sql, params) = list_sql(&filter);
        assert!(
            sql.ends_with(
                "WHERE site_id = ?1 AND status = ?2 AND (COALESCE(last_message_at, created_at) < ?3 OR (COALESCE(last_message_at, created_at) = ?3 AND id < ?4)) \
                 ORDER BY COALESCE(last_message_at, created_at) DESC, id DESC LIMIT 50"
            ),
            "{sql}"
        );
        assert_eq!(params, ["open", "2026-11-24T10:00:00.000Z", "abc"]);

        let filter = Filter { status: Some(Status::Open), assigned: Some(Assigned::To("sam@x.test")), limit: Some(10), ..Filter::default() };
        let (sql, params) = list_sql(&filter);
        assert!(sql.contains("WHERE site_id = ?1 AND status = ?2 AND assignee = ?3 ORDER BY"), "{sql}");
        assert_eq!(params, ["open", "sam@x.test"]);
        let (sql, _) = list_sql(&Filter { assigned: Some(Assigned::Nobody), ..Filter::default() });
        assert!(sql.contains("WHERE site_id = ?1 AND assignee IS NULL ORDER BY"), "{sql}");

        let filter = Filter { contact: Some("a@b.test"), after_row: Some(Cursor { at: "t", id: None }), limit: Some(5000), ..Filter::default() };
        let (sql, params) = list_sql(&filter);
        assert!(sql.ends_with("AND contact_email = ?2 AND (COALESCE(last_message_at, created_at) < ?3) ORDER BY COALESCE(last_message_at, created_at) DESC, id DESC LIMIT 200"), "{sql}");
        assert_eq!(params.len(), 2);
    }
}
