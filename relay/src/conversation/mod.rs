//! The conversation Durable Object: the single writer of one conversation. It alone assigns
//! `seq`, enforces `client_id` idempotency, persists before it acknowledges or broadcasts, and
//! holds the live WebSockets (hibernation API).
//!
//! The Worker talks to it through one typed contract, [`op`]: [`Conversation::check`] decides
//! who may, [`Conversation::run`] does it.

pub(crate) mod index;
pub mod op;
mod hooks;
mod jobs;
mod live;
mod notify;
mod push;
mod rate;
mod rating;
mod recipients;
mod store;

use std::cell::{Cell, RefCell};

use pigeon_protocol::{Author, InboxFrame, Message, Status};
use worker::{DurableObject, Env, Request, Response, State, WebSocket, WebSocketIncomingMessage, durable_object};

use crate::mail::MailConfig;
use crate::mail::sign::Role;
use crate::{Error, Result, tokens};
use op::{Answer, Answered, Checked, EmailReply, Op, Refusal};
use jobs::{Job, Outcome, When};
use rate::Bucket;
use store::{Append, AppendOutcome, Reader, Store};

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
    /// `None` when the relay has no VAPID keys.
    push: Option<crate::push::PushConfig>,
    /// Frames for the site's hub waiting for the hand-over under way (see `to_hub`).
    hub_outbox: std::rc::Rc<RefCell<HubOutbox>>,
    /// The live sockets as known while awake (see `live`).
    sockets: live::Sockets,
    /// The alarm time this object last set, so a burst sets it once.
    armed: Cell<Option<f64>>,
    /// Most messages a live socket gets before `ready` (`LIVE_MAX_BACKLOG`, 10,000).
    max_backlog: u32,
    /// Tests only (`TEST_JOB_HOLD_MS`, unset or 0 in production): how long each job is held
    /// open after its work, before it is recorded as finished.
    job_hold: Option<std::time::Duration>,
}

/// What [`Conversation::changed`] does.
enum Change {
    Close(rating::CloseKind),
    Reopen,
    Assign(Option<op::Assignee>),
}

/// Hand-overs to the site's hub (see `to_hub`).
#[derive(Default)]
struct HubOutbox {
    busy: bool,
    frames: Vec<InboxFrame>,
    /// The hub's stub, made once.
    hub: Option<std::rc::Rc<worker::Stub>>,
    /// When the last hand-over started (ms since the epoch).
    last_ms: f64,
    /// Until when nothing is handed over: the hub said no tab is open (see `hub`).
    quiet_until: f64,
    /// The hub's epoch when it last said a tab is open again: an answer from before it
    /// does not make this object quiet.
    listening_since: f64,
}

impl HubOutbox {
    /// What the hub said to a hand-over, at `now_ms`.
    fn heard(&mut self, heard: crate::hub::Heard, now_ms: f64) {
        if heard.tabs == 0 && heard.epoch >= self.listening_since {
            self.quiet_until = now_ms + crate::hub::QUIET_MS;
        }
    }

    /// Whether nothing is handed over at `now_ms` (the hub said no tab is open).
    fn quiet(&self, now_ms: f64) -> bool {
        now_ms < self.quiet_until
    }

    /// The hub has a tab open again since `epoch`.
    fn listening(&mut self, epoch: f64) {
        self.listening_since = self.listening_since.max(epoch);
        self.quiet_until = 0.0;
    }
}

/// Hand-overs to the hub start at least this far apart: the first change after a quiet spell
/// goes at once, a burst's changes go together (a busy conversation makes at most 100 requests a
/// second to its hub, not one per message).
const HUB_SPACING_MS: f64 = 10.0;

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
        let push = crate::push::PushConfig::from_env(&env);
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
            push,
            hub_outbox: std::rc::Rc::default(),
            sockets: live::Sockets::default(),
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
        if let Some(send) = live::on_frame(&self.sockets, &self.state, &self.store, &ws, message, self.max_backlog, self.rate_limits_on) {
            let client_id = send.post.client_id.clone();
            let outcome = self.socket_send(send).await;
            live::answer_send(&ws, client_id, outcome);
        }
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, _reason: String, _clean: bool) -> worker::Result<()> {
        self.sockets.forget();
        let code = u16::try_from(code).ok().filter(|c| *c == 1000 || (3000..5000).contains(c)).unwrap_or(1000);
        let _ = ws.close(Some(code), Some("bye"));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> worker::Result<()> {
        self.sockets.forget();
        Ok(())
    }
}

