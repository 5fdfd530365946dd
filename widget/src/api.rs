//! The relay's browser routes, over `fetch`. The token travels only in `Authorization`.
//! Bodies are JS objects, (de)serialised by the browser's JSON.

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, RequestMode, Response};

use crate::js::{self, object};
use crate::store::Session;
use crate::util::window;
use wasm_bindgen::JsCast;
use crate::wire::{self, field};

/// Why a call failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// Network down, relay unreachable, or an answer that is not the relay's: retry with
    /// backoff.
    Offline,
    /// The relay answered with an error; `retry` for 429 and 5xx.
    Relay { status: u16, code: String, message: String, retry: bool },
}

impl ApiError {
    /// The relay does not know the conversation (or the token does not open it): `404
    /// not_found`, not any 404 (a path the relay does not have says `not_found_path`).
    pub fn not_found(&self) -> bool {
        matches!(self, ApiError::Relay { status: 404, code, .. } if code == "not_found")
    }

    pub fn retryable(&self) -> bool {
        match self {
            ApiError::Offline => true,
            ApiError::Relay { retry, .. } => *retry,
        }
    }
}

#[derive(Clone)]
pub struct Api {
    pub relay: String,
    pub site: String,
}

fn offline(_: impl Sized) -> ApiError {
    ApiError::Offline
}

impl Api {
    /// One request; the answer's JSON (`null` for 204) or why not.
    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<JsValue>) -> Result<JsValue, ApiError> {
        let headers = Headers::new().map_err(offline)?;
        if let Some(token) = token {
            headers.set("authorization", &format!("Bearer {token}")).map_err(offline)?;
        }
        let init = RequestInit::new();
        init.set_method(method);
        init.set_mode(RequestMode::Cors);
        if let Some(body) = body {
            headers.set("content-type", "application/json").map_err(offline)?;
            init.set_body(&JsValue::from_str(&js::stringify(&body)));
        }
        init.set_headers(&headers);
        let req = Request::new_with_str_and_init(&format!("{}{}", self.relay, path), &init).map_err(offline)?;
        let resp: Response = JsFuture::from(window().fetch_with_request(&req)).await.map_err(offline)?.dyn_into().map_err(offline)?;
        let status = resp.status();
        let text = JsFuture::from(resp.text().map_err(offline)?).await.map_err(offline)?.as_string().unwrap_or_default();
        if resp.ok() {
            if text.is_empty() {
                return Ok(JsValue::NULL);
            }
            // Not the relay's JSON (a proxy's page, say): as good as no answer, tried again.
            js::parse(&text).ok_or(ApiError::Offline)
        } else {
            let (code, message) = wire::error(&js::parse(&text).unwrap_or(JsValue::UNDEFINED));
            Err(ApiError::Relay { status, code, message, retry: status == 429 || status >= 500 })
        }
    }

    /// `GET /v1/sites/{site}`.
    pub async fn site_config(&self) -> Result<JsValue, ApiError> {
        self.call("GET", &format!("/v1/sites/{}", self.site), None, None).await
    }

    /// `POST /v1/sites/{site}/conversations` with the context.
    pub async fn create_conversation(&self, context: JsValue) -> Result<Session, ApiError> {
        let created = self.call("POST", &format!("/v1/sites/{}/conversations", self.site), None, Some(object(&[(field::CONTEXT, context)]))).await?;
        session(&created)
    }

    pub async fn mark_read(&self, s: &Session, seq: u64) -> Result<JsValue, ApiError> {
        self.call("POST", &format!("/v1/conversations/{}/read", s.id), Some(&s.token), Some(wire::read(seq))).await
    }

    pub async fn set_contact(&self, s: &Session, email: &str) -> Result<JsValue, ApiError> {
        self.call("PUT", &format!("/v1/conversations/{}/contact", s.id), Some(&s.token), Some(wire::contact(email))).await
    }

    pub async fn delete_conversation(&self, s: &Session) -> Result<JsValue, ApiError> {
        self.call("DELETE", &format!("/v1/conversations/{}", s.id), Some(&s.token), None).await
    }

    /// `POST /v1/resume`: a token for this browser from an email's resume link.
    pub async fn resume(&self, resume_token: &str) -> Result<Session, ApiError> {
        session(&self.call("POST", "/v1/resume", None, Some(wire::resume(resume_token))).await?)
    }

    /// `POST .../messages` with `{client_id, body, context}`; the stored message object.
    pub async fn post_message(&self, s: &Session, message: JsValue) -> Result<JsValue, ApiError> {
        let answer = self.call("POST", &format!("/v1/conversations/{}/messages", s.id), Some(&s.token), Some(message)).await?;
        Ok(wire::stored(&answer))
    }
}

/// The conversation of a 201 of create and resume (an answer without one is retried).
fn session(created: &JsValue) -> Result<Session, ApiError> {
    wire::session(created).ok_or(ApiError::Offline)
}
