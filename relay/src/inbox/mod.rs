//! The merchant's inbox API (`/v1/inbox/...`, documented in `API.md`): sign-in, the
//! conversation list with the shopper's address, a conversation's details, replies signed
//! with the teammate's name, read, close and reopen, and the site's live socket.
//!
//! The router resolves the session and the teammate (see `routes::inbox_context`); every
//! conversation route works only for a teammate of the conversation's site. The inbox's
//! page is served as static files under `/inbox/`.

pub mod api_tokens;
pub mod notes;
pub mod profile;
pub mod replies;
pub mod search;
pub mod session;
pub mod settings;
pub mod team;

use pigeon_protocol::{Assign, ChangeRole, ConversationDetails, ConversationSummary, InboxList, InboxReply, Invite, OpenSession, PostAgentMessage, SignIn, validate};
use worker::{Env, Request, Response};

use crate::agent::{Assigned, Cursor, Filter, LIST_PAGE};
use crate::conversation::op::{self, Assignee, NewMessage, Op};
use crate::routes::{Asked, Ctx};
use crate::{Error, Result, http, limits, messages};
pub use session::Person;
pub use team::Teammate;

/// `POST /v1/inbox/signin` `{email}`: `204` whether or not the address is a teammate's.
pub async fn sign_in(mut req: Request, env: &Env, origin: &str) -> Result<Response> {
    limits::check(&req, env, "inbox", limits::Kind::SignIn).await?;
    let body: SignIn = http::read_json(&mut req).await?;
    let email = validate::email(&body.email)?.to_ascii_lowercase();
    session::send_link(env, &email, origin, None).await?;
    http::no_content()
}

/// `POST /v1/inbox/session` `{token}`: the link's token for a session cookie; answers `Me`.
pub async fn open_session(mut req: Request, env: &Env, secure: bool) -> Result<Response> {
    limits::check(&req, env, "inbox", limits::Kind::SignIn).await?;
    let body: OpenSession = http::read_json(&mut req).await?;
    let (token, email) = session::open(env, body.token.trim()).await?;
    let person = Person { email, session_hash: crate::tokens::hash(&token) };
    let mut resp = http::json(200, &team::me(env, &person).await?)?;
    resp.headers_mut().set("set-cookie", &session::set_cookie(&token, secure))?;
    Ok(resp)
}

/// `POST /v1/inbox/signout`: the session ends on the relay and in this browser.
pub async fn sign_out(env: &Env, person: Option<Person>, secure: bool) -> Result<Response> {
    if let Some(person) = person {
        session::revoke(env, &person.session_hash).await?;
    }
    let mut resp = http::no_content()?;
    resp.headers_mut().set("set-cookie", &session::clear_cookie(secure))?;
    Ok(resp)
}

/// `GET /v1/inbox/me`.
pub async fn me(env: &Env, person: &Person) -> Result<Response> {
    http::json(200, &team::me(env, person).await?)
}

/// `GET /v1/inbox/sites/{site}/conversations?status=open|closed&assignee=me|nobody|anyone&limit=n`,
/// newest activity first; `before` (the last row's activity time) and `before_id` (its id)
/// give the next page.
pub async fn conversations(req: &Request, cx: &Ctx) -> Result<Response> {
    let status = crate::agent::status_query(req)?;
    let url = req.url()?;
    let query = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let (before, before_id, limit) = (query("before"), query("before_id"), query("limit"));
    if before.as_deref().is_some_and(|b| b.len() > 40 || !b.bytes().all(|c| c.is_ascii_digit() || b"-:.TZ".contains(&c))) {
        return Err(bad_query("`before` is an RFC 3339 UTC time."));
    }
    if before_id.as_deref().is_some_and(|id| before.is_none() || id.is_empty() || id.len() > 64 || !id.bytes().all(|c| c.is_ascii_alphanumeric())) {
        return Err(bad_query("`before_id` is a conversation id, given with `before`."));
    }
    let limit = match limit {
        None => None,
        Some(n) => Some(n.parse().ok().filter(|n| (1..=LIST_PAGE).contains(n)).ok_or_else(|| bad_query("`limit` is an integer from 1 to 200."))?),
    };
    let after_row = before.as_deref().map(|at| Cursor { at, id: before_id.as_deref() });
    let me = cx.teammate()?;
    let assigned = match query("assignee").as_deref() {
        None | Some("anyone") => None,
        Some("me") => Some(Assigned::To(me.email.as_str())),
        Some("nobody") => Some(Assigned::Nobody),
        Some(_) => return Err(bad_query("`assignee` is me, nobody or anyone.")),
    };
    let conversations = crate::agent::list(&cx.env, &cx.site.id, Filter { status: Some(status), after_row, assigned, limit, ..Filter::default() }).await?;
    http::json(200, &InboxList { conversations })
}

