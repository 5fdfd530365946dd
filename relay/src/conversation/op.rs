//! The one contract between the Worker and a conversation's Durable Object.
//!
//! The Worker says who asks ([`Caller`]) and what for ([`Op`], one variant per thing the
//! object does, with its typed body) through [`send`]; the object answers an [`Answer`] or a
//! [`Refusal`]. Both travel as JSON over the object's `fetch` (as workers-rs requires), always
//! with status 200: no status number is decoded anywhere. Only the Worker can reach the
//! object, and it builds every call itself, so nothing here comes from a client unchecked.
//! Which caller may do what is the one table in [`Op::allows`].

use pigeon_protocol::{Attachment, CartStep, RatingInput, RatingState, Context, Conversation, Export, ExportedConversation, Message, MessagesPage, Note, validate::Invalid};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

use crate::mail::sign::Role;
use crate::{Error, Result};

/// Who asks. The Worker has checked an agent's key; a shopper's token is checked by the
/// object, which alone holds its hashes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Caller {
    Shopper { token: String },
    Agent,
    /// A teammate of `site` (the site hub checked them): an agent, but only if the
    /// conversation is that site's, which the object alone knows without a lookup.
    SiteTeammate { site: String },
    /// The Worker itself: creating, email replies, resume links, retention.
    Worker,
}

/// A caller once the object has checked it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    Shopper,
    Agent,
    Worker,
}

/// Everything the Worker asks of a conversation's object.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Create the conversation; a second init changes nothing. → `Done`
    Init(Init),
    /// At most `limit` messages of the window (validated by the Worker). → `Page`
    Page { window: Window, limit: u32 },
    /// A message by the caller (shopper or agent), stored once per `client_id`. → `Stored`
    Post(NewMessage),
    /// A reply that came in by email, checked by the Worker (signature, merchant address). → `Stored`
    EmailReply(EmailReply),
    /// Another browser opened a resume link: its own token. → `Conversation`
    AddDevice { token_hash: String },
    /// Where the shopper wants the answer when they have left. → `Done`
    SetContact { email: String },
    /// The caller's read position (never past the last message). → `Done`
    MarkRead { seq: u64 },
    /// Everything stored. → `Export`
    Export,
    /// Done for now; the shopper writing again reopens it. `ask_rating`: the shopper is asked
    /// how it went (the Worker checked the site's setting). → `Closed`
    Close {
        #[serde(default)]
        ask_rating: bool,
        /// This relay's origin, where the thread's rating link opens.
        #[serde(default)]
        origin: Option<String>,
    },
    /// The daily sweep: close it if it is open and neither written to nor reopened since
    /// `idle_since` (no rating is asked). → `Closed`, or `Done` if it stays open
    CloseIdle { idle_since: String },
    /// The shopper's rating of the close that asked for one (once): `ask` names it (a signed
    /// email link); `None`, the latest. → `Done`
    Rate {
        input: RatingInput,
        #[serde(default)]
        ask: Option<i64>,
    },
    /// Whether a rating is asked now, and what was given. → `Rating`
    RatingState,
    /// Open again. → `Done`
    Reopen,
    /// The conversation's own record and how the cart changed, without the messages. → `About`
    About,
    /// Who answers it from now on (a teammate the Worker checked), or nobody. → `Done`
    Assign { assignee: Option<Assignee> },
    /// An internal note by a teammate (validated, signed by the Worker), once per `client_id`. → `Note`
    AddNote(Note),
    /// Every internal note, oldest first. → `Notes`
    Notes,
    /// Erase everything: storage, alarm, live sockets. → `Done`
    Erase,
    /// Nothing: does the caller's token open the conversation (or is the teammate's site
    /// its site)? → `Done`
    Check,
    /// The caller's own message with this `client_id`, if stored (a file's upload looks
    /// before it stores the bytes). → `Sent`
    Sent { client_id: String },
    /// The site's hub has a tab open again since `epoch` (see `hub`): hand-overs resume, and
    /// the conversation's row goes at once. → `Done`
    HubListening { epoch: f64 },
}

impl Op {
    /// The one table of who may do what. Anything else is refused as `NotFound`, the same
    /// answer as a wrong token.
    pub fn allows(&self, caller: Checked) -> bool {
        use Checked::{Agent, Shopper, Worker};
        match self {
            Op::Init(_) | Op::EmailReply(_) | Op::AddDevice { .. } => caller == Worker,
            Op::Page { .. } | Op::Post(_) | Op::MarkRead { .. } | Op::Export => matches!(caller, Shopper | Agent),
            Op::SetContact { .. } | Op::RatingState => caller == Shopper,
            Op::Check | Op::Sent { .. } => matches!(caller, Shopper | Agent),
            Op::CloseIdle { .. } | Op::HubListening { .. } => caller == Worker,
            // The shopper's token, or the Worker after checking a signed email link.
            Op::Rate { .. } => matches!(caller, Shopper | Worker),
            Op::Close { .. } | Op::Reopen | Op::About | Op::Assign { .. } | Op::AddNote(_) | Op::Notes => caller == Agent,
            Op::Erase => matches!(caller, Shopper | Worker),
        }
    }
}

