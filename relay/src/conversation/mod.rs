//! The conversation Durable Object: the single writer of one conversation. It alone assigns
//! `seq`, enforces `client_id` idempotency, persists before it acknowledges or broadcasts, and
//! holds the live WebSockets (hibernation API).
//!
//! The Worker talks to it over internal HTTP (`https://conversation/<op>`); see [`internal`].

mod index;
pub mod internal;
mod live;
mod rate;
mod store;

use std::cell::{Cell, RefCell};

use pigeon_protocol::{Author, validate};
use serde::Deserialize;
use worker::{
    DurableObject, Env, Method, Request, Response, State, WebSocket, WebSocketIncomingMessage,
    durable_object,
};

use crate::{Error, Result, http, tokens};
use internal::{Append, Init};
use rate::Bucket;
use store::{AppendOutcome, Reader, Store};

#[durable_object]
pub struct Conversation {
    state: State,
    env: Env,
    store: Store,
    /// Shopper messages per conversation; in memory, so it resets when the object sleeps.
    shopper_rate: RefCell<Bucket>,
    rate_limits_on: bool,
    /// Known to have an index alarm pending, so a burst asks storage only once.
    index_alarm_armed: Cell<bool>,
}

/// Who is calling, as established by the Worker (agent, worker) or by the token (shopper).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caller {
    Shopper,
    Agent,
    Worker,
}