impl Conversation {
    async fn handle(&self, mut req: Request) -> Result<Response> {
        if req.path() == "/live" {
            let ip = req.headers().get(op::CLIENT_IP_HEADER)?.unwrap_or_else(|| "unknown".into());
            let accepted = live::accept(&self.state, &self.sockets, &self.store, ip)?;
            // A little after its deadline, so the job finds it overdue.
            self.schedule(Job::Sockets, When::Within(live::HELLO_TIMEOUT + std::time::Duration::from_millis(50))).await?;
            return Ok(accepted);
        }
        if op::is_passed(&req) {
            return Ok(self.post_from_shop(req).await);
        }
        let op::Call { caller, op } = op::receive(&mut req).await?;
        let outcome = match self.check(caller, &op) {
            Ok(caller) => self.run(caller, op).await,
            Err(refusal) => Err(refusal),
        };
        if let Err(Refusal::Internal(cause)) = &outcome {
            worker::console_error!("conversation: {cause}");
        }
        op::reply(outcome)
    }

    /// Who the caller is, and whether they may do `op` (see [`Op::allows`]). Creating is the
    /// only thing that can happen to a conversation that does not exist; an unknown
    /// conversation and a wrong token are the same refusal.
    fn check(&self, caller: op::Caller, op: &Op) -> std::result::Result<Checked, Refusal> {
        let exists = self.store.exists()?;
        let checked = match caller {
            op::Caller::Agent => Checked::Agent,
            op::Caller::SiteTeammate { site } => {
                if !self.store.meta()?.is_some_and(|m| m.site == site) {
                    return Err(Refusal::NotFound);
                }
                Checked::Agent
            }
            op::Caller::Worker => Checked::Worker,
            op::Caller::Shopper { token } => {
                if !exists || !self.store.token_matches(&token)? {
                    return Err(Refusal::NotFound);
                }
                Checked::Shopper
            }
        };
        if !op.allows(checked) || !(exists || matches!(op, Op::Init(_))) {
            return Err(Refusal::NotFound);
        }
        Ok(checked)
    }

