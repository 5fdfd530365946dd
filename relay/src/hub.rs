//! One Durable Object per site that its teammates' inbox tabs connect to (hibernating
//! WebSockets): each conversation's object publishes what changed (a stored message, the
//! conversation's row, a conversation gone), and the hub passes it to every open tab.
//!
//! The Worker checks the session before it connects a tab, and tags the socket with the
//! teammate's address, so a removed teammate's sockets can be found and closed.
//!
//! Each tab also says which conversation it shows while it is visible (`viewing`); the hub
//! keeps that on the socket (its attachment survives hibernation), so notifications skip the
//! teammates already looking at a conversation.
//!
//! While no tab is open, a conversation that publishes is told so (`x-pigeon-tabs: 0`) and
//! hands nothing over for [`QUIET_MS`]: most of the time nobody has the inbox open, and one
//! hub takes every conversation of its site. The hub remembers who it told; when a tab
//! connects it tells them all that someone listens again (`Op::HubListening`), and each sends
//! its row and newest message at once (a tab showing that thread fetches anything missed
//! before it, as it does for any gap). Each answer and each such call carries the hub's epoch (one more per
//! tab connected), so a conversation never goes quiet on an answer from before the latest
//! tab came.
//!
//! A tab's replies travel on its socket too (`reply`, answered to that tab alone with the
//! stored message's `message` frame, or `refused`): the hub checks that the socket's session is
//! still live and the teammate still on the site, signs the reply with their name and hands it
//! to the conversation's object, which stores it only if the conversation is this site's. No
//! request through the Worker and no ownership lookup per reply.

use pigeon_protocol::{InboxClientFrame, InboxFrame, InboxRefused, Message, PostAgentMessage, validate};
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Headers, Method, Request, RequestInit, Response, State, WebSocket, WebSocketIncomingMessage, WebSocketPair, durable_object};

use crate::conversation::op::{self, Assignee, Caller, NewMessage, Op};
use crate::{Error, Result};

const TEAMMATE_HEADER: &str = "x-pigeon-teammate";
const SITE_HEADER: &str = "x-pigeon-site";
const SESSION_HEADER: &str = "x-pigeon-session";
const CONVERSATION_HEADER: &str = "x-pigeon-conversation";
const TABS_HEADER: &str = "x-pigeon-tabs";
const EPOCH_HEADER: &str = "x-pigeon-epoch";
/// How long a conversation told that no tab is open hands nothing over (unless told sooner
/// that one is).
pub const QUIET_MS: f64 = 10_000.0;
/// Close code for the sockets of a teammate removed from the site.
const CLOSE_REMOVED: u16 = 4403;

#[durable_object]
pub struct SiteHub {
    state: State,
    env: Env,
    /// The conversations told that no tab is open, since the last tab came.
    quiet: std::cell::RefCell<Vec<String>>,
    /// One more for every tab connected; starts from the clock, so a restarted hub's epochs
    /// are later than any it gave before.
    epoch: std::cell::Cell<f64>,
}

impl DurableObject for SiteHub {
    fn new(state: State, env: Env) -> Self {
        Self { state, env, quiet: Default::default(), epoch: std::cell::Cell::new(js_sys::Date::now() * 1000.0) }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        match req.path().as_str() {
            "/live" => {
                let email = req.headers().get(TEAMMATE_HEADER)?.unwrap_or_default();
                let site = req.headers().get(SITE_HEADER)?.unwrap_or_default();
                let session = req.headers().get(SESSION_HEADER)?.unwrap_or_default();
                let pair = WebSocketPair::new()?;
                self.state.accept_websocket_with_tags(&pair.server, &[email.as_str()]);
                self.wake_quiet();
                pair.server.serialize_attachment(Tab { site, session, conversation: None })?;
                Response::from_websocket(pair.client)
            }
            // A teammate removed from the site: their tabs' sockets close at once.
            "/kick" => {
                let email = req.headers().get(TEAMMATE_HEADER)?.unwrap_or_default();
                for ws in self.state.get_websockets_with_tag(&email) {
                    let _ = ws.close(Some(CLOSE_REMOVED), Some("removed from the team"));
                }
                Response::empty()
            }
            // Who is looking at a conversation now: their addresses, once each.
            "/viewers" => {
                let url = req.url()?;
                let conversation = url.query_pairs().find(|(k, _)| k == "conversation").map(|(_, v)| v.into_owned()).unwrap_or_default();
                let mut emails: Vec<String> = Vec::new();
                for ws in self.state.get_websockets() {
                    let viewing = tab(&ws).conversation;
                    if viewing.as_deref() == Some(conversation.as_str())
                        && let Some(email) = self.state.get_tags(&ws).into_iter().next()
                        && !emails.contains(&email)
                    {
                        emails.push(email);
                    }
                }
                Response::from_json(&emails)
            }
            // Frames as the conversation serialized them, one JSON text per line: passed on
            // as they are (nothing parsed here). With no tab open they are not read, and the
            // conversation is told so (see the module's doc).
            "/publish" => {
                let sockets = self.state.get_websockets();
                let headers = Headers::new();
                headers.set(TABS_HEADER, &sockets.len().to_string())?;
                headers.set(EPOCH_HEADER, &self.epoch.get().to_string())?;
                if sockets.is_empty() {
                    if let Some(conversation) = req.headers().get(CONVERSATION_HEADER)?.filter(|c| validate::conversation_id(c)) {
                        let mut quiet = self.quiet.borrow_mut();
                        if !quiet.contains(&conversation) {
                            quiet.push(conversation);
                        }
                    }
                } else {
                    let body = req.text().await?;
                    for text in body.lines() {
                        crate::fanout::send(&sockets, text);
                    }
                }
                Ok(Response::empty()?.with_headers(headers))
            }
            _ => Response::error("not found", 404),
        }
    }

