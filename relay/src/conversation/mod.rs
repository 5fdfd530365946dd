//! The conversation Durable Object: the single writer of one conversation. It alone assigns
//! `seq`, enforces `client_id` idempotency, persists before it acknowledges or broadcasts, and
//! holds the live WebSockets (hibernation API).
//!
//! The Worker talks to it over internal HTTP (`https://conversation/<op>`); see [`internal`].

mod index;
pub mod internal;
mod jobs;
mod live;
mod notify;
mod rate;
mod store;

use std::cell::{Cell, RefCell};

use pigeon_protocol::{Author, validate};
use serde::Deserialize;
use worker::{
    DurableObject, Env, Method, Request, Response, State, WebSocket, WebSocketIncomingMessage,
    durable_object,
};

use crate::mail::MailConfig;
use crate::mail::sign::Role;
use crate::{Error, Result, http, tokens};
use internal::{Append, EmailReply, Init};
use jobs::{Job, Outcome, When};
use rate::Bucket;
use store::{AppendOutcome, Reader, Store};

pub use live::refuse_gone as refuse_gone_socket;

#[durable_object]
pub struct Conversation {
    state: State,
    env: Env,
    store: Store,
    /// Shopper messages per conversation; in memory, so it resets when the object sleeps.
    shopper_rate: RefCell<Bucket>,
    rate_limits_on: bool,
    /// `None` when email is not configured.
    mail: Option<MailConfig>,
    /// The alarm time this object last set, so a burst sets it once.
    armed: Cell<Option<f64>>,
    /// Most messages a live socket gets before `ready` (`LIVE_MAX_BACKLOG`, 10,000).
    max_backlog: u32,
    /// Tests only (`TEST_JOB_HOLD_MS`, unset or 0 in production): how long each job is held
    /// open after its work, before it is recorded as finished.
    job_hold: Option<std::time::Duration>,
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
        let mail = MailConfig::from_env(&env);
        let number = |name: &str| env.var(name).ok().and_then(|v| v.to_string().parse::<u64>().ok());
        let max_backlog = number("LIVE_MAX_BACKLOG").map_or(live::MAX_BACKLOG, |n| n.clamp(1, u64::from(live::MAX_BACKLOG)) as u32);
        let job_hold = number("TEST_JOB_HOLD_MS").filter(|ms| *ms > 0).map(std::time::Duration::from_millis);
        Self {
            state,
            env,
            store,
            shopper_rate: RefCell::new(Bucket::per_minute(per_minute, 20.0)),
            rate_limits_on,
            mail,
            armed: Cell::new(None),
            max_backlog,
            job_hold,
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        Ok(self.handle(req).await.unwrap_or_else(Error::into_response))
    }