fn bad_query(message: &str) -> Error {
    Error::Invalid(validate::Invalid::new("invalid_query", message))
}

/// `GET /v1/inbox/conversations/{id}`: status, context, address, read positions, and the
/// shopper's other conversations on this site.
pub async fn details(cx: &Ctx, asked: Asked) -> Result<Response> {
    let (about, cart_history, assignee, rating) = op::send(&cx.env, &asked.conversation, asked.caller, Op::About).await?.about()?;
    let customer = customer_of(&cx.env, &about.id).await?;
    // The same verified customer's, else the same address's; newest activity first, as the
    // list answers them.
    let filter = match (&customer, &about.contact_email) {
        (Some(c), _) => Some(Filter { customer: Some(&c.id), ..Filter::default() }),
        (None, Some(email)) => Some(Filter { contact: Some(email), ..Filter::default() }),
        (None, None) => None,
    };
    let earlier: Vec<ConversationSummary> = match filter {
        Some(filter) => crate::agent::list(&cx.env, &cx.site.id, filter).await?.into_iter().map(|c| c.summary).filter(|c| c.id != about.id).collect(),
        None => vec![],
    };
    http::json(
        200,
        &ConversationDetails {
            id: about.id,
            site: about.site,
            status: about.status,
            created_at: about.created_at,
            context: about.context,
            contact_email: about.contact_email,
            customer,
            assignee,
            agent_read_seq: about.agent_read_seq,
            shopper_read_seq: about.shopper_read_seq,
            cart_history,
            earlier,
            rating: rating.unwrap_or_default(),
        },
    )
}

/// The verified customer a conversation belongs to (D1 keeps it; the object does not).
async fn customer_of(env: &worker::Env, conversation: &str) -> Result<Option<pigeon_protocol::CustomerInfo>> {
    #[derive(serde::Deserialize)]
    struct Row {
        customer_id: Option<String>,
        customer_email: Option<String>,
        customer_name: Option<String>,
    }
    let row: Option<Row> = env
        .d1("DB")?
        .prepare("SELECT customer_id, customer_email, customer_name FROM conversations WHERE id = ?1")
        .bind(&[conversation.into()])?
        .first(None)
        .await?;
    Ok(row.and_then(|r| Some(pigeon_protocol::CustomerInfo { id: r.customer_id?, email: r.customer_email, name: r.customer_name })))
}

/// `POST /v1/inbox/conversations/{id}/messages`: a reply signed with the teammate's name on
/// this site; `notify_shopper: false` keeps it out of the shopper's email.
pub async fn reply(mut req: Request, cx: &Ctx, asked: Asked) -> Result<Response> {
    let teammate = cx.teammate()?;
    let input: InboxReply = http::read_json(&mut req).await?;
    let msg = validate::agent_message(&PostAgentMessage { client_id: input.client_id, body: input.body, author_name: Some(teammate.name.clone()) })?;
    // Replying to a conversation nobody answers makes it this teammate's.
    let claim = Some(Assignee { email: teammate.email.clone(), name: teammate.name.clone() });
    let message = NewMessage { client_id: msg.client_id, body: msg.body, author_name: msg.author_name, context: None, quiet: !input.notify_shopper, claim, via: crate::conversation::op::Via::Inbox, attachments: vec![] };
    messages::store(cx, asked, message).await
}