    /// Tabs listen, say what they show and send replies; a `ping` keeps proxies from closing an
    /// idle socket.
    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> worker::Result<()> {
        let WebSocketIncomingMessage::String(text) = message else { return Ok(()) };
        if text == "ping" {
            let _ = ws.send_with_str("pong");
            return Ok(());
        }
        match serde_json::from_str::<InboxClientFrame>(&text) {
            Ok(InboxClientFrame::Viewing { conversation }) => {
                let conversation = conversation.filter(|c| validate::conversation_id(c));
                ws.serialize_attachment(Tab { conversation, ..tab(&ws) })?;
            }
            Ok(InboxClientFrame::Reply { conversation, client_id, body, notify_shopper }) => {
                let outcome = self.reply(&ws, &conversation, PostAgentMessage { client_id: client_id.clone(), body, author_name: None }, notify_shopper).await;
                // Stored (now or before): the message, to this tab at once.
                let text = match outcome {
                    Ok(message) => serde_json::to_string(&InboxFrame::Message { conversation, message }),
                    Err(e) => {
                        if let Error::Internal(cause) = &e {
                            worker::console_error!("inbox reply: {cause}");
                        }
                        let body = e.body();
                        serde_json::to_string(&InboxRefused { client_id, code: body.error.code, message: body.error.message })
                    }
                };
                if let Ok(text) = text {
                    let _ = ws.send_with_str(&text);
                }
            }
            // Unknown frames are ignored: a newer inbox may say more.
            Err(_) => {}
        }
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, _reason: String, _clean: bool) -> worker::Result<()> {
        let code = u16::try_from(code).ok().filter(|c| *c == 1000 || (3000..5000).contains(c)).unwrap_or(1000);
        let _ = ws.close(Some(code), Some("bye"));
        Ok(())
    }
}

impl SiteHub {
    /// A tab connected: a new epoch, and every conversation told nobody listens is told that
    /// someone does (not awaited by the connect; a failed call is logged, and that
    /// conversation hands over again after its quiet time).
    fn wake_quiet(&self) {
        let epoch = self.epoch.get() + 1.0;
        self.epoch.set(epoch);
        let quiet = std::mem::take(&mut *self.quiet.borrow_mut());
        if quiet.is_empty() {
            return;
        }
        let env = self.env.clone();
        self.state.wait_until(async move {
            for conversation in quiet {
                match op::send(&env, &conversation, Caller::Worker, Op::HubListening { epoch }).await {
                    // Erased meanwhile: nothing to tell.
                    Ok(_) | Err(op::Refusal::NotFound) => {}
                    Err(e) => worker::console_error!("inbox hub: {conversation} not told a tab is open: {e:?}"),
                }
            }
        });
    }

    /// A reply from a tab, with the POST's rules: the session the socket was opened with must
    /// still be live (signed out or expired: `signed_out`, as the POST answers), the teammate
    /// must still be on the site (a removed one's sockets are closed, but a frame may be on its
    /// way), the reply is validated and signed with their name, claims the conversation if
    /// nobody answers it, and is stored by the conversation's object only if the conversation
    /// is this site's (another site's or an unknown id: `not_found`, as the POST answers).
    async fn reply(&self, ws: &WebSocket, conversation: &str, post: PostAgentMessage, notify_shopper: bool) -> Result<Message> {
        let Tab { site, session, .. } = tab(ws);
        let email = self.state.get_tags(ws).into_iter().next().unwrap_or_default();
        if crate::inbox::session::email_of(&self.env, &session).await?.is_none_or(|e| !e.eq_ignore_ascii_case(&email)) {
            return Err(Error::SignedOut);
        }
        if site.is_empty() || !validate::conversation_id(conversation) {
            return Err(Error::NotFound);
        }
        let teammate = crate::inbox::team::find(&self.env, &site, &email).await?.ok_or(Error::NotFound)?;
        let msg = validate::agent_message(&PostAgentMessage { author_name: Some(teammate.name.clone()), ..post })?;
        let claim = Some(Assignee { email: teammate.email, name: teammate.name });
        let message = NewMessage { client_id: msg.client_id, body: msg.body, author_name: msg.author_name, context: None, quiet: !notify_shopper, claim, via: crate::conversation::op::Via::Inbox, attachments: vec![] };
        Ok(op::send(&self.env, conversation, Caller::SiteTeammate { site }, Op::Post(message)).await?.stored()?.0)
    }
}

