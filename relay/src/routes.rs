//! Every route of the v1 contract in one place: parsed from method and path (host-testable),
//! then dispatched to its feature module.

use std::rc::Rc;

use worker::{Env, Method, Request, Response};

use crate::conversation::op::Caller;
use crate::sites::{Owner, Site};
use crate::inbox::Teammate;
use crate::http::Reply;
use crate::{agent, closing, conversations, files, http, identity, inbox, messages, metrics, privacy, ratings, sites, webhooks};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    // Browser routes (CORS for the site's origins, conversation token).
    SiteConfig { site: String },
    CreateConversation { site: String },
    ListMessages { conversation: String },
    PostMessage { conversation: String },
    Live { conversation: String },
    SetContact { conversation: String },
    MarkRead { conversation: String },
    Export { conversation: String },
    Delete { conversation: String },
    /// A photo or PDF as a message of its own (`POST`), and a stored file (`GET`).
    PostFile { conversation: String },
    GetFile { conversation: String, file: String },
    /// Whether a rating is asked (`GET`), and the shopper's answer (`POST`).
    RatingState { conversation: String },
    Rate { conversation: String },
    /// The conversation is named inside the body's signed token.
    Resume,
    /// A signed-in customer's conversation (signed identity).
    Identify { site: String },
    // Agent routes (site agent key).
    AgentListConversations { site: String },
    AgentListMessages { conversation: String },
    AgentPostMessage { conversation: String },
    AgentPostFile { conversation: String },
    AgentGetFile { conversation: String, file: String },
    AgentMarkRead { conversation: String },
    AgentClose { conversation: String },
    AgentWebhooks { site: String, call: webhooks::Call },
    AgentMetrics { site: String },
    // Inbox routes (session cookie; only from the relay's own origin).
    InboxSignIn,
    InboxSession,
    InboxSignOut,
    InboxMe,
    InboxConversations { site: String },
    InboxSearch { site: String },
    InboxLive { site: String },
    InboxDetails { conversation: String },
    InboxMessages { conversation: String },
    InboxReply { conversation: String },
    InboxPostFile { conversation: String },
    InboxGetFile { conversation: String, file: String },
    InboxRead { conversation: String },
    InboxClose { conversation: String },
    InboxReopen { conversation: String },
    InboxAssign { conversation: String },
    InboxNotes { conversation: String },
    InboxAddNote { conversation: String },
    InboxTeam { site: String },
    InboxInvite { site: String },
    InboxChangeRole { site: String, email: String },
    InboxRemove { site: String, email: String },
    InboxReplies { site: String },
    InboxAddReply { site: String },
    InboxChangeReply { site: String, id: String },
    InboxDeleteReply { site: String, id: String },
    InboxSettings { site: String },
    InboxSaveSettings { site: String },
    InboxPreviewSettings { site: String },
    InboxProfile,
    InboxSaveProfile,
    InboxPush,
    InboxAddDevice,
    InboxRemoveDevice,
    InboxWebhooks { site: String, call: webhooks::Call },
    InboxTokens { site: String },
    InboxAddToken { site: String },
    InboxRevokeToken { site: String, id: String },
    InboxIdentity { site: String },
    InboxMakeIdentity { site: String },
    InboxIdentityOff { site: String },
    InboxMetrics { site: String },
    Health,
    /// A file link from an email: signed and expiring, no sign-in.
    SignedFile { conversation: String, file: String },
}

/// Who a route is for, which decides how its caller is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Shop pages: CORS for the site's origins, a conversation token.
    Shop,
    /// Servers and scripts: the site's agent key.
    Agent,
    /// The inbox page: a teammate's session cookie, same origin only.
    Inbox,
    /// Health checks.
    Anyone,
}

impl Route {
    /// The conversation a route is about, if any.
    pub fn conversation(&self) -> Option<&str> {
        match self {
            Route::ListMessages { conversation }
            | Route::PostMessage { conversation }
            | Route::Live { conversation }
            | Route::SetContact { conversation }
            | Route::MarkRead { conversation }
            | Route::Export { conversation }
            | Route::Delete { conversation }
            | Route::RatingState { conversation }
            | Route::Rate { conversation }
            | Route::AgentListMessages { conversation }
            | Route::AgentPostMessage { conversation }
            | Route::AgentMarkRead { conversation }
            | Route::AgentClose { conversation }
            | Route::InboxDetails { conversation }
            | Route::InboxMessages { conversation }
            | Route::InboxReply { conversation }
            | Route::InboxRead { conversation }
            | Route::InboxClose { conversation }
            | Route::InboxReopen { conversation }
            | Route::InboxAssign { conversation }
            | Route::InboxNotes { conversation }
            | Route::InboxAddNote { conversation }
            | Route::PostFile { conversation }
            | Route::GetFile { conversation, .. }
            | Route::AgentPostFile { conversation }
            | Route::AgentGetFile { conversation, .. }
            | Route::InboxPostFile { conversation }
            | Route::InboxGetFile { conversation, .. } => Some(conversation),
            _ => None,
        }
    }