/// Which messages a page holds, always answered oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// The first ones after this `seq` (0: from the start); `has_more`: later ones exist.
    After(u64),
    /// The last ones before this `seq`; `has_more`: earlier ones exist.
    Before(u64),
    /// The newest ones; `has_more`: earlier ones exist.
    Newest,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Init {
    pub id: String,
    pub site: String,
    pub token_hash: String,
    pub created_at: String,
    pub context: Option<Context>,
    /// A note from Pigeon to start the thread with (a conversation that follows an earlier one
    /// says where that one is).
    #[serde(default)]
    pub note: Option<String>,
    /// This relay's origin as the shop's page reached it: where the conversation's emails
    /// link its files.
    #[serde(default)]
    pub origin: Option<String>,
}

/// A validated, normalised message; its author is the caller (or the email's role).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewMessage {
    pub client_id: String,
    pub body: String,
    pub author_name: Option<String>,
    pub context: Option<Context>,
    /// An agent's reply the shopper is not emailed about (they see it in the chat).
    #[serde(default)]
    pub quiet: bool,
    /// A teammate's reply from the inbox: they answer the conversation if nobody does yet.
    #[serde(default)]
    pub claim: Option<Assignee>,
    /// An agent's reply's way in, for reports.
    #[serde(default)]
    pub via: Via,
    /// Files stored in R2 by the Worker before the call (see `files`).
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

impl NewMessage {
    /// A shopper's message, checked by the protocol's rules (`validate::shopper_message`) as
    /// the POST and the live socket take it.
    pub fn from_shopper(input: &pigeon_protocol::PostMessage) -> Result<NewMessage> {
        let msg = pigeon_protocol::validate::shopper_message(input)?;
        Ok(NewMessage { client_id: msg.client_id, body: msg.body, author_name: None, context: msg.context, quiet: false, claim: None, via: Via::Api, attachments: vec![] })
    }
}

/// How an agent's reply came in (reports count replies by it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Inbox,
    Email,
    /// The agent API: scripts, integrations.
    #[default]
    Api,
}

impl Via {
    pub fn parse(s: &str) -> Option<Via> {
        Some(match s {
            "inbox" => Via::Inbox,
            "email" => Via::Email,
            "api" => Via::Api,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Via::Inbox => "inbox",
            Via::Email => "email",
            Via::Api => "api",
        }
    }
}

/// A teammate of the conversation's site, as the Worker found them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignee {
    pub email: String,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EmailReply {
    /// Whose reply address it came to: the merchant's lands as an agent message.
    pub role: Role,
    pub message: NewMessage,
    /// The sender's address (checked against the shopper's contact address).
    pub from: String,
    /// The mail's Message-ID, so our next email continues its thread.
    pub message_id: Option<String>,
}

/// What the object answers, by operation (see [`Op`]).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Done,
    Page(MessagesPage),
    /// `created` is false when the `client_id` was already stored with this body.
    Stored { message: Message, created: bool },
    Conversation(Conversation),
    Export(Export),
    About { conversation: ExportedConversation, cart_history: Vec<CartStep>, assignee: Option<String>, #[serde(default)] rating: Option<RatingState> },
    Rating(RatingState),
    /// A close: the rating it asked for (the ask's id) and where to email the shopper about it.
    Closed { ask: Option<i64>, contact_email: Option<String> },
    /// `created` is false when the `client_id` was already stored with this body.
    Note { note: Note, created: bool },
    Notes(Vec<Note>),
    Sent(Option<Message>),
}

/// Why the object said no.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// No such conversation, or the caller may not: deliberately one answer.
    NotFound,
    ClientIdConflict,
    RateLimited { retry_after_secs: u32 },
    /// An email reply from an address that is not the shopper's.
    WrongSender,
    RatingNotAsked,
    AlreadyRated,
    /// Logged by the object; the cause travels for the Worker's log only.
    Internal(String),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound => Refusal::NotFound,
            Error::ClientIdConflict => Refusal::ClientIdConflict,
            Error::RateLimited { retry_after_secs } => Refusal::RateLimited { retry_after_secs },
            Error::RatingNotAsked => Refusal::RatingNotAsked,
            Error::AlreadyRated => Refusal::AlreadyRated,
            other => Refusal::Internal(other.to_string()),
        }
    }
}

