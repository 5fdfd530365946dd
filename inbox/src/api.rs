//! The inbox's calls to the relay (`/v1/inbox/...`, same origin): JSON in and out with the
//! protocol's types, the session cookie sent by the browser.

use pigeon_protocol::{
    ConversationDetails, ErrorBody, InboxList, InboxReply, Me, MessagesPage, OpenSession, SignIn, Status, StoredMessage,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, Response};

use crate::model::Tab;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// No answer (offline, relay down): worth retrying.
    Network,
    /// The session is gone: sign in again.
    SignedOut,
    /// The relay refused: its code and sentence.
    Refused { status: u16, code: String, message: String },
}

impl Failure {
    /// Retrying the same call may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            Failure::Network => true,
            Failure::SignedOut => false,
            Failure::Refused { status, .. } => *status == 429 || *status >= 500,
        }
    }

    pub fn sentence(&self) -> String {
        match self {
            Failure::Network => "No connection to Pigeon. Trying again…".into(),
            Failure::SignedOut => "You are signed out.".into(),
            Failure::Refused { message, .. } => message.clone(),
        }
    }
}

async fn call(method: &str, path: &str, body: Option<String>) -> Result<Option<String>, Failure> {
    send(method, path, body.map(|b| (JsValue::from_str(&b), "application/json"))).await
}

/// A call with any body (JSON text, a file) and its content type.
async fn send(method: &str, path: &str, body: Option<(JsValue, &str)>) -> Result<Option<String>, Failure> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    if let Some((body, content_type)) = &body {
        let headers = web_sys::Headers::new().map_err(|_| Failure::Network)?;
        let _ = headers.set("content-type", content_type);
        init.set_headers(&headers);
        init.set_body(body);
    }
    let req = Request::new_with_str_and_init(path, &init).map_err(|_| Failure::Network)?;
    let window = web_sys::window().ok_or(Failure::Network)?;
    let resp: Response = JsFuture::from(window.fetch_with_request(&req)).await.map_err(|_| Failure::Network)?.unchecked_into();
    let status = resp.status();
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    if (200..300).contains(&status) {
        return Ok((!text.is_empty()).then_some(text));
    }
    if status == 401 && text.contains("\"signed_out\"") {
        return Err(Failure::SignedOut);
    }
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(e) => Failure::Refused { status, code: e.error.code, message: e.error.message },
        Err(_) if status >= 500 || status == 0 => Failure::Network,
        Err(_) => Failure::Refused { status, code: String::new(), message: format!("The relay answered {status}.") },
    })
}

async fn json<T: DeserializeOwned>(method: &str, path: &str, body: Option<String>) -> Result<T, Failure> {
    let text = call(method, path, body).await?.unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| Failure::Refused { status: 200, code: "bad_answer".into(), message: format!("Unexpected answer: {e}") })
}

fn body<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

pub async fn me() -> Result<Me, Failure> {
    json("GET", "/v1/inbox/me", None).await
}

pub async fn sign_in(email: &str) -> Result<(), Failure> {
    call("POST", "/v1/inbox/signin", body(&SignIn { email: email.to_owned() })).await.map(drop)
}

pub async fn open_session(token: &str) -> Result<Me, Failure> {
    json("POST", "/v1/inbox/session", body(&OpenSession { token: token.to_owned() })).await
}

pub async fn sign_out() -> Result<(), Failure> {
    call("POST", "/v1/inbox/signout", None).await.map(drop)
}

/// Rows the list asks for at a time: a screenful and more, drawn at once.
pub const LIST_PAGE: usize = 50;

/// A page of the list: the newest, or those after `after_row` (its activity time and id).
pub async fn conversations(site: &str, tab: Tab, after_row: Option<(&str, &str)>) -> Result<InboxList, Failure> {
    let cursor = after_row
        .map(|(at, id)| format!("&before={}&before_id={}", String::from(js_sys::encode_uri_component(at)), String::from(js_sys::encode_uri_component(id))))
        .unwrap_or_default();
    let (status, assignee) = (tab.status.as_str(), tab.assigned.as_query());
    json("GET", &format!("/v1/inbox/sites/{site}/conversations?status={status}&assignee={assignee}&limit={LIST_PAGE}{cursor}"), None).await
}

pub async fn details(id: &str) -> Result<ConversationDetails, Failure> {
    json("GET", &format!("/v1/inbox/conversations/{id}"), None).await
}

/// Messages a thread opens with, and how many more each earlier page adds.
pub const THREAD_PAGE: u32 = 100;

/// The newest `n` messages: a thread opens on these however long it is.
pub async fn newest(id: &str, n: u32) -> Result<MessagesPage, Failure> {
    json("GET", &format!("/v1/inbox/conversations/{id}/messages?last={n}"), None).await
}

/// The `n` messages before `seq`.
pub async fn earlier(id: &str, seq: u64, n: u32) -> Result<MessagesPage, Failure> {
    json("GET", &format!("/v1/inbox/conversations/{id}/messages?before={seq}&limit={n}"), None).await
}