/// What the hub keeps on a tab's socket: the site it was connected for and the hash of the
/// session it was opened with (set by the Worker, which checked the session), and what the
/// tab shows.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Tab {
    #[serde(default)]
    site: String,
    #[serde(default)]
    session: String,
    conversation: Option<String>,
}

fn tab(ws: &WebSocket) -> Tab {
    ws.deserialize_attachment::<Tab>().ok().flatten().unwrap_or_default()
}

/// The site's hub (a conversation object keeps one for [`publish`]).
pub fn stub(env: &Env, site: &str) -> Result<worker::Stub> {
    Ok(env.durable_object("SITES")?.id_from_name(site)?.get_stub()?)
}

/// Connects an inbox tab of `email`, a teammate of `site`, to the site's hub.
pub async fn connect(env: &Env, site: &str, email: &str, session_hash: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("upgrade", "websocket")?;
    headers.set(TEAMMATE_HEADER, email)?;
    headers.set(SITE_HEADER, site)?;
    headers.set(SESSION_HEADER, session_hash)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let req = Request::new_with_init("https://hub/live", &init)?;
    Ok(stub(env, site)?.fetch_with_request(req).await?)
}

/// Closes the inbox sockets of `email` on `site`.
pub async fn kick(env: &Env, site: &str, email: &str) -> Result<()> {
    let headers = Headers::new();
    headers.set(TEAMMATE_HEADER, email)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers);
    let req = Request::new_with_init("https://hub/kick", &init)?;
    stub(env, site)?.fetch_with_request(req).await?;
    Ok(())
}

/// The teammates (addresses) whose visible inbox tab shows `conversation` now.
pub async fn viewers(env: &Env, site: &str, conversation: &str) -> Result<Vec<String>> {
    let req = Request::new(&format!("https://hub/viewers?conversation={conversation}"), Method::Get)?;
    let resp = stub(env, site)?.fetch_with_request(req).await?;
    crate::http::answer_json(&resp).await
}

/// What a hub said to a hand-over: how many tabs it passed it to, and its epoch.
#[derive(Debug, Clone, Copy)]
pub struct Heard {
    pub tabs: u32,
    pub epoch: f64,
}

/// Passes `frames` of `conversation` to the open inbox tabs of the site whose hub `hub` is.
/// Failures are logged (`None`): the inbox catches up from the index when it reconnects.
pub async fn publish(hub: &worker::Stub, conversation: &str, frames: &[InboxFrame]) -> Option<Heard> {
    let sent = async {
        let body = publish_body(frames)?;
        let headers = Headers::new();
        headers.set(CONVERSATION_HEADER, conversation)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_headers(headers).with_body(Some(body.into()));
        let req = Request::new_with_init("https://hub/publish", &init)?;
        let resp = hub.fetch_with_request(req).await?;
        let number = |name: &str| resp.headers().get(name).ok().flatten().and_then(|v| v.parse::<f64>().ok());
        Ok::<Option<Heard>, Error>(match (number(TABS_HEADER), number(EPOCH_HEADER)) {
            (Some(tabs), Some(epoch)) => Some(Heard { tabs: tabs as u32, epoch }),
            _ => None,
        })
    };
    match sent.await {
        Ok(heard) => heard,
        Err(e) => {
            worker::console_error!("inbox publish: {e}");
            None
        }
    }
}

/// The `/publish` body: each frame's JSON text on a line of its own (serde_json escapes line
/// breaks inside strings, so a frame never spans lines).
fn publish_body(frames: &[InboxFrame]) -> Result<String> {
    let mut body = String::new();
    for frame in frames {
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(&serde_json::to_string(frame).map_err(|e| Error::Internal(e.to_string()))?);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_frame_is_one_line_even_when_its_text_has_line_breaks() {
        let message = Message {
            id: "m1".into(),
            seq: 1,
            client_id: "c1".into(),
            author: pigeon_protocol::Author::Shopper,
            author_name: None,
            body: "first line\nsecond line\r\nthird".into(),
            created_at: "2026-12-04T10:00:00Z".into(),
            context: None,
            attachments: vec![],
        };
        let frames = vec![
            InboxFrame::Message { conversation: "c".into(), message: message.clone() },
            InboxFrame::Message { conversation: "c".into(), message },
        ];
        let body = publish_body(&frames).unwrap();
        let lines: Vec<InboxFrame> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(serde_json::to_string(&lines).unwrap(), serde_json::to_string(&frames).unwrap());
    }
}