    pub fn audience(&self) -> Audience {
        use Route::*;
        match self {
            SiteConfig { .. } | CreateConversation { .. } | ListMessages { .. } | PostMessage { .. } | Live { .. }
            | SetContact { .. } | MarkRead { .. } | Export { .. } | Delete { .. } | RatingState { .. } | Rate { .. } | Resume
            | Identify { .. } | PostFile { .. } | GetFile { .. } => Audience::Shop,
            AgentPostFile { .. } | AgentGetFile { .. } => Audience::Agent,
            InboxPostFile { .. } | InboxGetFile { .. } => Audience::Inbox,
            AgentListConversations { .. } | AgentListMessages { .. } | AgentPostMessage { .. } | AgentMarkRead { .. }
            | AgentClose { .. } | AgentWebhooks { .. } | AgentMetrics { .. } => Audience::Agent,
            InboxSignIn | InboxSession | InboxSignOut | InboxMe | InboxConversations { .. } | InboxSearch { .. } | InboxLive { .. }
            | InboxDetails { .. } | InboxMessages { .. } | InboxReply { .. } | InboxRead { .. } | InboxClose { .. }
            | InboxReopen { .. } | InboxAssign { .. } | InboxNotes { .. } | InboxAddNote { .. } | InboxTeam { .. } | InboxInvite { .. } | InboxChangeRole { .. } | InboxRemove { .. }
            | InboxReplies { .. } | InboxAddReply { .. } | InboxChangeReply { .. } | InboxDeleteReply { .. } | InboxSettings { .. }
            | InboxSaveSettings { .. } | InboxPreviewSettings { .. } | InboxProfile | InboxSaveProfile | InboxPush | InboxAddDevice
            | InboxRemoveDevice | InboxWebhooks { .. } | InboxTokens { .. } | InboxAddToken { .. } | InboxRevokeToken { .. }
            | InboxIdentity { .. } | InboxMakeIdentity { .. } | InboxIdentityOff { .. } | InboxMetrics { .. } => {
                Audience::Inbox
            }
            Health | SignedFile { .. } => Audience::Anyone,
        }
    }
}

/// What a method and path are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Route(Route),
    /// The path exists, but not for this method (405).
    WrongMethod,
    /// No such path (404).
    NoSuchPath,
}