    /// The one place each operation is done; `caller` is checked and allowed.
    async fn run(&self, caller: Checked, op: Op) -> Answered {
        match op {
            Op::Init(init) => {
                self.store.init(&init)?;
                self.schedule(Job::Hooks, When::Within(hooks::HOOKS_DELAY)).await?;
                self.publish(vec![]);
                // Once: a second init's note has the same client id.
                if let Some(body) = init.note {
                    let note = op::NewMessage { client_id: "follows".into(), body, author_name: None, context: None, quiet: true, claim: None, via: op::Via::default(), attachments: vec![] };
                    self.post(Append::new(Author::System, note)).await?;
                }
                Ok(Answer::Done)
            }
            Op::Page { window, limit } => {
                let mut page = self.store.page(window, limit)?;
                if caller == Checked::Agent {
                    page.messages = page.messages.into_iter().map(rating::for_team).collect();
                }
                Ok(Answer::Page(page))
            }
            Op::Post(message) => {
                let author = if caller == Checked::Shopper { Author::Shopper } else { Author::Agent };
                self.post(Append::new(author, message)).await
            }
            Op::EmailReply(reply) => self.email_reply(reply).await,
            Op::AddDevice { token_hash } => {
                self.store.add_device_token(&token_hash, &now_iso())?;
                let meta = self.store.meta()?.ok_or(Error::NotFound)?;
                Ok(Answer::Conversation(pigeon_protocol::Conversation { id: meta.id, site: meta.site, created_at: meta.created_at }))
            }
            Op::SetContact { email } => {
                self.store.set_contact(&email)?;
                self.schedule(Job::Index, When::Within(index::INDEX_DELAY)).await?;
                self.schedule(Job::Hooks, When::Within(hooks::HOOKS_DELAY)).await?;
                self.publish(vec![]);
                // A reply may already be waiting unread.
                self.notify_later(Role::Shopper, None).await?;
                Ok(Answer::Done)
            }
            Op::MarkRead { seq } => {
                let reader = if caller == Checked::Shopper { Reader::Shopper } else { Reader::Agent };
                self.store.mark_read(reader, seq)?;
                if caller == Checked::Agent {
                    self.schedule(Job::Index, When::Within(index::INDEX_DELAY)).await?;
                    self.publish(vec![]);
                }
                Ok(Answer::Done)
            }
            Op::Export => {
                let mut export = self.store.export(now_iso())?;
                if caller == Checked::Agent {
                    export.messages = export.messages.into_iter().map(rating::for_team).collect();
                }
                Ok(Answer::Export(export))
            }
            Op::About => {
                let assignee = self.store.meta()?.and_then(|m| m.assignee);
                Ok(Answer::About { conversation: self.store.about()?, cart_history: self.store.cart_history()?, assignee, rating: Some(self.store.rating_state()?) })
            }
            Op::CloseIdle { idle_since } => {
                // Written to or reopened since the sweep's index said idle: still in use.
                if self.store.last_activity()? >= idle_since || self.store.meta()?.is_none_or(|m| m.status == Status::Closed) {
                    return Ok(Answer::Done);
                }
                self.changed(Change::Close(rating::CloseKind::Auto)).await?;
                self.closed_in_thread(rating::CloseKind::Auto).await;
                Ok(Answer::Closed { ask: None, contact_email: None })
            }
            Op::Close { ask_rating, origin } => {
                let was_open = self.store.meta()?.is_some_and(|m| m.status == Status::Open);
                let ask = self.changed(Change::Close(if ask_rating { rating::CloseKind::Rating } else { rating::CloseKind::Plain })).await?;
                // The close and its ask are stored: a note that fails is logged, not the close's.
                // A close that asks leaves its rating note; one that cannot (no signed links)
                // or does not ask says it closed.
                let asked_in_thread = match (ask, origin) {
                    (Some(ask), Some(origin)) => match self.ask_in_thread(ask, &origin).await {
                        Ok(left) => left,
                        Err(e) => {
                            worker::console_error!("rating: thread note not left: {e}");
                            false
                        }
                    },
                    _ => false,
                };
                if was_open && !asked_in_thread {
                    self.closed_in_thread(rating::CloseKind::Plain).await;
                }
                Ok(Answer::Closed { ask, contact_email: self.store.meta()?.and_then(|m| m.contact_email) })
            }
            Op::Reopen => {
                self.changed(Change::Reopen).await?;
                Ok(Answer::Done)
            }
            Op::Assign { assignee } => {
                self.changed(Change::Assign(assignee)).await?;
                Ok(Answer::Done)
            }
            Op::Rate { input, ask } => {
                self.store.rate(&input, ask, &now_iso())?;
                self.schedule(Job::Hooks, When::Within(hooks::HOOKS_DELAY)).await?;
                Ok(Answer::Done)
            }
            Op::RatingState => Ok(Answer::Rating(self.store.rating_state()?)),
            Op::AddNote(note) => {
                let (note, created) = self.store.add_note(&note)?;
                if created && let Some(meta) = self.store.meta()? {
                    let frame = InboxFrame::Note { conversation: meta.id.clone(), note: note.clone() };
                    self.to_hub(meta.site, meta.id, vec![frame]);
                }
                Ok(Answer::Note { note, created })
            }
            Op::Notes => Ok(Answer::Notes(self.store.notes()?)),
            Op::Check => Ok(Answer::Done),
            Op::HubListening { epoch } => {
                self.hub_outbox.borrow_mut().listening(epoch);
                // The row as it is now, and the newest message: a tab showing this thread that
                // missed one while the call was on its way sees the gap and fetches it.
                self.publish(self.store.last_message()?.into_iter().collect());
                Ok(Answer::Done)
            }
            Op::Sent { client_id } => {
                let author = if caller == Checked::Shopper { Author::Shopper } else { Author::Agent };
                Ok(Answer::Sent(self.store.sent(author, &client_id)?))
            }
            Op::Erase => {
                let meta = self.store.meta()?;
                if let Some(meta) = &meta {
                    // The files first: a failure here leaves everything for the retry.
                    crate::files::erase(&self.env, &meta.id).await?;
                    self.to_hub(meta.site.clone(), meta.id.clone(), vec![InboxFrame::Gone { conversation: meta.id.clone() }]);
                }
                // deleteAll takes the SQL tables and key-value storage; the alarm goes separately.
                self.state.storage().delete_alarm().await?;
                self.state.storage().delete_all().await?;
                self.store.forget();
                self.armed.set(None);
                self.store.ensure_schema();
                live::close_all(&self.state, &self.sockets, "erased");
                // Once more: an upload whose message was stored while the first pass waited
                // on R2 is gone with the storage, and its file with this.
                if let Some(meta) = meta
                    && let Err(e) = crate::files::erase(&self.env, &meta.id).await
                {
                    worker::console_error!("files: second erase pass failed: {e}");
                }
                Ok(Answer::Done)
            }
        }
    }