impl DurableObject for Conversation {
    fn new(state: State, env: Env) -> Self {
        let store = Store::new(state.storage().sql());
        let per_minute = env
            .var("CONVERSATION_MESSAGES_PER_MINUTE")
            .ok()
            .and_then(|v| v.to_string().parse::<f64>().ok())
            .unwrap_or(30.0);
        let rate_limits_on = env.var("RATE_LIMITS").map(|v| v.to_string() != "off").unwrap_or(true);
        Self {
            state,
            env,
            store,
            shopper_rate: RefCell::new(Bucket::per_minute(per_minute, 20.0)),
            rate_limits_on,
            index_alarm_armed: Cell::new(false),
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        Ok(self.handle(req).await.unwrap_or_else(Error::into_response))
    }

    /// One alarm for all deferred work: today, writing the D1 index.
    async fn alarm(&self) -> worker::Result<Response> {
        self.index_alarm_armed.set(false);
        if let Err(e) = index::flush(&self.state, &self.env, &self.store).await {
            worker::console_error!("alarm: {e}");
        }
        Response::empty()
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> worker::Result<()> {
        live::on_frame(&self.store, &ws, message);
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, _reason: String, _clean: bool) -> worker::Result<()> {
        let code = u16::try_from(code).ok().filter(|c| *c == 1000 || (3000..5000).contains(c)).unwrap_or(1000);
        let _ = ws.close(Some(code), Some("bye"));
        Ok(())
    }
}

#[derive(Deserialize)]
struct Contact {
    email: String,
}

#[derive(Deserialize)]
struct Read {
    seq: u64,
}

impl Conversation {
    async fn handle(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        let method = req.method();
        if (method.clone(), path.as_str()) == (Method::Post, "/init") {
            let init: Init = req.json().await?;
            self.store.init(&init)?;
            return http::no_content();
        }
        if path == "/live" {
            return live::accept(&self.state, &self.store);
        }
        let caller = self.authorize(&req)?;
        match (method, path.as_str(), caller) {
            (Method::Get, "/messages", _) => {
                let url = req.url()?;
                let (mut after, mut limit) = (0u64, 100u32);
                for (k, v) in url.query_pairs() {
                    match k.as_ref() {
                        "after" => after = v.parse().map_err(|_| bad_query("after"))?,
                        "limit" => limit = v.parse().map_err(|_| bad_query("limit"))?,
                        _ => {}
                    }
                }
                http::json(200, &self.store.page(after, limit.clamp(1, 500))?)
            }
            (Method::Post, "/messages", Caller::Shopper | Caller::Agent) => {
                let append: Append = req.json().await?;
                let allowed = if caller == Caller::Shopper { Author::Shopper } else { Author::Agent };
                if append.author != allowed {
                    return Err(Error::NotFound);
                }
                let resp = self.append(append)?;
                if resp.status_code() == 201 {
                    self.schedule_index().await?;
                }
                Ok(resp)
            }
            (Method::Post, "/contact", Caller::Shopper) => {
                let contact: Contact = req.json().await?;
                self.store.set_contact(&contact.email)?;
                http::no_content()
            }
            (Method::Post, "/read", Caller::Shopper | Caller::Agent) => {
                let read: Read = req.json().await?;
                let reader = if caller == Caller::Shopper { Reader::Shopper } else { Reader::Agent };
                self.store.mark_read(reader, read.seq)?;
                if caller == Caller::Agent {
                    self.schedule_index().await?;
                }
                http::no_content()
            }
            (Method::Get, "/export", Caller::Shopper | Caller::Agent) => {
                let meta = self.store.meta()?.ok_or(Error::NotFound)?;
                let context: Option<serde_json::Value> = meta.context.as_deref().and_then(|c| serde_json::from_str(c).ok());
                http::json(
                    200,
                    &serde_json::json!({
                        "conversation": {
                            "site": meta.site, "created_at": meta.created_at, "status": meta.status,
                            "context": context, "contact_email": meta.contact_email,
                            "shopper_read_seq": meta.shopper_read_seq, "agent_read_seq": meta.agent_read_seq,
                        },
                        "messages": self.store.all_messages()?,
                    }),
                )
            }
            (Method::Post, "/close", Caller::Agent) => {
                self.store.set_status("closed")?;
                // Closing is rare and the merchant expects the list to change at once.
                index::flush(&self.state, &self.env, &self.store).await?;
                http::no_content()
            }
            (Method::Post, "/erase", _) => {
                // deleteAll takes the SQL tables and key-value storage; the alarm goes separately.
                self.state.storage().delete_alarm().await?;
                self.state.storage().delete_all().await?;
                self.index_alarm_armed.set(false);
                self.store.ensure_schema();
                live::close_all(&self.state, "erased");
                http::no_content()
            }
            _ => Err(Error::NotFound),
        }
    }

    fn append(&self, append: Append) -> Result<Response> {
        let admit = || {
            if append.author == Author::Shopper && self.rate_limits_on {
                let now = js_sys::Date::now();
                if let Err(wait_ms) = self.shopper_rate.borrow_mut().take(now) {
                    return Err(Error::RateLimited { retry_after_secs: (wait_ms / 1000.0).ceil().max(1.0) as u32 });
                }
            }
            Ok(())
        };
        let created_at = now_iso();
        let message_id = tokens::new_message_id()?;
        match self.store.append(&append, &message_id, &created_at, admit)? {
            AppendOutcome::Created(message) => {
                // Stored (the output gate holds this response until it is durable); only
                // now tell the live sockets.
                live::broadcast(&self.state, &message);
                http::json(201, &serde_json::json!({ "message": message }))
            }
            AppendOutcome::Duplicate(message) => http::json(200, &serde_json::json!({ "message": message })),
            AppendOutcome::Conflict => Err(Error::ClientIdConflict),
        }
    }

    /// Makes sure the D1 index is written soon.
    async fn schedule_index(&self) -> Result<()> {
        if !self.index_alarm_armed.get() {
            index::schedule(&self.state, index::INDEX_DELAY).await?;
            self.index_alarm_armed.set(true);
        }
        Ok(())
    }

    /// Agent and worker calls are marked by the Worker after it checked the agent key (or
    /// for its own jobs); everyone else must present the conversation token. Unknown
    /// conversation and wrong token are the same 404.
    fn authorize(&self, req: &Request) -> Result<Caller> {
        let exists = self.store.exists()?;
        let role = req.headers().get(internal::ROLE_HEADER)?;
        let caller = match role.as_deref() {
            Some("agent") => Caller::Agent,
            Some("worker") => Caller::Worker,
            _ => {
                let token = http::bearer(req).ok_or(Error::NotFound)?;
                if exists && self.store.token_matches(&token)? {
                    Caller::Shopper
                } else {
                    return Err(Error::NotFound);
                }
            }
        };
        if exists { Ok(caller) } else { Err(Error::NotFound) }
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