/// The routes of one path, by method: a path is listed once, so a known path asked with
/// another method is always a 405.
pub fn parse(method: &Method, path: &str) -> Parsed {
    use Method::{Delete, Get, Post, Put};
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let s = |x: &str| x.to_owned();
    let hooks = |site: &str, rest: &[&str], inbox: bool| match webhooks::Call::parse(method, rest) {
        None => Parsed::NoSuchPath,
        Some(None) => Parsed::WrongMethod,
        Some(Some(call)) => Parsed::Route(if inbox { Route::InboxWebhooks { site: s(site), call } } else { Route::AgentWebhooks { site: s(site), call } }),
    };
    let route = match segs.as_slice() {
        ["v1", "agent", "sites", site, "webhooks", rest @ ..] => return hooks(site, rest, false),
        ["v1", "inbox", "sites", site, "webhooks", rest @ ..] => return hooks(site, rest, true),
        ["v1", "health"] => (*method == Get).then_some(Route::Health),
        ["v1", "resume"] => (*method == Post).then_some(Route::Resume),
        ["v1", "sites", site] => (*method == Get).then(|| Route::SiteConfig { site: s(site) }),
        ["v1", "sites", site, "conversations"] => (*method == Post).then(|| Route::CreateConversation { site: s(site) }),
        ["v1", "sites", site, "identify"] => (*method == Post).then(|| Route::Identify { site: s(site) }),
        ["v1", "conversations", id] => (*method == Delete).then(|| Route::Delete { conversation: s(id) }),
        ["v1", "conversations", id, "messages"] => match method {
            Get => Some(Route::ListMessages { conversation: s(id) }),
            Post => Some(Route::PostMessage { conversation: s(id) }),
            _ => None,
        },
        ["v1", "conversations", id, "files"] => (*method == Post).then(|| Route::PostFile { conversation: s(id) }),
        ["v1", "conversations", id, "files", file] => (*method == Get).then(|| Route::GetFile { conversation: s(id), file: s(file) }),
        ["v1", "agent", "conversations", id, "files"] => (*method == Post).then(|| Route::AgentPostFile { conversation: s(id) }),
        ["v1", "agent", "conversations", id, "files", file] => (*method == Get).then(|| Route::AgentGetFile { conversation: s(id), file: s(file) }),
        ["v1", "inbox", "conversations", id, "files"] => (*method == Post).then(|| Route::InboxPostFile { conversation: s(id) }),
        ["v1", "inbox", "conversations", id, "files", file] => (*method == Get).then(|| Route::InboxGetFile { conversation: s(id), file: s(file) }),
        ["v1", "files", id, file] => (*method == Get).then(|| Route::SignedFile { conversation: s(id), file: s(file) }),
        ["v1", "conversations", id, "live"] => (*method == Get).then(|| Route::Live { conversation: s(id) }),
        ["v1", "conversations", id, "contact"] => (*method == Put).then(|| Route::SetContact { conversation: s(id) }),
        ["v1", "conversations", id, "read"] => (*method == Post).then(|| Route::MarkRead { conversation: s(id) }),
        ["v1", "conversations", id, "export"] => (*method == Get).then(|| Route::Export { conversation: s(id) }),
        ["v1", "conversations", id, "rating"] => match method {
            Get => Some(Route::RatingState { conversation: s(id) }),
            Post => Some(Route::Rate { conversation: s(id) }),
            _ => None,
        },
        ["v1", "agent", "sites", site, "conversations"] => {
            (*method == Get).then(|| Route::AgentListConversations { site: s(site) })
        }
        ["v1", "agent", "sites", site, "metrics"] => (*method == Get).then(|| Route::AgentMetrics { site: s(site) }),
        ["v1", "inbox", "sites", site, "metrics"] => (*method == Get).then(|| Route::InboxMetrics { site: s(site) }),
        ["v1", "agent", "conversations", id, "messages"] => match method {
            Get => Some(Route::AgentListMessages { conversation: s(id) }),
            Post => Some(Route::AgentPostMessage { conversation: s(id) }),
            _ => None,
        },
        ["v1", "agent", "conversations", id, "read"] => (*method == Post).then(|| Route::AgentMarkRead { conversation: s(id) }),
        ["v1", "agent", "conversations", id, "close"] => (*method == Post).then(|| Route::AgentClose { conversation: s(id) }),
        ["v1", "inbox", "signin"] => (*method == Post).then_some(Route::InboxSignIn),
        ["v1", "inbox", "session"] => (*method == Post).then_some(Route::InboxSession),
        ["v1", "inbox", "signout"] => (*method == Post).then_some(Route::InboxSignOut),
        ["v1", "inbox", "me"] => (*method == Get).then_some(Route::InboxMe),
        ["v1", "inbox", "me", "profile"] => match method {
            Get => Some(Route::InboxProfile),
            Put => Some(Route::InboxSaveProfile),
            _ => None,
        },
        ["v1", "inbox", "push"] => (*method == Get).then_some(Route::InboxPush),
        ["v1", "inbox", "push", "subscriptions"] => match method {
            Post => Some(Route::InboxAddDevice),
            Delete => Some(Route::InboxRemoveDevice),
            _ => None,
        },
        ["v1", "inbox", "sites", site, "settings"] => match method {
            Get => Some(Route::InboxSettings { site: s(site) }),
            Put => Some(Route::InboxSaveSettings { site: s(site) }),
            _ => None,
        },
        ["v1", "inbox", "sites", site, "settings", "preview"] => (*method == Post).then(|| Route::InboxPreviewSettings { site: s(site) }),
        ["v1", "inbox", "sites", site, "conversations"] => (*method == Get).then(|| Route::InboxConversations { site: s(site) }),
        ["v1", "inbox", "sites", site, "search"] => (*method == Get).then(|| Route::InboxSearch { site: s(site) }),
        ["v1", "inbox", "sites", site, "live"] => (*method == Get).then(|| Route::InboxLive { site: s(site) }),
        ["v1", "inbox", "sites", site, "tokens"] => match method {
            Get => Some(Route::InboxTokens { site: s(site) }),
            Post => Some(Route::InboxAddToken { site: s(site) }),
            _ => None,
        },
        ["v1", "inbox", "sites", site, "identity"] => match method {
            Get => Some(Route::InboxIdentity { site: s(site) }),
            Post => Some(Route::InboxMakeIdentity { site: s(site) }),
            Delete => Some(Route::InboxIdentityOff { site: s(site) }),
            _ => None,
        },
        ["v1", "inbox", "sites", site, "tokens", id] => (*method == Delete).then(|| Route::InboxRevokeToken { site: s(site), id: s(id) }),
        ["v1", "inbox", "conversations", id] => (*method == Get).then(|| Route::InboxDetails { conversation: s(id) }),
        ["v1", "inbox", "sites", site, "teammates"] => match method {
            Get => Some(Route::InboxTeam { site: s(site) }),
            Post => Some(Route::InboxInvite { site: s(site) }),
            _ => None,
        },
        ["v1", "inbox", "sites", site, "teammates", email] => {
            let Some(email) = percent_decoded(email) else { return Parsed::NoSuchPath };
            match method {
                Put => Some(Route::InboxChangeRole { site: s(site), email }),
                Delete => Some(Route::InboxRemove { site: s(site), email }),
                _ => None,
            }
        }
        ["v1", "inbox", "sites", site, "replies"] => match method {
            Get => Some(Route::InboxReplies { site: s(site) }),
            Post => Some(Route::InboxAddReply { site: s(site) }),
            _ => None,
        },
        ["v1", "inbox", "sites", site, "replies", id] => match method {
            Put => Some(Route::InboxChangeReply { site: s(site), id: s(id) }),
            Delete => Some(Route::InboxDeleteReply { site: s(site), id: s(id) }),
            _ => None,
        },
        ["v1", "inbox", "conversations", id, "messages"] => match method {
            Get => Some(Route::InboxMessages { conversation: s(id) }),
            Post => Some(Route::InboxReply { conversation: s(id) }),
            _ => None,
        },
        ["v1", "inbox", "conversations", id, "read"] => (*method == Post).then(|| Route::InboxRead { conversation: s(id) }),
        ["v1", "inbox", "conversations", id, "close"] => (*method == Post).then(|| Route::InboxClose { conversation: s(id) }),
        ["v1", "inbox", "conversations", id, "reopen"] => (*method == Post).then(|| Route::InboxReopen { conversation: s(id) }),
        ["v1", "inbox", "conversations", id, "assignee"] => (*method == Put).then(|| Route::InboxAssign { conversation: s(id) }),
        ["v1", "inbox", "conversations", id, "notes"] => match method {
            Get => Some(Route::InboxNotes { conversation: s(id) }),
            Post => Some(Route::InboxAddNote { conversation: s(id) }),
            _ => None,
        },
        _ => return Parsed::NoSuchPath,
    };
    route.map_or(Parsed::WrongMethod, Parsed::Route)
}