impl From<worker::Error> for Refusal {
    fn from(e: worker::Error) -> Self {
        Refusal::Internal(e.to_string())
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotFound => Error::NotFound,
            Refusal::ClientIdConflict => Error::ClientIdConflict,
            Refusal::RateLimited { retry_after_secs } => Error::RateLimited { retry_after_secs },
            Refusal::RatingNotAsked => Error::RatingNotAsked,
            Refusal::AlreadyRated => Error::AlreadyRated,
            Refusal::WrongSender => Error::Invalid(Invalid::new("wrong_sender", "This sender may not reply here.")),
            Refusal::Internal(cause) => Error::Internal(format!("conversation: {cause}")),
        }
    }
}

/// One call as it travels.
#[derive(Serialize, Deserialize)]
pub struct Call {
    pub caller: Caller,
    pub op: Op,
}

/// What a call comes to.
pub type Answered = std::result::Result<Answer, Refusal>;

fn stub(env: &Env, conversation: &str) -> Result<Stub> {
    Ok(env.durable_object("CONVERSATIONS")?.id_from_name(conversation)?.get_stub()?)
}

/// Asks the conversation's object to do `op` for `caller`.
pub async fn send(env: &Env, conversation: &str, caller: Caller, op: Op) -> std::result::Result<Answer, Refusal> {
    let call = async {
        let body = serde_json::to_string(&Call { caller, op }).map_err(|e| Error::Internal(e.to_string()))?;
        let headers = Headers::new();
        headers.set("content-type", "application/json")?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_headers(headers).with_body(Some(body.into()));
        let req = Request::new_with_init("https://conversation/call", &init)?;
        let resp = stub(env, conversation)?.fetch_with_request(req).await?;
        crate::http::answer_json::<Answered>(&resp).await
    };
    call.await.unwrap_or_else(|e: Error| Err(Refusal::Internal(e.to_string())))
}

/// Hands a shop's request to the conversation's object untouched, and its answer back the same
/// way (see `messages::post`): no call built, no JSON read or written in the Worker.
pub async fn pass(env: &Env, conversation: &str, req: &Request) -> Result<web_sys::Response> {
    let object: raw::Stub = stub(env, conversation)?.into_rpc();
    let answer = js_sys::futures::JsFuture::from(object.fetch(req.inner())).await.map_err(worker::Error::from)?;
    Ok(answer.unchecked_into())
}

/// The runtime's own stub, for [`pass`]: `worker`'s would turn the request and the answer into
/// its own types and back.
mod raw {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        pub type Stub;
        #[wasm_bindgen(method)]
        pub fn fetch(this: &Stub, req: &web_sys::Request) -> js_sys::Promise;
    }
}

/// Is `req` a shop's message `POST` passed on by [`pass`] (rather than a call built by
/// [`send`], which goes to `/call`)? Only the Worker reaches the object.
pub fn is_passed(req: &Request) -> bool {
    let path = req.path();
    req.method() == Method::Post && path.starts_with("/v1/conversations/") && path.trim_end_matches('/').ends_with("/messages")
}

/// The object's side of [`send`]: the call it carries.
pub async fn receive(req: &mut Request) -> Result<Call> {
    // As text, parsed here: quicker than the runtime's JSON made into Rust value by value.
    serde_json::from_str(&req.text().await?).map_err(|e| Error::Internal(format!("a call's body: {e}")))
}

/// The object's answer to a call.
pub fn reply(outcome: Answered) -> Result<Response> {
    Ok(Response::from_json(&outcome)?)
}

impl Answer {
    fn unexpected(self, wanted: &str) -> Error {
        Error::Internal(format!("conversation answered {self:?} to a call for {wanted}"))
    }

    pub fn done(self) -> Result<()> {
        match self {
            Answer::Done => Ok(()),
            other => Err(other.unexpected("nothing")),
        }
    }

    pub fn page(self) -> Result<MessagesPage> {
        match self {
            Answer::Page(page) => Ok(page),
            other => Err(other.unexpected("a page")),
        }
    }

    pub fn stored(self) -> Result<(Message, bool)> {
        match self {
            Answer::Stored { message, created } => Ok((message, created)),
            other => Err(other.unexpected("a stored message")),
        }
    }

    pub fn sent(self) -> Result<Option<Message>> {
        match self {
            Answer::Sent(found) => Ok(found),
            other => Err(other.unexpected("a message or none")),
        }
    }

    pub fn conversation(self) -> Result<Conversation> {
        match self {
            Answer::Conversation(c) => Ok(c),
            other => Err(other.unexpected("a conversation")),
        }
    }

    pub fn about(self) -> Result<(ExportedConversation, Vec<CartStep>, Option<String>, Option<RatingState>)> {
        match self {
            Answer::About { conversation, cart_history, assignee, rating } => Ok((conversation, cart_history, assignee, rating)),
            other => Err(other.unexpected("a conversation's record")),
        }
    }

