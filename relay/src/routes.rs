//! Every route of the v1 contract in one place: parsed from method and path (host-testable),
//! then dispatched to its feature module.

use worker::{Env, Method, Request, Response};

use crate::sites::Owner;
use crate::{agent, conversations, http, messages, privacy, sites};

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
    /// The conversation is named inside the body's signed token.
    Resume,
    // Agent routes (site agent key).
    AgentListConversations { site: String },
    AgentListMessages { conversation: String },
    AgentPostMessage { conversation: String },
    AgentMarkRead { conversation: String },
    AgentClose { conversation: String },
    Health,
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
            | Route::AgentListMessages { conversation }
            | Route::AgentPostMessage { conversation }
            | Route::AgentMarkRead { conversation }
            | Route::AgentClose { conversation } => Some(conversation),
            _ => None,
        }
    }

    /// Browser routes answer CORS; agent routes are for servers and mail clients.
    pub fn is_browser(&self) -> bool {
        !matches!(
            self,
            Route::AgentListConversations { .. }
                | Route::AgentListMessages { .. }
                | Route::AgentPostMessage { .. }
                | Route::AgentMarkRead { .. }
                | Route::AgentClose { .. }
                | Route::Health
        )
    }
}

/// What a path is, ignoring the method; `None` for unknown paths.
/// Returns the route for `method`, or `Err(())` when the path exists but not for the method.
pub fn parse(method: &Method, path: &str) -> Option<Result<Route, ()>> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let s = |x: &str| x.to_owned();
    let route = match (method, segs.as_slice()) {
        (Method::Get, ["v1", "health"]) => Route::Health,
        (Method::Post, ["v1", "resume"]) => Route::Resume,
        (Method::Get, ["v1", "sites", site]) => Route::SiteConfig { site: s(site) },
        (Method::Post, ["v1", "sites", site, "conversations"]) => Route::CreateConversation { site: s(site) },
        (Method::Get, ["v1", "conversations", id, "messages"]) => Route::ListMessages { conversation: s(id) },
        (Method::Post, ["v1", "conversations", id, "messages"]) => Route::PostMessage { conversation: s(id) },
        (Method::Get, ["v1", "conversations", id, "live"]) => Route::Live { conversation: s(id) },
        (Method::Put, ["v1", "conversations", id, "contact"]) => Route::SetContact { conversation: s(id) },
        (Method::Post, ["v1", "conversations", id, "read"]) => Route::MarkRead { conversation: s(id) },
        (Method::Get, ["v1", "conversations", id, "export"]) => Route::Export { conversation: s(id) },
        (Method::Delete, ["v1", "conversations", id]) => Route::Delete { conversation: s(id) },
        (Method::Post, ["v1", "agent", "conversations", id, "read"]) => Route::AgentMarkRead { conversation: s(id) },
        (Method::Post, ["v1", "agent", "conversations", id, "close"]) => Route::AgentClose { conversation: s(id) },
        (Method::Get, ["v1", "agent", "sites", site, "conversations"]) => {
            Route::AgentListConversations { site: s(site) }
        }
        (Method::Get, ["v1", "agent", "conversations", id, "messages"]) => {
            Route::AgentListMessages { conversation: s(id) }
        }
        (Method::Post, ["v1", "agent", "conversations", id, "messages"]) => {
            Route::AgentPostMessage { conversation: s(id) }
        }
        (_, ["v1", "resume"]) => return Some(Err(())),
        (_, ["v1", "sites", _] | ["v1", "sites", _, "conversations"])
        | (_, ["v1", "conversations", _] | ["v1", "conversations", _, "messages" | "live" | "contact" | "read" | "export"])
        | (_, ["v1", "agent", "conversations", _, "messages" | "read" | "close"])
        | (_, ["v1", "agent", "sites", _, "conversations"]) => return Some(Err(())),
        _ => return None,
    };
    Some(Ok(route))
}

/// Who a browser route is about: the site named in the path, or the owner of the
/// conversation named in it.
async fn owner_of(route: &Route, env: &Env) -> crate::Result<Owner> {
    Ok(match (route, route.conversation()) {
        (Route::SiteConfig { site } | Route::CreateConversation { site }, _) => Owner::Site(site.clone()),
        (_, Some(conversation)) => sites::owner_of_conversation(env, conversation).await?,
        // Only `Resume`, which is handled before.
        _ => Owner::Unknown,
    })
}

/// May a page on `origin` read the answer about `owner`? The owning site's origins may; for
/// an id never seen, any site's origins may (the answer is a 404 that says nothing).
async fn origin_may_ask(env: &Env, owner: &Owner, origin: &str) -> crate::Result<bool> {
    match owner {
        Owner::Site(site) | Owner::Gone(site) => sites::origin_allowed(env, site, origin).await,
        Owner::Unknown => sites::any_site_allows(env, origin).await,
    }
}

/// Every API answer: what `answer` says, never cached (tokens and threads are in them) and
/// never content-sniffed.
pub async fn handle(req: Request, env: Env) -> Response {
    http::api_headers(answer(req, env).await)
}

