//! The conversation Durable Object: the single writer of one conversation. It alone assigns
//! `seq`, enforces `client_id` idempotency, persists before it acknowledges or broadcasts, and
//! holds the live WebSockets (hibernation API).
//!
//! The Worker talks to it over internal HTTP (`https://conversation/<op>`); see [`internal`].

pub mod internal;
mod live;
mod store;

use pigeon_protocol::validate;
use worker::{
    DurableObject, Env, Method, Request, Response, State, WebSocket, WebSocketIncomingMessage,
    durable_object,
};

use crate::{Error, Result, http, tokens};
use internal::{Append, Init};
use store::{AppendOutcome, Store};

#[durable_object]
pub struct Conversation {
    state: State,
    store: Store,
}

/// Who is calling, as established by the Worker (agent) or by the token (shopper).
enum Caller {
    Shopper,
    Agent,
}

impl DurableObject for Conversation {
    fn new(state: State, _env: Env) -> Self {
        let store = Store::new(state.storage().sql());
        Self { state, store }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        Ok(self.handle(req).await.unwrap_or_else(Error::into_response))
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> worker::Result<()> {
        live::on_frame(&self.state, &self.store, &ws, message);
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, _reason: String, _clean: bool) -> worker::Result<()> {
        let code = u16::try_from(code).ok().filter(|c| *c == 1000 || (3000..5000).contains(c)).unwrap_or(1000);
        let _ = ws.close(Some(code), Some("bye"));
        Ok(())
    }
}

impl Conversation {
    async fn handle(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/init") => {
                let init: Init = req.json().await?;
                self.store.init(&init)?;
                http::no_content()
            }
            (Method::Get, "/live") => live::accept(&self.state, &self.store),
            (Method::Get, "/messages") => {
                self.authorize(&req)?;
                let url = req.url()?;
                let (mut after, mut limit) = (0u64, 100u32);
                for (k, v) in url.query_pairs() {
                    match k.as_ref() {
                        "after" => after = v.parse().map_err(|_| bad_query("after"))?,
                        "limit" => limit = v.parse().map_err(|_| bad_query("limit"))?,
                        _ => {}
                    }
                }
                let page = self.store.page(after, limit.clamp(1, 500))?;
                http::json(200, &page)
            }
            (Method::Post, "/messages") => {
                let caller = self.authorize(&req)?;
                let append: Append = req.json().await?;
                // The Worker validated already; the object refuses anything a shopper may not say.
                if matches!(caller, Caller::Shopper) && append.author != pigeon_protocol::Author::Shopper {
                    return Err(Error::NotFound);
                }
                let created_at = now_iso();
                let message_id = tokens::new_message_id()?;
                match self.store.append(&append, &message_id, &created_at)? {
                    AppendOutcome::Created(message) => {
                        // Stored (the output gate holds this response until it is durable);
                        // only now tell the live sockets.
                        live::broadcast(&self.state, &message);
                        http::json(201, &serde_json::json!({ "message": message }))
                    }
                    AppendOutcome::Duplicate(message) => http::json(200, &serde_json::json!({ "message": message })),
                    AppendOutcome::Conflict => Err(Error::ClientIdConflict),
                }
            }
            _ => Err(Error::NotFound),
        }
    }

    /// Agent calls are marked by the Worker after it checked the site's agent key; everyone
    /// else must present the conversation token. Unknown conversation and wrong token are the
    /// same 404.
    fn authorize(&self, req: &Request) -> Result<Caller> {
        if req.headers().get(internal::AGENT_HEADER)?.is_some() {
            return if self.store.exists()? { Ok(Caller::Agent) } else { Err(Error::NotFound) };
        }
        let token = http::bearer(req).ok_or(Error::NotFound)?;
        if self.store.token_matches(&token)? { Ok(Caller::Shopper) } else { Err(Error::NotFound) }
    }
}

fn bad_query(name: &str) -> Error {
    Error::Invalid(validate::Invalid {
        code: "invalid_query",
        message: format!("Query parameter `{name}` must be a non-negative integer."),
    })
}

pub fn now_iso() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}