    /// A teammate's or the sweep's change of status or assignee: the index row is written at
    /// once (the merchant expects the list to change) and the live views told. A close asking
    /// for a rating returns the ask's id.
    async fn changed(&self, change: Change) -> Result<Option<i64>> {
        let mut ask = None;
        match change {
            Change::Assign(assignee) => self.store.set_assignee(assignee.as_ref())?,
            Change::Close(kind) => {
                ask = self.store.close(kind, &now_iso())?;
                self.schedule(Job::Hooks, When::Within(hooks::HOOKS_DELAY)).await?;
            }
            Change::Reopen => {
                self.store.set_status(Status::Open)?;
                self.schedule(Job::Hooks, When::Within(hooks::HOOKS_DELAY)).await?;
            }
        }
        if index::flush(&self.env, &self.store).await? != Outcome::Done {
            self.schedule(Job::Index, When::Within(index::INDEX_DELAY)).await?;
        }
        self.publish(vec![]);
        Ok(ask)
    }

    /// Leaves the rating link of ask `ask` in the thread, from Pigeon (system), so the shopper
    /// sees it in the widget at once. Without email signing (no `MAIL_SECRET`) there is no
    /// link to give; the rating can still be given through the API.
    async fn ask_in_thread(&self, ask: i64, origin: &str) -> Result<bool> {
        let (Some(config), Some(site), Some(meta)) = (&self.mail, self.site().await?, self.store.meta()?) else { return Ok(false) };
        let url = crate::ratings::link(config, origin, &meta.id, ask);
        let locale = shopper_locale(&meta);
        let body = rating::thread_note(&site.name, &url, locale.as_deref());
        let note = op::NewMessage { client_id: rating::note_id(ask), body, author_name: None, context: None, quiet: true, claim: None, via: op::Via::default(), attachments: vec![] };
        self.post(Append::new(Author::System, note)).await?;
        Ok(true)
    }

    /// Says in the thread that the conversation closed (a close that asked nothing), so the
    /// widget shows it closed and offers a new conversation. Logged, never failing the close.
    async fn closed_in_thread(&self, kind: rating::CloseKind) {
        let left = async {
            let (Some(site), Some(meta)) = (self.site().await?, self.store.meta()?) else { return Ok(()) };
            let locale = shopper_locale(&meta);
            let body = rating::closed_note(&site.name, kind, locale.as_deref());
            let client_id = rating::closed_note_id(js_sys::Date::now() as u64);
            let note = op::NewMessage { client_id, body, author_name: None, context: None, quiet: true, claim: None, via: op::Via::default(), attachments: vec![] };
            self.post(Append::new(Author::System, note)).await.map(drop).map_err(crate::Error::from)
        };
        if let Err(e) = left.await {
            worker::console_error!("close: thread note not left: {e}");
        }
    }

    /// A shopper's message from an authenticated live socket: the POST's rules (validation,
    /// the per-IP and per-conversation limits, exactly once per `client_id`), then the same
    /// path as a POST. The socket's `hello` proved the token.
    async fn socket_send(&self, send: live::Send) -> Result<(Message, bool)> {
        let new = op::NewMessage::from_shopper(&send.post)?;
        let meta = self.store.meta()?.ok_or(Error::NotFound)?;
        if self.rate_limits_on {
            crate::limits::check_ip(&self.env, &meta.site, &send.ip, crate::limits::Kind::Message).await?;
        }
        match self.post(Append::new(Author::Shopper, new)).await {
            Ok(Answer::Stored { message, created }) => Ok((message, created)),
            Ok(_) => Err(Error::Internal("post answered other than stored".into())),
            Err(refusal) => Err(refusal.into()),
        }
    }