async fn answer(req: Request, env: Env) -> Response {
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
        Some(Ok(r)) => r,
        Some(Err(())) => return crate::Error::MethodNotAllowed.into_response(),
        None => return http::not_found_path(),
    };

    if !route.is_browser() {
        if preflight {
            return crate::Error::OriginNotAllowed.into_response();
        }
        return dispatch(route, req, env, None).await.unwrap_or_else(crate::Error::into_response);
    }

    // The resume token, and with it the site, is in the body: the handler checks the origin.
    // Its preflight is answered for origins some site allows.
    if route == Route::Resume {
        let allowed = match &origin {
            Some(o) => sites::any_site_allows(&env, o).await,
            None => Ok(true),
        };
        return match allowed {
            Ok(true) if preflight => http::preflight(origin.as_deref()),
            Ok(true) => {
                let resp = dispatch(route, req, env, origin.as_deref()).await.unwrap_or_else(crate::Error::into_response);
                // Refused origins never get CORS headers.
                if resp.status_code() == 403 { resp } else { http::with_cors(resp, origin.as_deref()) }
            }
            Ok(false) => crate::Error::OriginNotAllowed.into_response(),
            Err(e) => e.into_response(),
        };
    }

    // Browser route: whose it is; unknown and gone conversations stop here, before any
    // Durable Object is touched.
    let mut owner = match owner_of(&route, &env).await {
        Ok(owner) => owner,
        Err(e) => return e.into_response(),
    };
    // The Origin, when a browser sends one, must be allowed to ask (see `origin_may_ask`).
    let cors_origin = match origin {
        None => None,
        Some(origin) => match origin_may_ask(&env, &owner, &origin).await {
            Ok(true) => Some(origin),
            // A page of another Pigeon site asking about this site's conversation gets exactly
            // the answer for an id never seen: it cannot tell whether this one exists, existed,
            // or whose it is.
            Ok(false) if route.conversation().is_some() && owner != Owner::Unknown => match sites::any_site_allows(&env, &origin).await {
                Ok(true) => {
                    owner = Owner::Unknown;
                    Some(origin)
                }
                Ok(false) => return crate::Error::OriginNotAllowed.into_response(),
                Err(e) => return e.into_response(),
            },
            // A foreign origin: the same 403 whatever the site or conversation, so a foreign
            // page learns nothing; no CORS headers.
            Ok(false) => return crate::Error::OriginNotAllowed.into_response(),
            Err(e) => return e.into_response(),
        },
    };
    if preflight {
        return http::preflight(cors_origin.as_deref());
    }
    let resp = match owner {
        Owner::Site(_) => dispatch(route, req, env, cors_origin.as_deref()).await,
        // Deleted, erased or never there: the same answer as a wrong token.
        Owner::Gone(_) | Owner::Unknown => gone(&route, &req),
    };
    http::with_cors(resp.unwrap_or_else(crate::Error::into_response), cors_origin.as_deref())
}

/// The answer for a conversation that is not there: `404 not_found`, or for the live socket
/// an accepted socket told `not_found` and closed with 4404 (a refused upgrade would look to
/// a browser like a network failure).
fn gone(route: &Route, req: &Request) -> crate::Result<Response> {
    let upgrade = req.headers().get("upgrade")?.unwrap_or_default();
    if matches!(route, Route::Live { .. }) && upgrade.eq_ignore_ascii_case("websocket") {
        return crate::conversation::refuse_gone_socket();
    }
    Err(crate::Error::NotFound)
}

/// Runs a route. Browser routes about a conversation get here only for one that exists;
/// `origin` is the request's allowed `Origin`, if any (checked again by handlers that only
/// learn the site from the body).
async fn dispatch(route: Route, req: Request, env: Env, origin: Option<&str>) -> crate::Result<Response> {
    match route {
        Route::Health => Ok(Response::from_json(&serde_json::json!({"ok": true}))?),
        Route::SiteConfig { site } => sites::public_config(&env, &site).await,
        Route::CreateConversation { site } => conversations::create(req, &env, &site).await,
        Route::ListMessages { conversation } => messages::list(&req, &env, &conversation).await,
        Route::PostMessage { conversation } => messages::post(req, &env, &conversation).await,
        Route::Live { conversation } => messages::live(&req, &env, &conversation).await,
        Route::SetContact { conversation } => privacy::set_contact(req, &env, &conversation).await,
        Route::MarkRead { conversation } => messages::mark_read(req, &env, &conversation).await,
        Route::Export { conversation } => privacy::export(&req, &env, &conversation).await,
        Route::Delete { conversation } => privacy::delete(&req, &env, &conversation).await,
        Route::Resume => crate::resume::resume(req, &env, origin).await,
        Route::AgentMarkRead { conversation } => agent::mark_read(req, &env, &conversation).await,
        Route::AgentClose { conversation } => agent::close(&req, &env, &conversation).await,
        Route::AgentListConversations { site } => agent::conversations(&req, &env, &site).await,
        Route::AgentListMessages { conversation } => agent::list(&req, &env, &conversation).await,
        Route::AgentPostMessage { conversation } => agent::post(req, &env, &conversation).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(m: Method, p: &str) -> Route {
        parse(&m, p).expect("known path").expect("allowed method")
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
        assert!(!ok(Method::Get, "/v1/agent/conversations/abc/messages").is_browser());
        assert_eq!(ok(Method::Delete, "/v1/conversations/abc"), Route::Delete { conversation: "abc".into() });
        assert_eq!(ok(Method::Put, "/v1/conversations/abc/contact"), Route::SetContact { conversation: "abc".into() });
        assert_eq!(ok(Method::Post, "/v1/agent/conversations/abc/close"), Route::AgentClose { conversation: "abc".into() });
        assert_eq!(ok(Method::Post, "/v1/resume"), Route::Resume);
        assert_eq!(parse(&Method::Get, "/v1/resume"), Some(Err(())));
    }

    #[test]
    fn unknown_paths_and_methods() {
        assert_eq!(parse(&Method::Get, "/v2/sites/demo"), None);
        assert_eq!(parse(&Method::Get, "/v1/conversations/a/b/messages"), None);
        assert_eq!(parse(&Method::Put, "/v1/conversations/abc/messages"), Some(Err(())));
    }
}