/// `PUT /v1/inbox/conversations/{id}/assignee` `{"assignee": email | null}`: a teammate of the
/// conversation's site answers it from now on (they get its emails), or nobody does.
pub async fn assign(mut req: Request, cx: &Ctx, asked: Asked) -> Result<Response> {
    let input: Assign = http::read_json(&mut req).await?;
    let assignee = match input.assignee {
        None => None,
        Some(email) => {
            let found = team::find(&cx.env, &cx.site.id, &email).await?.ok_or_else(|| {
                Error::Invalid(validate::Invalid::new("not_teammate", "Only a teammate of this site can be assigned a conversation."))
            })?;
            Some(Assignee { email: found.email, name: found.name })
        }
    };
    op::send(&cx.env, &asked.conversation, asked.caller, Op::Assign { assignee }).await?.done()?;
    http::no_content()
}

/// `POST /v1/inbox/conversations/{id}/reopen`.
pub async fn reopen(cx: &Ctx, asked: Asked) -> Result<Response> {
    op::send(&cx.env, &asked.conversation, asked.caller, Op::Reopen).await?.done()?;
    http::no_content()
}

/// `GET /v1/inbox/sites/{site}/teammates`: any teammate may see the team.
pub async fn team(cx: &Ctx) -> Result<Response> {
    http::json(200, &team::list(&cx.env, &cx.site.id).await?)
}

/// `POST /v1/inbox/sites/{site}/teammates` `{email, name, role}` (owners): adds a teammate
/// and emails them an invitation with a sign-in link.
pub async fn invite(mut req: Request, cx: &Ctx, origin: &str) -> Result<Response> {
    let owner = cx.teammate()?;
    owner.must_own()?;
    let body: Invite = http::read_json(&mut req).await?;
    let email = validate::email(&body.email)?.to_ascii_lowercase();
    let name = validate::author_name(&body.name)?;
    team::add(&cx.env, &cx.site.id, &email, &name, body.role).await?;
    session::send_link(&cx.env, &email, origin, Some((&cx.site.name, &owner.name))).await?;
    http::json(201, &team::list(&cx.env, &cx.site.id).await?)
}

/// `PUT /v1/inbox/sites/{site}/teammates/{email}` `{role}` (owners).
pub async fn change_role(mut req: Request, cx: &Ctx, email: &str) -> Result<Response> {
    cx.teammate()?.must_own()?;
    let body: ChangeRole = http::read_json(&mut req).await?;
    team::set_role(&cx.env, &cx.site.id, &email.to_ascii_lowercase(), body.role).await?;
    http::json(200, &team::list(&cx.env, &cx.site.id).await?)
}

/// `DELETE /v1/inbox/sites/{site}/teammates/{email}` (owners): their access to the site ends
/// at once, their open inbox tabs on it are disconnected.
pub async fn remove(cx: &Ctx, email: &str) -> Result<Response> {
    cx.teammate()?.must_own()?;
    let email = email.to_ascii_lowercase();
    team::remove(&cx.env, &cx.site.id, &email).await?;
    crate::hub::kick(&cx.env, &cx.site.id, &email).await?;
    unassign_all(cx, &email).await?;
    http::json(200, &team::list(&cx.env, &cx.site.id).await?)
}

/// The conversations a removed teammate answered go back to nobody (and so to the merchant
/// address's notices), each through its own object, which holds the truth.
async fn unassign_all(cx: &Ctx, email: &str) -> Result<()> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    let ids: Vec<Id> = cx
        .env
        .d1("DB")?
        .prepare("SELECT id FROM conversations WHERE site_id = ?1 AND assignee = ?2")
        .bind(&[cx.site.id.as_str().into(), email.into()])?
        .all()
        .await?
        .results()?;
    for Id { id } in ids {
        match op::send(&cx.env, &id, op::Caller::Agent, Op::Assign { assignee: None }).await {
            Ok(answer) => answer.done()?,
            // Erased meanwhile: nothing to hand back.
            Err(op::Refusal::NotFound) => {}
            Err(refusal) => return Err(refusal.into()),
        }
    }
    Ok(())
}

/// `GET /v1/inbox/sites/{site}/live`: the site's inbox socket (see `hub`).
pub async fn live(req: &Request, cx: &Ctx) -> Result<Response> {
    http::require_websocket(req)?;
    // The session goes with the socket: replies sent on it need it still live.
    let cookie = req.headers().get("cookie")?.unwrap_or_default();
    let session = session::token_in(&cookie).map(crate::tokens::hash).unwrap_or_default();
    crate::hub::connect(&cx.env, &cx.site.id, &cx.teammate()?.email, &session).await
}