    /// A shop's `POST .../messages` as the Worker passed it on (see `messages::post`; the
    /// Worker checked the site, the origin and the per-IP limit): read, validated, its token
    /// checked and stored in that order, as the Worker's own routes would, and answered whole
    /// with the API's headers and the page's CORS.
    async fn post_from_shop(&self, mut req: Request) -> Response {
        let origin = req.headers().get("origin").ok().flatten();
        let answered = async {
            let input: pigeon_protocol::PostMessage = crate::http::read_json(&mut req).await?;
            let op = Op::Post(op::NewMessage::from_shopper(&input)?);
            let token = crate::http::bearer(&req).ok_or(Error::NotFound)?;
            let caller = self.check(op::Caller::Shopper { token }, &op)?;
            let (message, created) = self.run(caller, op).await?.stored()?;
            crate::http::whole_json(if created { 201 } else { 200 }, &pigeon_protocol::StoredMessage { message }, origin.as_deref())
        };
        answered.await.unwrap_or_else(|e| crate::http::api_headers(crate::http::with_cors(e.into_response(), origin.as_deref())))
    }

    /// Stores a message and, when it is new, does what follows a new message.
    async fn post(&self, append: Append) -> Answered {
        let (author, quiet) = (append.author, append.quiet);
        // A first reply that assigns the conversation: the teammate's Mine must list it at once.
        let claims = append.claim.is_some() && self.store.meta()?.is_some_and(|m| m.assignee.is_none());
        let (message, created) = self.append(append)?;
        if created {
            if claims && index::flush(&self.env, &self.store).await? != Outcome::Done {
                self.schedule(Job::Index, When::Within(index::INDEX_DELAY)).await?;
            }
            self.after_append(author, quiet).await?;
            self.publish(vec![message.clone()]);
        }
        Ok(Answer::Stored { message, created })
    }

    /// Tells the site's inbox tabs (see `hub`) about `messages` just stored and the
    /// conversation's row as it is now. Not awaited: the answer does not wait for the inbox.
    fn publish(&self, messages: Vec<Message>) {
        // Nobody has the inbox open (see `to_hub`): not even made.
        if self.hub_outbox.borrow().quiet(js_sys::Date::now()) {
            return;
        }
        let row = match self.store.index_row() {
            Ok(Some(row)) => row,
            Ok(None) => return,
            Err(e) => return worker::console_error!("inbox publish: {e}"),
        };
        let mut frames: Vec<InboxFrame> = messages.into_iter().map(|m| InboxFrame::Message { conversation: row.id.clone(), message: rating::for_team(m) }).collect();
        frames.push(InboxFrame::Conversation { conversation: row.summary() });
        self.to_hub(row.site, row.id, frames);
    }

    /// Hands `frames` to the site's hub in order. While a hand-over is under way, or less than
    /// [`HUB_SPACING_MS`] after the last one started, frames wait and go together in the next
    /// one; a waiting row of the conversation is replaced by the newer one.
    fn to_hub(&self, site: String, conversation: String, frames: Vec<InboxFrame>) {
        let mut out = self.hub_outbox.borrow_mut();
        // Nobody has the inbox open: nothing to hand over (a tab's connect ends this).
        if out.quiet(js_sys::Date::now()) {
            return;
        }
        if frames.iter().any(|f| matches!(f, InboxFrame::Conversation { .. } | InboxFrame::Gone { .. })) {
            out.frames.retain(|f| !matches!(f, InboxFrame::Conversation { .. }));
        }
        out.frames.extend(frames);
        if out.busy {
            return;
        }
        let hub = match &out.hub {
            Some(hub) => hub.clone(),
            None => match crate::hub::stub(&self.env, &site) {
                Ok(hub) => out.hub.insert(std::rc::Rc::new(hub)).clone(),
                Err(e) => return worker::console_error!("inbox publish: {e}"),
            },
        };
        out.busy = true;
        let outbox = self.hub_outbox.clone();
        self.state.wait_until(async move {
            loop {
                let wait = HUB_SPACING_MS - (js_sys::Date::now() - outbox.borrow().last_ms);
                if wait > 0.0 {
                    worker::Delay::from(std::time::Duration::from_secs_f64(wait / 1000.0)).await;
                }
                let frames = {
                    let mut out = outbox.borrow_mut();
                    if out.quiet(js_sys::Date::now()) {
                        out.frames.clear();
                    }
                    if out.frames.is_empty() {
                        out.busy = false;
                        return;
                    }
                    out.last_ms = js_sys::Date::now();
                    std::mem::take(&mut out.frames)
                };
                if let Some(heard) = crate::hub::publish(&hub, &conversation, &frames).await {
                    outbox.borrow_mut().heard(heard, js_sys::Date::now());
                }
            }
        });
    }