/// Up to 500 messages after `after` (catching up after a gap).
pub async fn messages(id: &str, after: u64) -> Result<MessagesPage, Failure> {
    json("GET", &format!("/v1/inbox/conversations/{id}/messages?after={after}&limit=500"), None).await
}

pub async fn reply(id: &str, reply: &InboxReply) -> Result<StoredMessage, Failure> {
    json("POST", &format!("/v1/inbox/conversations/{id}/messages"), body(reply)).await
}

/// A photo or PDF to the shopper: its own message, stored once per `client_id`.
pub async fn upload(id: &str, client_id: &str, file: &web_sys::File, notify_shopper: bool) -> Result<StoredMessage, Failure> {
    let name = js_sys::encode_uri_component(&file.name());
    let quiet = if notify_shopper { "" } else { "&notify_shopper=false" };
    let path = format!("/v1/inbox/conversations/{id}/files?client_id={client_id}&name={name}{quiet}");
    let text = send("POST", &path, Some((file.into(), "application/octet-stream"))).await?.unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| Failure::Refused { status: 200, code: "bad_answer".into(), message: format!("Unexpected answer: {e}") })
}

pub async fn mark_read(id: &str, seq: u64) -> Result<(), Failure> {
    call("POST", &format!("/v1/inbox/conversations/{id}/read"), body(&pigeon_protocol::MarkRead { seq })).await.map(drop)
}

pub async fn team(site: &str) -> Result<pigeon_protocol::Team, Failure> {
    json("GET", &format!("/v1/inbox/sites/{site}/teammates"), None).await
}

pub async fn invite(site: &str, invite: &pigeon_protocol::Invite) -> Result<pigeon_protocol::Team, Failure> {
    json("POST", &format!("/v1/inbox/sites/{site}/teammates"), body(invite)).await
}

fn teammate_path(site: &str, email: &str) -> String {
    format!("/v1/inbox/sites/{site}/teammates/{}", String::from(js_sys::encode_uri_component(email)))
}

pub async fn change_role(site: &str, email: &str, role: pigeon_protocol::TeamRole) -> Result<pigeon_protocol::Team, Failure> {
    json("PUT", &teammate_path(site, email), body(&pigeon_protocol::ChangeRole { role })).await
}

pub async fn remove(site: &str, email: &str) -> Result<pigeon_protocol::Team, Failure> {
    json("DELETE", &teammate_path(site, email), None).await
}

/// The internal notes of conversation `id`.
pub async fn notes(id: &str) -> Result<pigeon_protocol::Notes, Failure> {
    json("GET", &format!("/v1/inbox/conversations/{id}/notes"), None).await
}

/// An internal note, stored once per `client_id`.
pub async fn add_note(id: &str, note: &pigeon_protocol::PostNote) -> Result<pigeon_protocol::Note, Failure> {
    json("POST", &format!("/v1/inbox/conversations/{id}/notes"), body(note)).await
}

/// Who answers conversation `id`: a teammate's address, or nobody.
pub async fn assign(id: &str, assignee: Option<String>) -> Result<(), Failure> {
    call("PUT", &format!("/v1/inbox/conversations/{id}/assignee"), body(&pigeon_protocol::Assign { assignee })).await.map(drop)
}

/// Close (asking the shopper for a rating if `ask_rating`) or reopen conversation `id`.
pub async fn set_status(id: &str, status: Status, ask_rating: bool) -> Result<(), Failure> {
    let action = if status == Status::Closed { "close" } else { "reopen" };
    let body = ask_rating.then(|| body(&pigeon_protocol::CloseConversation { ask_rating }));
    call("POST", &format!("/v1/inbox/conversations/{id}/{action}"), body.flatten()).await.map(drop)
}

/// Messages and shopper addresses on `site` matching `q`, newest first.
pub async fn search(site: &str, q: &str) -> Result<pigeon_protocol::SearchResults, Failure> {
    json("GET", &format!("/v1/inbox/sites/{site}/search?q={}", String::from(js_sys::encode_uri_component(q))), None).await
}

/// The site's saved replies, by shortcut.
pub async fn saved_replies(site: &str) -> Result<pigeon_protocol::SavedReplies, Failure> {
    json("GET", &format!("/v1/inbox/sites/{site}/replies"), None).await
}

/// A new saved reply (`id: None`) or a change to one; answers the new list.
pub async fn save_reply(site: &str, id: Option<&str>, reply: &pigeon_protocol::PutSavedReply) -> Result<pigeon_protocol::SavedReplies, Failure> {
    match id {
        None => json("POST", &format!("/v1/inbox/sites/{site}/replies"), body(reply)).await,
        Some(id) => json("PUT", &format!("/v1/inbox/sites/{site}/replies/{id}"), body(reply)).await,
    }
}

pub async fn delete_reply(site: &str, id: &str) -> Result<pigeon_protocol::SavedReplies, Failure> {
    json("DELETE", &format!("/v1/inbox/sites/{site}/replies/{id}"), None).await
}