    /// One alarm for all deferred work (see `jobs`): runs what is due, then re-arms.
    async fn alarm(&self) -> worker::Result<Response> {
        self.armed.set(None);
        if let Err(e) = self.run_due_jobs().await {
            worker::console_error!("alarm: {e}");
            // Try again shortly rather than lose the remaining jobs.
            self.state.storage().set_alarm(std::time::Duration::from_secs(10)).await?;
        }
        Response::empty()
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> worker::Result<()> {
        live::on_frame(&self.store, &ws, message, self.max_backlog);
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
                        "after" => after = v.parse().ok().filter(|n| *n <= validate::MAX_SEQ).ok_or_else(|| bad_query("after", 0, validate::MAX_SEQ))?,
                        "limit" => limit = v.parse().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| bad_query("limit", 1, MAX_PAGE.into()))?,
                        _ => {}
                    }
                }
                http::json(200, &self.store.page(after, limit)?)
            }
            (Method::Post, "/messages", Caller::Shopper | Caller::Agent) => {
                let append: Append = req.json().await?;
                let allowed = if caller == Caller::Shopper { Author::Shopper } else { Author::Agent };
                if append.author != allowed {
                    return Err(Error::NotFound);
                }
                let author = append.author;
                let resp = self.append(append)?;
                if resp.status_code() == 201 {
                    self.after_append(author).await?;
                }
                Ok(resp)
            }
            (Method::Post, "/email", Caller::Worker) => {
                let reply: EmailReply = req.json().await?;
                self.email_reply(reply).await
            }
            (Method::Post, "/device", Caller::Worker) => {
                #[derive(Deserialize)]
                struct Device {
                    token_hash: String,
                }
                let device: Device = req.json().await?;
                self.store.add_device_token(&device.token_hash, &now_iso())?;
                let meta = self.store.meta()?.ok_or(Error::NotFound)?;
                http::json(200, &serde_json::json!({ "id": meta.id, "site": meta.site, "created_at": meta.created_at }))
            }
            (Method::Post, "/contact", Caller::Shopper) => {
                let contact: Contact = req.json().await?;
                self.store.set_contact(&contact.email)?;
                // A reply may already be waiting unread.
                self.notify_later(Role::Shopper).await?;
                http::no_content()
            }
            (Method::Post, "/read", Caller::Shopper | Caller::Agent) => {
                let read: Read = req.json().await?;
                let reader = if caller == Caller::Shopper { Reader::Shopper } else { Reader::Agent };
                self.store.mark_read(reader, read.seq)?;
                if caller == Caller::Agent {
                    self.schedule(Job::Index, When::Within(index::INDEX_DELAY)).await?;
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
                if index::flush(&self.env, &self.store).await? != Outcome::Done {
                    self.schedule(Job::Index, When::Within(index::INDEX_DELAY)).await?;
                }
                http::no_content()
            }
            (Method::Post, "/erase", _) => {
                // deleteAll takes the SQL tables and key-value storage; the alarm goes separately.
                self.state.storage().delete_alarm().await?;
                self.state.storage().delete_all().await?;
                self.armed.set(None);
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

    /// A new message: the index is behind, and someone may need an email.
    async fn after_append(&self, author: Author) -> Result<()> {
        self.schedule(Job::Index, When::Within(index::INDEX_DELAY)).await?;
        match author {
            Author::Shopper => self.notify_later(Role::Merchant).await,
            Author::Agent => self.notify_later(Role::Shopper).await,
            Author::System => Ok(()),
        }
    }

    /// Schedules a notification after the configured quiet time; a burst of messages
    /// postpones it, up to five times the quiet time. The shopper is only emailed when they
    /// left an address.
    async fn notify_later(&self, to: Role) -> Result<()> {
        let Some(mail) = &self.mail else { return Ok(()) };
        let delay = match to {
            Role::Merchant => mail.merchant_delay,
            Role::Shopper => {
                if self.store.meta()?.and_then(|m| m.contact_email).is_none() {
                    return Ok(());
                }
                mail.shopper_delay
            }
        };
        self.schedule(Job::Notify(to), When::Quiet { delay, max: delay * 5 }).await
    }

    async fn schedule(&self, job: Job, when: When) -> Result<()> {
        let now = js_sys::Date::now();
        let next = self.store.schedule(job, when, now)?;
        self.armed.set(Some(jobs::arm(&self.state, next, self.armed.get(), now).await?));
        Ok(())
    }

    async fn run_due_jobs(&self) -> Result<()> {
        for name in self.store.due_jobs(js_sys::Date::now())? {
            let Some(due) = self.store.start(&name, js_sys::Date::now())? else { continue };
            let outcome = match (due.job(), &self.mail) {
                (Some(Job::Index), _) => index::flush(&self.env, &self.store).await?,
                (Some(Job::Notify(to)), Some(mail)) => notify::run(&self.env, mail, &self.store, to, &due).await?,
                // Email switched off since it was scheduled, or a job this version does not know.
                _ => Outcome::Done,
            };
            if let Some(hold) = self.job_hold {
                worker::Delay::from(hold).await;
            }
            self.store.finish(&due, outcome, js_sys::Date::now())?;
        }
        // Whatever is left, including jobs scheduled again while they ran.
        if let Some(next) = self.store.next_due()? {
            let now = js_sys::Date::now();
            self.armed.set(Some(jobs::arm(&self.state, next, None, now).await?));
        }
        Ok(())
    }

    /// A reply that came in by email, checked by the Worker (signature, merchant address).
    /// The shopper's address is only known here, so it is checked here.
    async fn email_reply(&self, reply: EmailReply) -> Result<Response> {
        let meta = self.store.meta()?.ok_or(Error::NotFound)?;
        let author = reply.append.author;
        let thread = match author {
            Author::Agent => Role::Merchant,
            Author::Shopper => {
                let contact = meta.contact_email.as_deref().unwrap_or_default();
                if contact.is_empty() || !contact.eq_ignore_ascii_case(&reply.from) {
                    return Err(Error::Invalid(validate::Invalid { code: "wrong_sender", message: "This sender may not reply here.".into() }));
                }
                Role::Shopper
            }
            Author::System => return Err(Error::NotFound),
        };
        let resp = self.append(reply.append)?;
        if resp.status_code() == 201 {
            if let Some(id) = &reply.message_id {
                self.store.mail_received(thread, id)?;
            }
            self.after_append(author).await?;
        }
        Ok(resp)
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

/// Most messages one `GET .../messages` returns (`limit` 1..=500).
const MAX_PAGE: u32 = 500;

fn bad_query(name: &str, min: u64, max: u64) -> Error {
    Error::Invalid(validate::Invalid {
        code: "invalid_query",
        message: format!("Query parameter `{name}` must be an integer from {min} to {max}."),
    })
}

pub fn now_iso() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}