    /// Stores a message once per `client_id`: the message and whether it is new.
    fn append(&self, append: Append) -> Result<(Message, bool)> {
        let limited = append.author == Author::Shopper && self.rate_limits_on;
        let admit = || {
            if limited {
                let now = js_sys::Date::now();
                if let Err(wait_ms) = self.shopper_rate.borrow_mut().take(now) {
                    return Err(Error::RateLimited { retry_after_secs: (wait_ms / 1000.0).ceil().max(1.0) as u32 });
                }
            }
            Ok(())
        };
        let refund = || {
            if limited {
                self.shopper_rate.borrow_mut().give_back();
            }
        };
        let created_at = now_iso();
        let message_id = tokens::new_message_id()?;
        match self.store.append(&append, &message_id, &created_at, admit, refund)? {
            AppendOutcome::Created(message) => {
                // Stored (the output gate holds this answer until it is durable); only now
                // tell the live sockets.
                live::broadcast(&self.state, &self.sockets, &message);
                Ok((message, true))
            }
            AppendOutcome::Duplicate(message) => Ok((message, false)),
            AppendOutcome::Conflict => Err(Error::ClientIdConflict),
        }
    }

    /// A new message: the index is behind, and someone may need an email (not the shopper
    /// for a quiet reply).
    async fn after_append(&self, author: Author, quiet: bool) -> Result<()> {
        self.schedule(Job::Index, When::Within(index::INDEX_DELAY)).await?;
        self.schedule(Job::Hooks, When::Within(hooks::HOOKS_DELAY)).await?;
        match author {
            Author::Shopper => {
                // One look at the site for both delays.
                let site = self.site().await?;
                self.push_later(site.as_deref()).await?;
                self.notify_later(Role::Merchant, site.as_deref()).await
            }
            Author::Agent if quiet => Ok(()),
            Author::Agent => self.notify_later(Role::Shopper, None).await,
            Author::System => Ok(()),
        }
    }

    /// The site of this conversation, as the Worker's cache has it.
    async fn site(&self) -> Result<Option<std::rc::Rc<crate::sites::Site>>> {
        match self.store.meta()? {
            Some(meta) => crate::sites::load(&self.env, &meta.site).await,
            None => Ok(None),
        }
    }

    /// Schedules a push for the site's push delay after the first message nobody has seen
    /// (later messages ride along; they do not postpone it).
    async fn push_later(&self, site: Option<&crate::sites::Site>) -> Result<()> {
        if self.push.is_none() {
            return Ok(());
        }
        let delay = site.map_or(10, |s| s.push_delay_seconds);
        self.schedule(Job::Push, When::Within(std::time::Duration::from_secs(delay.into()))).await
    }