pub async fn settings(site: &str) -> Result<pigeon_protocol::SettingsView, Failure> {
    json("GET", &format!("/v1/inbox/sites/{site}/settings"), None).await
}

pub async fn save_settings(site: &str, s: &pigeon_protocol::SiteSettings) -> Result<pigeon_protocol::SettingsView, Failure> {
    json("PUT", &format!("/v1/inbox/sites/{site}/settings"), body(s)).await
}

pub async fn preview_settings(site: &str, s: &pigeon_protocol::SiteSettings) -> Result<pigeon_protocol::SettingsView, Failure> {
    json("POST", &format!("/v1/inbox/sites/{site}/settings/preview"), body(s)).await
}

pub async fn profile() -> Result<pigeon_protocol::Profile, Failure> {
    json("GET", "/v1/inbox/me/profile", None).await
}

pub async fn save_profile(p: &pigeon_protocol::Profile) -> Result<pigeon_protocol::Profile, Failure> {
    json("PUT", "/v1/inbox/me/profile", body(p)).await
}

pub async fn push_info() -> Result<pigeon_protocol::PushInfo, Failure> {
    json("GET", "/v1/inbox/push", None).await
}

/// `subscription`: `PushSubscription.toJSON()` as the browser wrote it (the relay checks it).
pub async fn add_device(subscription: String) -> Result<pigeon_protocol::PushInfo, Failure> {
    json("POST", "/v1/inbox/push/subscriptions", Some(subscription)).await
}

pub async fn remove_device(endpoint: &str) -> Result<pigeon_protocol::PushInfo, Failure> {
    json("DELETE", "/v1/inbox/push/subscriptions", body(&pigeon_protocol::PushEndpoint { endpoint: endpoint.to_owned() })).await
}

fn hooks_path(site: &str) -> String {
    format!("/v1/inbox/sites/{site}/webhooks")
}

pub async fn webhooks(site: &str) -> Result<pigeon_protocol::WebhookEndpoints, Failure> {
    json("GET", &hooks_path(site), None).await
}

pub async fn add_webhook(site: &str, hook: &pigeon_protocol::PostWebhook) -> Result<pigeon_protocol::WebhookSaved, Failure> {
    json("POST", &hooks_path(site), body(hook)).await
}

pub async fn change_webhook(site: &str, id: &str, hook: &pigeon_protocol::PatchWebhook) -> Result<pigeon_protocol::WebhookSaved, Failure> {
    json("PATCH", &format!("{}/{id}", hooks_path(site)), body(hook)).await
}

pub async fn delete_webhook(site: &str, id: &str) -> Result<(), Failure> {
    call("DELETE", &format!("{}/{id}", hooks_path(site)), None).await.map(|_| ())
}

pub async fn deliveries(site: &str, id: &str) -> Result<pigeon_protocol::WebhookDeliveries, Failure> {
    json("GET", &format!("{}/{id}/deliveries", hooks_path(site)), None).await
}

pub async fn test_webhook(site: &str, id: &str) -> Result<pigeon_protocol::WebhookTest, Failure> {
    json("POST", &format!("{}/{id}/test", hooks_path(site)), None).await
}

pub async fn resend(site: &str, id: &str, delivery: u64) -> Result<pigeon_protocol::WebhookDelivery, Failure> {
    json("POST", &format!("{}/{id}/deliveries/{delivery}/resend", hooks_path(site)), None).await
}

fn tokens_path(site: &str) -> String {
    format!("/v1/inbox/sites/{site}/tokens")
}

pub async fn api_tokens(site: &str) -> Result<pigeon_protocol::ApiTokens, Failure> {
    json("GET", &tokens_path(site), None).await
}

pub async fn add_api_token(site: &str, token: &pigeon_protocol::PostApiToken) -> Result<pigeon_protocol::ApiTokenMade, Failure> {
    json("POST", &tokens_path(site), body(token)).await
}

pub async fn revoke_api_token(site: &str, id: &str) -> Result<(), Failure> {
    call("DELETE", &format!("{}/{id}", tokens_path(site)), None).await.map(|_| ())
}

fn identity_path(site: &str) -> String {
    format!("/v1/inbox/sites/{site}/identity")
}

/// Signed identity: on or off (owners).
pub async fn identity(site: &str) -> Result<pigeon_protocol::IdentitySettings, Failure> {
    json("GET", &identity_path(site), None).await
}

/// A new identity secret, shown this once; the old one stops at once.
pub async fn make_identity_secret(site: &str) -> Result<pigeon_protocol::IdentitySettings, Failure> {
    json("POST", &identity_path(site), None).await
}

pub async fn identity_off(site: &str) -> Result<(), Failure> {
    call("DELETE", &identity_path(site), None).await.map(|_| ())
}

/// The shop's report over local dates `from..=to` (`YYYY-MM-DD`).
pub async fn metrics(site: &str, from: &str, to: &str) -> Result<pigeon_protocol::Metrics, Failure> {
    json("GET", &format!("/v1/inbox/sites/{site}/metrics?from={from}&to={to}"), None).await
}