    pub fn closed(self) -> Result<(Option<i64>, Option<String>)> {
        match self {
            Answer::Closed { ask, contact_email } => Ok((ask, contact_email)),
            other => Err(other.unexpected("a close")),
        }
    }

    pub fn rating(self) -> Result<RatingState> {
        match self {
            Answer::Rating(r) => Ok(r),
            other => Err(other.unexpected("a rating")),
        }
    }

    pub fn note(self) -> Result<(Note, bool)> {
        match self {
            Answer::Note { note, created } => Ok((note, created)),
            other => Err(other.unexpected("a note")),
        }
    }

    pub fn notes(self) -> Result<Vec<Note>> {
        match self {
            Answer::Notes(notes) => Ok(notes),
            other => Err(other.unexpected("notes")),
        }
    }

    pub fn export(self) -> Result<Export> {
        match self {
            Answer::Export(e) => Ok(e),
            other => Err(other.unexpected("an export")),
        }
    }
}

/// Opens the live socket on the object; authentication happens in the first frame.
/// The client's IP travels with the upgrade (the object applies the per-IP message limit to
/// messages sent over the socket).
pub const CLIENT_IP_HEADER: &str = "x-pigeon-client-ip";

pub async fn upgrade(env: &Env, conversation: &str, client_ip: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("upgrade", "websocket")?;
    headers.set(CLIENT_IP_HEADER, client_ip)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let req = Request::new_with_init("https://conversation/live", &init)?;
    Ok(stub(env, conversation)?.fetch_with_request(req).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_table_decides() {
        use Checked::{Agent, Shopper, Worker};
        let post = || Op::Post(NewMessage { client_id: "c".into(), body: "b".into(), author_name: None, context: None, quiet: false, claim: None, via: Via::Api, attachments: vec![] });
        assert!(post().allows(Shopper) && post().allows(Agent) && !post().allows(Worker));
        let close = Op::Close { ask_rating: true, origin: None };
        assert!(close.allows(Agent) && !close.allows(Shopper) && !close.allows(Worker));
        let idle = Op::CloseIdle { idle_since: "2026-01-01T00:00:00.000Z".into() };
        assert!(idle.allows(Worker) && !idle.allows(Agent) && !idle.allows(Shopper));
        let rate = Op::Rate { input: pigeon_protocol::RatingInput { satisfaction: 5, effort: None, comment: None }, ask: None };
        assert!(rate.allows(Shopper) && rate.allows(Worker) && !rate.allows(Agent));
        assert!(Op::RatingState.allows(Shopper) && !Op::RatingState.allows(Agent));
        // A close sent before `ask_rating` existed still reads.
        assert!(matches!(serde_json::from_str::<Op>(r#"{"op":"close"}"#).unwrap(), Op::Close { ask_rating: false, origin: None }));
        assert!(Op::SetContact { email: "a@b.c".into() }.allows(Shopper));
        assert!(!Op::SetContact { email: "a@b.c".into() }.allows(Agent));
        assert!(Op::Erase.allows(Shopper) && Op::Erase.allows(Worker) && !Op::Erase.allows(Agent));
        assert!(!Op::AddDevice { token_hash: "h".into() }.allows(Shopper));
        assert!(!Op::Export.allows(Worker));
        // Teammates' own things: never a shopper's token, never the Worker alone.
        let note = || {
            Op::AddNote(Note {
                id: "n".into(),
                client_id: "c".into(),
                author_email: "a@b.c".into(),
                author_name: "A".into(),
                body: "b".into(),
                created_at: "t".into(),
            })
        };
        for op in [note(), Op::Notes, Op::Assign { assignee: None }, Op::About] {
            assert!(op.allows(Agent) && !op.allows(Shopper) && !op.allows(Worker), "{op:?}");
        }
    }

    #[test]
    fn calls_and_outcomes_round_trip_as_json() {
        let call = Call { caller: Caller::Shopper { token: "t".into() }, op: Op::MarkRead { seq: 7 } };
        let json = serde_json::to_string(&call).unwrap();
        assert_eq!(json, r#"{"caller":{"shopper":{"token":"t"}},"op":{"op":"mark_read","seq":7}}"#);
        let back: Call = serde_json::from_str(&json).unwrap();
        assert!(matches!(back.op, Op::MarkRead { seq: 7 }));
        for refusal in [Refusal::NotFound, Refusal::RateLimited { retry_after_secs: 3 }, Refusal::WrongSender] {
            let json = serde_json::to_string(&Answered::Err(refusal)).unwrap();
            let back: Answered = serde_json::from_str(&json).unwrap();
            assert!(back.is_err(), "{json}");
        }
        let err: Error = Refusal::RateLimited { retry_after_secs: 3 }.into();
        assert_eq!(err.status(), 429);
        let err: Error = Refusal::WrongSender.into();
        assert_eq!(err.body().error.code, "wrong_sender");
    }
}