/// A path segment with its `%XX` escapes decoded (an address is sent as `a%40b.example`);
/// `None` when an escape is broken or the result is not UTF-8.
fn percent_decoded(seg: &str) -> Option<String> {
    let bytes = seg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What the router established before a handler runs: the site the route is about, checked
/// to exist (and for agent routes, that the key is this site's).
pub struct Ctx {
    pub env: Env,
    pub site: Rc<Site>,
    /// On inbox routes, the signed-in teammate of `site`.
    pub teammate: Option<Teammate>,
}

impl Ctx {
    /// The signed-in teammate (inbox routes only).
    pub fn teammate(&self) -> crate::Result<&Teammate> {
        self.teammate.as_ref().ok_or(crate::Error::SignedOut)
    }
}

/// A conversation route's subject: which conversation and who asks. A shopper's token is
/// checked by the conversation's object, which alone holds its hashes.
pub struct Asked {
    pub conversation: String,
    pub caller: Caller,
}

/// The context of a browser route on an existing site or conversation: the site, and for a
/// conversation route the shopper's token (missing: the same 404 as a wrong one).
fn browser_context(route: &Route, req: &Request, env: Env, site: Rc<Site>) -> crate::Result<(Ctx, Option<Asked>)> {
    let asked = match route.conversation() {
        // The live socket's token comes in its first frame.
        Some(_) if matches!(route, Route::Live { .. }) => None,
        Some(conversation) => {
            let token = http::bearer(req).ok_or(crate::Error::NotFound)?;
            Some(Asked { conversation: conversation.to_owned(), caller: Caller::Shopper { token } })
        }
        None => None,
    };
    Ok((Ctx { env, site, teammate: None }, asked))
}

/// The context of an agent route: the bearer is the agent key of the site named in the path
/// or owning the conversation, or a personal token of one of that site's teammates (who then
/// is the caller). An id never seen answers 401 like a wrong key, so no key (right for some
/// site or not) can probe which ids exist; the site's own key learns that its deleted or
/// erased conversation is gone (404).
async fn agent_context(route: &Route, req: &Request, env: Env) -> crate::Result<(Ctx, Option<Asked>)> {
    let key = http::bearer(req);
    let holder = match key.as_deref() {
        Some(bearer) => inbox::api_tokens::holder(&env, bearer).await?,
        None => None,
    };
    let (site, asked) = match (route, route.conversation()) {
        (Route::AgentListConversations { site } | Route::AgentWebhooks { site, .. } | Route::AgentMetrics { site }, _) => (site.clone(), None),
        (_, Some(conversation)) => match sites::owner_of_conversation(&env, conversation).await? {
            Owner::Site(site) => (site, Some(Asked { conversation: conversation.to_owned(), caller: Caller::Agent })),
            Owner::Gone(site) => {
                agent_site(&env, &site, key.as_deref(), holder).await?;
                return Err(crate::Error::NotFound);
            }
            Owner::Unknown => return Err(crate::Error::Unauthorized),
        },
        _ => return Err(crate::Error::NotFound),
    };
    let (site, teammate) = agent_site(&env, &site, key.as_deref(), holder).await?;
    Ok((Ctx { env, site, teammate }, asked))
}

/// The site an agent route is about, if the bearer opens it: a personal token opens its own
/// site only, as its teammate; a key must be the site's agent key.
async fn agent_site(env: &Env, site: &str, key: Option<&str>, holder: Option<inbox::api_tokens::Holder>) -> crate::Result<(Rc<Site>, Option<Teammate>)> {
    match holder {
        Some(holder) if holder.site == site => {
            let found = sites::load(env, site).await?.ok_or(crate::Error::Unauthorized)?;
            inbox::api_tokens::used(env, &holder).await;
            Ok((found, Some(holder.teammate)))
        }
        Some(_) => Err(crate::Error::Unauthorized),
        None => Ok((sites::check_agent_key(env, site, key).await?, None)),
    }
}

/// Who a browser route is about (the site named in the path, or the owner of the
/// conversation named in it) and that site, if it exists.
async fn owner_and_site(route: &Route, env: &Env) -> crate::Result<(Owner, Option<Rc<Site>>)> {
    let owner = match (route, route.conversation()) {
        (Route::SiteConfig { site } | Route::CreateConversation { site } | Route::Identify { site }, _) => Owner::Site(site.clone()),
        (_, Some(conversation)) => sites::owner_of_conversation(env, conversation).await?,
        // Only `Resume`, which is handled before.
        _ => Owner::Unknown,
    };
    let site = match &owner {
        Owner::Site(id) | Owner::Gone(id) => sites::load(env, id).await?,
        Owner::Unknown => None,
    };
    Ok((owner, site))
}

/// Every API answer: what `answer` says, never cached (tokens and threads are in them) and
/// never content-sniffed; an answer a conversation's object made whole already is.
pub async fn handle(req: Request, env: Env) -> web_sys::Response {
    match answer(req, env).await {
        Reply::Made(resp) => http::api_headers(resp).into(),
        Reply::Whole(resp) => resp,
    }
}

async fn answer(req: Request, env: Env) -> Reply {
    let method = req.method();
    let path = req.path();
    let origin = req.headers().get("origin").ok().flatten();
    let preflight = method == Method::Options;
    // A preflight asks about the method it will use.
    let asked = if preflight {
        req.headers()
            .get("access-control-request-method")
            .ok()
            .flatten()
            .map(|m| Method::from(m.to_ascii_uppercase()))
            .unwrap_or(Method::Options)
    } else {
        method.clone()
    };
    let route = match parse(&asked, &path) {
        Parsed::Route(r) => r,
        Parsed::WrongMethod => return crate::Error::MethodNotAllowed.into_response().into(),
        Parsed::NoSuchPath => return http::not_found_path().into(),
    };
    match route.audience() {
        Audience::Shop => {}
        // Servers, scripts and the inbox page never ask cross-origin.
        _ if preflight => return crate::Error::OriginNotAllowed.into_response().into(),
        Audience::Anyone => {
            let answered = match &route {
                Route::SignedFile { conversation, file } => crate::files::signed(&req, &env, conversation, file).await,
                _ => http::json(200, &serde_json::json!({"ok": true})),
            };
            return answered.unwrap_or_else(crate::Error::into_response).into();
        }
        Audience::Agent => {
            let resp = match agent_context(&route, &req, env).await {
                Ok((cx, asked)) => dispatch(route, req, cx, asked).await,
                Err(e) => Err(e),
            };
            return resp.unwrap_or_else(crate::Error::into_response).into();
        }
        Audience::Inbox => return inbox(route, req, env, origin.as_deref()).await.unwrap_or_else(crate::Error::into_response).into(),
    }

    // The resume token, and with it the site, is in the body: the handler checks the origin.
    // Its preflight is answered for origins some site allows.
    if route == Route::Resume {
        let allowed = match &origin {
            Some(o) => sites::any_site_allows(&env, o).await,
            None => Ok(true),
        };
        let resp = match allowed {
            Ok(true) if preflight => http::preflight(origin.as_deref()),
            Ok(true) => match crate::resume::resume(req, &env, origin.as_deref()).await {
                // Refused origins never get CORS headers.
                Err(e @ crate::Error::OriginNotAllowed) => e.into_response(),
                resp => http::with_cors(resp.unwrap_or_else(crate::Error::into_response), origin.as_deref()),
            },
            Ok(false) => crate::Error::OriginNotAllowed.into_response(),
            Err(e) => e.into_response(),
        };
        return resp.into();
    }

    // Browser route: whose it is; unknown and gone conversations stop here, before any
    // Durable Object is touched. The site is read once, here.
    let (mut owner, site) = match owner_and_site(&route, &env).await {
        Ok(found) => found,
        Err(e) => return e.into_response().into(),
    };
    // The Origin, when a browser sends one, must be allowed to ask: the owning site's
    // origins may; for an id never seen, any site's origins may (the answer is a 404 that
    // says nothing).
    let cors_origin = match origin {
        None => None,
        Some(origin) => {
            let may_ask = match (&owner, &site) {
                (Owner::Unknown, _) => sites::any_site_allows(&env, &origin).await,
                (_, site) => Ok(site.as_ref().is_some_and(|s| s.allows(&origin))),
            };
            match may_ask {
                Ok(true) => Some(origin),
                // A page of another Pigeon site asking about this site's conversation gets
                // exactly the answer for an id never seen: it cannot tell whether this one
                // exists, existed, or whose it is.
                Ok(false) if route.conversation().is_some() && owner != Owner::Unknown => match sites::any_site_allows(&env, &origin).await {
                    Ok(true) => {
                        owner = Owner::Unknown;
                        Some(origin)
                    }
                    Ok(false) => return crate::Error::OriginNotAllowed.into_response().into(),
                    Err(e) => return e.into_response().into(),
                },
                // A foreign origin: the same 403 whatever the site or conversation, so a
                // foreign page learns nothing; no CORS headers.
                Ok(false) => return crate::Error::OriginNotAllowed.into_response().into(),
                Err(e) => return e.into_response().into(),
            }
        }
    };
    if preflight {
        return http::preflight(cors_origin.as_deref()).into();
    }
    let resp = match (owner, site) {
        (Owner::Site(_), Some(site)) => match browser_context(&route, &req, env, site) {
            // The hot path: the object answers it whole (see `messages::post`).
            Ok((cx, Some(asked))) if matches!(route, Route::PostMessage { .. }) => match messages::post(req, &cx, asked).await {
                Ok(Reply::Whole(whole)) => return Reply::Whole(whole),
                Ok(Reply::Made(resp)) => Ok(resp),
                Err(e) => Err(e),
            },
            Ok((cx, asked)) => dispatch(route, req, cx, asked).await,
            Err(e) => Err(e),
        },
        // No such site.
        (Owner::Site(_), None) => Err(crate::Error::NotFound),
        // Deleted, erased or never there: the same answer as a wrong token.
        (Owner::Gone(_) | Owner::Unknown, _) => gone(&route, &req),
    };
    http::with_cors(resp.unwrap_or_else(crate::Error::into_response), cors_origin.as_deref()).into()
}

/// An inbox route. Anything but a plain read (`GET` without an upgrade) must come from the
/// inbox's own page: the relay's origin, which browsers send and pages cannot forge; the
/// session cookie is `SameSite=Strict` as well.
async fn inbox(route: Route, req: Request, env: Env, origin: Option<&str>) -> crate::Result<Response> {
    let url = req.url()?;
    let own = url.origin().ascii_serialization();
    let upgrade = req.headers().get("upgrade")?.is_some();
    if (req.method() != Method::Get || upgrade) && origin != Some(own.as_str()) {
        return Err(crate::Error::OriginNotAllowed);
    }
    let secure = url.scheme() == "https";
    match route {
        Route::InboxSignIn => return inbox::sign_in(req, &env, &own).await,
        Route::InboxSession => return inbox::open_session(req, &env, secure).await,
        Route::InboxSignOut => return inbox::sign_out(&env, inbox::session::signed_in(&env, &req).await?, secure).await,
        _ => {}
    }
    let person = inbox::session::signed_in(&env, &req).await?.ok_or(crate::Error::SignedOut)?;
    // About the person, not a site.
    match route {
        Route::InboxMe => return inbox::me(&env, &person).await,
        Route::InboxProfile => return inbox::profile::get(&env, &person).await,
        Route::InboxSaveProfile => return inbox::profile::put(req, &env, &person).await,
        Route::InboxPush => return inbox::profile::info(&env, &person).await,
        Route::InboxAddDevice => return inbox::profile::add(req, &env, &person).await,
        Route::InboxRemoveDevice => return inbox::profile::remove(req, &env, &person).await,
        _ => {}
    }
    let (cx, asked) = inbox_context(&route, env, &person).await?;
    if let Route::InboxInvite { .. } = route {
        return inbox::invite(req, &cx, &own).await;
    }
    dispatch(route, req, cx, asked).await
}

/// The context of an inbox route: `person` must be a teammate of the site named in the path
/// or owning the conversation; for anyone else the conversation does not exist (404, the
/// same as an unknown or deleted one).
async fn inbox_context(route: &Route, env: Env, person: &inbox::Person) -> crate::Result<(Ctx, Option<Asked>)> {
    let (site, asked) = match (route, route.conversation()) {
        (
            Route::InboxConversations { site }
            | Route::InboxSearch { site }
            | Route::InboxLive { site }
            | Route::InboxTeam { site }
            | Route::InboxInvite { site }
            | Route::InboxChangeRole { site, .. }
            | Route::InboxRemove { site, .. }
            | Route::InboxReplies { site }
            | Route::InboxAddReply { site }
            | Route::InboxChangeReply { site, .. }
            | Route::InboxDeleteReply { site, .. }
            | Route::InboxSettings { site }
            | Route::InboxSaveSettings { site }
            | Route::InboxPreviewSettings { site }
            | Route::InboxWebhooks { site, .. }
            | Route::InboxTokens { site }
            | Route::InboxAddToken { site }
            | Route::InboxRevokeToken { site, .. }
            | Route::InboxIdentity { site }
            | Route::InboxMakeIdentity { site }
            | Route::InboxIdentityOff { site }
            | Route::InboxMetrics { site },
            _,
        ) => (site.clone(), None),
        (_, Some(conversation)) => match sites::owner_of_conversation(&env, conversation).await? {
            Owner::Site(site) => (site, Some(Asked { conversation: conversation.to_owned(), caller: Caller::Agent })),
            Owner::Gone(_) | Owner::Unknown => return Err(crate::Error::NotFound),
        },
        _ => return Err(crate::Error::NotFound),
    };
    let teammate = inbox::team::on_site(&env, person, &site).await?.ok_or(crate::Error::NotFound)?;
    let site = sites::load(&env, &site).await?.ok_or(crate::Error::NotFound)?;
    Ok((Ctx { env, site, teammate: Some(teammate) }, asked))
}

/// The answer for a conversation that is not there: `404 not_found`, or for the live socket
/// an accepted socket told `not_found` and closed with 4404 (a refused upgrade would look to
/// a browser like a network failure).
fn gone(route: &Route, req: &Request) -> crate::Result<Response> {
    if matches!(route, Route::Live { .. }) && http::is_websocket(req)? {
        return crate::conversation::refuse_gone_socket();
    }
    Err(crate::Error::NotFound)
}

/// Runs a route whose context the router has established: `asked` is there for every
/// route about a conversation except the live socket.
async fn dispatch(route: Route, req: Request, cx: Ctx, asked: Option<Asked>) -> crate::Result<Response> {
    let asked = || asked.ok_or_else(|| crate::Error::Internal("route without its conversation".into()));
    match route {
        Route::SiteConfig { .. } => sites::public_config(&cx.env, &req, &cx.site).await,
        Route::CreateConversation { .. } => conversations::create(req, &cx).await,
        Route::Identify { .. } => identity::identify(req, &cx).await,
        Route::ListMessages { .. } | Route::AgentListMessages { .. } => messages::list(&req, &cx, asked()?).await,
        // Always answered by `answer` before dispatch (it has its `Asked` by then).
        Route::PostMessage { .. } => Err(crate::Error::Internal("a shop's message POST reached dispatch".into())),
        Route::AgentPostMessage { .. } => agent::post(req, &cx, asked()?).await,
        Route::PostFile { .. } => files::upload(req, &cx, asked()?, files::Uploader::Shopper).await,
        Route::AgentPostFile { .. } => files::upload(req, &cx, asked()?, files::Uploader::Agent).await,
        Route::InboxPostFile { .. } => files::upload(req, &cx, asked()?, files::Uploader::Inbox).await,
        Route::GetFile { file, .. } | Route::AgentGetFile { file, .. } | Route::InboxGetFile { file, .. } => files::download(&cx, asked()?, &file).await,
        Route::Live { conversation } => messages::live(&req, &cx, &conversation).await,
        Route::SetContact { .. } => privacy::set_contact(req, &cx, asked()?).await,
        Route::MarkRead { .. } | Route::AgentMarkRead { .. } => messages::mark_read(req, &cx, asked()?).await,
        Route::Export { .. } => privacy::export(&cx, asked()?).await,
        Route::Delete { .. } => privacy::delete(&cx, asked()?).await,
        Route::AgentClose { .. } => closing::close(req, &cx, asked()?).await,
        Route::RatingState { .. } => ratings::state(&cx, asked()?).await,
        Route::Rate { .. } => ratings::rate(req, &cx, asked()?).await,
        Route::AgentListConversations { .. } => agent::conversations(&req, &cx).await,
        Route::InboxConversations { .. } => inbox::conversations(&req, &cx).await,
        Route::InboxSearch { .. } => inbox::search::search(&req, &cx).await,
        Route::InboxLive { .. } => inbox::live(&req, &cx).await,
        Route::InboxDetails { .. } => inbox::details(&cx, asked()?).await,
        Route::InboxMessages { .. } => messages::list(&req, &cx, asked()?).await,
        Route::InboxReply { .. } => inbox::reply(req, &cx, asked()?).await,
        Route::InboxRead { .. } => messages::mark_read(req, &cx, asked()?).await,
        Route::InboxClose { .. } => closing::close(req, &cx, asked()?).await,
        Route::InboxReopen { .. } => inbox::reopen(&cx, asked()?).await,
        Route::InboxAssign { .. } => inbox::assign(req, &cx, asked()?).await,
        Route::InboxNotes { .. } => inbox::notes::list(&cx, asked()?).await,
        Route::InboxAddNote { .. } => inbox::notes::add(req, &cx, asked()?).await,
        Route::InboxTeam { .. } => inbox::team(&cx).await,
        Route::InboxChangeRole { email, .. } => inbox::change_role(req, &cx, &email).await,
        Route::InboxRemove { email, .. } => inbox::remove(&cx, &email).await,
        Route::InboxReplies { .. } => inbox::replies::get(&cx).await,
        Route::InboxAddReply { .. } => inbox::replies::add(req, &cx).await,
        Route::InboxChangeReply { id, .. } => inbox::replies::change(req, &cx, &id).await,
        Route::InboxDeleteReply { id, .. } => inbox::replies::delete(&cx, &id).await,
        Route::InboxSettings { .. } => inbox::settings::get(&cx).await,
        Route::InboxSaveSettings { .. } => inbox::settings::put(req, &cx).await,
        Route::InboxPreviewSettings { .. } => inbox::settings::preview(req, &cx).await,
        Route::InboxWebhooks { call, .. } | Route::AgentWebhooks { call, .. } => webhooks::run(req, &cx, call).await,
        Route::InboxTokens { .. } => inbox::api_tokens::get(&cx).await,
        Route::InboxAddToken { .. } => inbox::api_tokens::add(req, &cx).await,
        Route::InboxRevokeToken { id, .. } => inbox::api_tokens::revoke(&cx, &id).await,
        Route::InboxIdentity { .. } => identity::settings(&cx).await,
        Route::InboxMakeIdentity { .. } => identity::make_secret(&cx).await,
        Route::InboxIdentityOff { .. } => identity::turn_off(&cx).await,
        Route::AgentMetrics { .. } | Route::InboxMetrics { .. } => metrics::get(&req, &cx).await,
        // Answered before any context is needed.
        Route::Health
        | Route::SignedFile { .. }
        | Route::Resume
        | Route::InboxSignIn
        | Route::InboxSession
        | Route::InboxSignOut
        | Route::InboxMe
        | Route::InboxProfile
        | Route::InboxSaveProfile
        | Route::InboxPush
        | Route::InboxAddDevice
        | Route::InboxRemoveDevice
        | Route::InboxInvite { .. } => Err(crate::Error::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(m: Method, p: &str) -> Route {
        match parse(&m, p) {
            Parsed::Route(route) => route,
            other => panic!("{m:?} {p}: {other:?}"),
        }
    }

    #[test]
    fn contract_paths() {
        assert_eq!(ok(Method::Get, "/v1/sites/demo"), Route::SiteConfig { site: "demo".into() });
        assert_eq!(
            ok(Method::Post, "/v1/sites/demo/conversations"),
            Route::CreateConversation { site: "demo".into() }
        );
        assert_eq!(ok(Method::Get, "/v1/conversations/abc/messages"), Route::ListMessages { conversation: "abc".into() });
        assert_eq!(ok(Method::Post, "/v1/conversations/abc/messages/"), Route::PostMessage { conversation: "abc".into() });
        assert_eq!(ok(Method::Get, "/v1/conversations/abc/live"), Route::Live { conversation: "abc".into() });
        assert_eq!(
            ok(Method::Post, "/v1/agent/conversations/abc/messages"),
            Route::AgentPostMessage { conversation: "abc".into() }
        );
        assert_eq!(ok(Method::Get, "/v1/agent/conversations/abc/messages").audience(), Audience::Agent);
        assert_eq!(ok(Method::Get, "/v1/inbox/conversations/abc").audience(), Audience::Inbox);
        assert_eq!(ok(Method::Post, "/v1/inbox/conversations/abc/messages"), Route::InboxReply { conversation: "abc".into() });
        assert_eq!(ok(Method::Get, "/v1/inbox/sites/demo/live"), Route::InboxLive { site: "demo".into() });
        assert_eq!(ok(Method::Get, "/v1/inbox/sites/demo/search"), Route::InboxSearch { site: "demo".into() });
        assert_eq!(ok(Method::Post, "/v1/inbox/sites/demo/replies"), Route::InboxAddReply { site: "demo".into() });
        assert_eq!(ok(Method::Delete, "/v1/inbox/sites/demo/replies/r_1"), Route::InboxDeleteReply { site: "demo".into(), id: "r_1".into() });
        assert_eq!(ok(Method::Put, "/v1/inbox/sites/demo/settings"), Route::InboxSaveSettings { site: "demo".into() });
        assert_eq!(ok(Method::Post, "/v1/inbox/sites/demo/settings/preview"), Route::InboxPreviewSettings { site: "demo".into() });
        assert_eq!(ok(Method::Put, "/v1/inbox/me/profile"), Route::InboxSaveProfile);
        assert_eq!(ok(Method::Delete, "/v1/inbox/push/subscriptions"), Route::InboxRemoveDevice);
        assert_eq!(ok(Method::Post, "/v1/inbox/push/subscriptions").audience(), Audience::Inbox);
        assert_eq!(parse(&Method::Get, "/v1/inbox/sites/demo/replies/r_1"), Parsed::WrongMethod);
        assert_eq!(ok(Method::Get, "/v1/inbox/sites/demo/tokens"), Route::InboxTokens { site: "demo".into() });
        assert_eq!(ok(Method::Post, "/v1/sites/demo/identify"), Route::Identify { site: "demo".into() });
        assert_eq!(ok(Method::Get, "/v1/agent/sites/demo/metrics"), Route::AgentMetrics { site: "demo".into() });
        assert_eq!(ok(Method::Get, "/v1/inbox/sites/demo/metrics"), Route::InboxMetrics { site: "demo".into() });
        assert_eq!(ok(Method::Delete, "/v1/inbox/sites/demo/identity"), Route::InboxIdentityOff { site: "demo".into() });
        assert_eq!(parse(&Method::Get, "/v1/sites/demo/identify"), Parsed::WrongMethod);
        assert_eq!(ok(Method::Post, "/v1/inbox/sites/demo/tokens"), Route::InboxAddToken { site: "demo".into() });
        assert_eq!(ok(Method::Delete, "/v1/inbox/sites/demo/tokens/tok_1"), Route::InboxRevokeToken { site: "demo".into(), id: "tok_1".into() });
        assert_eq!(ok(Method::Delete, "/v1/inbox/sites/demo/tokens/tok_1").audience(), Audience::Inbox);
        assert_eq!(parse(&Method::Get, "/v1/inbox/sites/demo/tokens/tok_1"), Parsed::WrongMethod);
        assert_eq!(parse(&Method::Get, "/v1/inbox/signin"), Parsed::WrongMethod);
        assert_eq!(
            ok(Method::Delete, "/v1/inbox/sites/demo/teammates/sam%40shop.example"),
            Route::InboxRemove { site: "demo".into(), email: "sam@shop.example".into() }
        );
        assert_eq!(ok(Method::Post, "/v1/inbox/sites/demo/teammates"), Route::InboxInvite { site: "demo".into() });
        assert_eq!(parse(&Method::Put, "/v1/inbox/sites/demo/teammates/sam%4"), Parsed::NoSuchPath);
        assert_eq!(parse(&Method::Put, "/v1/inbox/sites/demo/teammates/%ff"), Parsed::NoSuchPath);
        assert_eq!(ok(Method::Delete, "/v1/conversations/abc"), Route::Delete { conversation: "abc".into() });
        assert_eq!(ok(Method::Put, "/v1/conversations/abc/contact"), Route::SetContact { conversation: "abc".into() });
        assert_eq!(ok(Method::Post, "/v1/agent/conversations/abc/close"), Route::AgentClose { conversation: "abc".into() });
        assert_eq!(ok(Method::Post, "/v1/resume"), Route::Resume);
        assert_eq!(ok(Method::Get, "/v1/health"), Route::Health);
        assert_eq!(ok(Method::Get, "/v1/agent/sites/demo/conversations"), Route::AgentListConversations { site: "demo".into() });
        assert_eq!(ok(Method::Post, "/v1/conversations/abc/read"), Route::MarkRead { conversation: "abc".into() });
        assert_eq!(ok(Method::Get, "/v1/conversations/abc/export"), Route::Export { conversation: "abc".into() });
        assert_eq!(ok(Method::Post, "/v1/agent/conversations/abc/read"), Route::AgentMarkRead { conversation: "abc".into() });
        assert_eq!(parse(&Method::Get, "/v1/resume"), Parsed::WrongMethod);
    }

    #[test]
    fn unknown_paths_and_methods() {
        assert_eq!(parse(&Method::Get, "/v2/sites/demo"), Parsed::NoSuchPath);
        assert_eq!(parse(&Method::Get, "/v1/conversations/a/b/messages"), Parsed::NoSuchPath);
        assert_eq!(parse(&Method::Put, "/v1/conversations/abc/messages"), Parsed::WrongMethod);
        assert_eq!(parse(&Method::Post, "/v1/health"), Parsed::WrongMethod);
        assert_eq!(parse(&Method::Get, "/v1/conversations/abc"), Parsed::WrongMethod);
    }
}