    /// Schedules a notification after the configured quiet time (the site's email delay for
    /// the merchant side); a burst of messages postpones it, up to five times the quiet time.
    /// The shopper is only emailed when they left an address.
    async fn notify_later(&self, to: Role, site: Option<&crate::sites::Site>) -> Result<()> {
        let Some(mail) = &self.mail else { return Ok(()) };
        let delay = match to {
            Role::Merchant => match site.and_then(|s| s.email_delay_seconds) {
                Some(secs) => std::time::Duration::from_secs(secs.into()),
                None => mail.merchant_delay,
            },
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
        if let Some(next) = self.store.schedule(job, when, now)? {
            match jobs::arm(&self.state, next, self.armed.get(), now).await {
                Ok(at) => self.armed.set(Some(at)),
                Err(e) => {
                    self.store.unpend(job);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    async fn run_due_jobs(&self) -> Result<()> {
        for name in self.store.due_jobs(js_sys::Date::now())? {
            let Some(due) = self.store.start(&name, js_sys::Date::now())? else { continue };
            let outcome = match (due.job(), &self.mail) {
                (Some(Job::Index), _) => index::flush(&self.env, &self.store).await?,
                (Some(Job::Notify(to)), Some(mail)) => notify::run(&self.env, mail, &self.store, to, &due).await?,
                (Some(Job::Sockets), _) => live::close_silent(&self.state, &self.sockets),
                (Some(Job::Hooks), _) => hooks::flush(&self.env, &self.store).await?,
                (Some(Job::Push), _) => match &self.push {
                    Some(config) => push::run(&self.env, config, &self.store).await?,
                    None => Outcome::Done,
                },
                // Email switched off since it was scheduled, or a job this version does not know.
                _ => Outcome::Done,
            };
            // (Closing silent sockets is not what the hold is for.)
            if let Some(hold) = self.job_hold
                && due.job() != Some(Job::Sockets)
            {
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
    async fn email_reply(&self, reply: EmailReply) -> Answered {
        let meta = self.store.meta()?.ok_or(Error::NotFound)?;
        let author = match reply.role {
            Role::Merchant => Author::Agent,
            Role::Shopper => {
                let contact = meta.contact_email.as_deref().unwrap_or_default();
                if contact.is_empty() || !contact.eq_ignore_ascii_case(&reply.from) {
                    return Err(Refusal::WrongSender);
                }
                Author::Shopper
            }
        };
        // A message holds text or files: a reply with both is its text, then its files (each
        // once per client_id, so a second delivery stores neither again). The answer is the
        // last one stored.
        let mut parts = vec![reply.message];
        if !parts[0].body.is_empty() && !parts[0].attachments.is_empty() {
            let files = op::NewMessage { client_id: format!("{}-files", parts[0].client_id), body: String::new(), attachments: std::mem::take(&mut parts[0].attachments), ..parts[0].clone() };
            parts.push(files);
        }
        let mut answer = Answer::Done;
        for part in parts {
            let mut append = Append::new(author, part);
            if author == Author::Agent {
                // Reports count it as the replying address's (a teammate's mailbox, or the shop's).
                append.teammate = Some(reply.from.to_ascii_lowercase());
            }
            answer = self.post(append).await?;
        }
        // Our next email continues the thread the reply started.
        if let (Answer::Stored { created: true, .. }, Some(id)) = (&answer, &reply.message_id) {
            self.store.mail_received(reply.role, id)?;
        }
        Ok(answer)
    }
}

pub use crate::time::now_iso;

/// The locale the shopper's browser shared with the conversation's first context, for the
/// notes Pigeon leaves in their language.
fn shopper_locale(meta: &store::Meta) -> Option<String> {
    meta.context.as_deref().and_then(|c| serde_json::from_str::<pigeon_protocol::Context>(c).ok()).and_then(|c| c.locale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::{Heard, QUIET_MS};

    #[test]
    fn quiet_when_the_hub_has_no_tab_unless_one_came_since_it_said_so() {
        let mut out = HubOutbox::default();
        out.heard(Heard { tabs: 2, epoch: 5.0 }, 1_000.0);
        assert_eq!(out.quiet_until, 0.0, "tabs open: hand over");
        out.heard(Heard { tabs: 0, epoch: 5.0 }, 1_000.0);
        assert_eq!(out.quiet_until, 1_000.0 + QUIET_MS, "no tab: quiet");
        assert!(out.quiet(1_000.0 + QUIET_MS - 1.0) && !out.quiet(1_000.0 + QUIET_MS), "for the quiet time");
        out.listening(6.0);
        assert_eq!(out.quiet_until, 0.0, "a tab came: hand over again");
        // An answer from before that tab came arrives late: it changes nothing.
        out.heard(Heard { tabs: 0, epoch: 5.0 }, 2_000.0);
        assert_eq!(out.quiet_until, 0.0);
        // The tab left again, and the hub says so in its new epoch.
        out.heard(Heard { tabs: 0, epoch: 6.0 }, 3_000.0);
        assert_eq!(out.quiet_until, 3_000.0 + QUIET_MS);
        // A late call from an earlier epoch does not move the later one back.
        out.listening(4.0);
        assert_eq!(out.listening_since, 6.0);
    }
}
