//! The relay's browser routes, over `fetch`. The token travels only in `Authorization`.

use pigeon_protocol::{CreateConversation, CreatedConversation, ErrorBody, Message, PostMessage, SiteConfig};
use serde::{Serialize, de::DeserializeOwned};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, RequestMode, Response};

use crate::util::{cast, window};

/// Why a call failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// Network down or relay unreachable: retry with backoff.
    Offline(String),
    /// The relay answered with an error; `retry` for 429 and 5xx.
    Relay { status: u16, code: String, message: String, retry: bool },
}

impl ApiError {
    pub fn retryable(&self) -> bool {
        match self {
            ApiError::Offline(_) => true,
            ApiError::Relay { retry, .. } => *retry,
        }
    }
}

#[derive(Clone)]
pub struct Api {
    pub relay: String,
    pub site: String,
}

pub struct Stored {
    pub message: Message,
}

impl Api {
    async fn call<B: Serialize, T: DeserializeOwned>(&self, method: &str, path: &str, token: Option<&str>, body: Option<&B>) -> Result<(u16, T), ApiError> {
        let offline = |e: JsValue| ApiError::Offline(format!("{e:?}"));
        let headers = Headers::new().map_err(offline)?;
        if let Some(token) = token {
            headers.set("authorization", &format!("Bearer {token}")).map_err(offline)?;
        }
        let init = RequestInit::new();
        init.set_method(method);
        init.set_mode(RequestMode::Cors);
        if let Some(body) = body {
            headers.set("content-type", "application/json").map_err(offline)?;
            let json = serde_json::to_string(body).map_err(|e| ApiError::Offline(e.to_string()))?;
            init.set_body(&JsValue::from_str(&json));
        }
        init.set_headers(&headers);
        let url = format!("{}{}", self.relay, path);
        let req = Request::new_with_str_and_init(&url, &init).map_err(offline)?;
        let resp: Response = cast(JsFuture::from(window().fetch_with_request(&req)).await.map_err(offline)?, "Response").map_err(ApiError::Offline)?;
        let status = resp.status();
        let text = JsFuture::from(resp.text().map_err(offline)?).await.map_err(offline)?.as_string().unwrap_or_default();
        if resp.ok() {
            let text = if text.is_empty() { "null" } else { text.as_str() };
            let value = serde_json::from_str(text).map_err(|e| ApiError::Relay { status, code: "bad_response".into(), message: e.to_string(), retry: true })?;
            Ok((status, value))
        } else {
            let err: Option<ErrorBody> = serde_json::from_str(&text).ok();
            let (code, message) = err.map(|e| (e.error.code, e.error.message)).unwrap_or_else(|| ("http_error".into(), format!("HTTP {status}")));
            Err(ApiError::Relay { status, code, message, retry: status == 429 || status >= 500 })
        }
    }

    pub async fn site_config(&self) -> Result<SiteConfig, ApiError> {
        Ok(self.call::<(), _>("GET", &format!("/v1/sites/{}", self.site), None, None).await?.1)
    }

    pub async fn create_conversation(&self, body: &CreateConversation) -> Result<CreatedConversation, ApiError> {
        Ok(self.call("POST", &format!("/v1/sites/{}/conversations", self.site), None, Some(body)).await?.1)
    }

    async fn no_content<B: Serialize>(&self, method: &str, path: &str, token: &str, body: Option<&B>) -> Result<(), ApiError> {
        // A 204's empty body reads as JSON `null` in `call`.
        self.call::<B, serde_json::Value>(method, path, Some(token), body).await.map(|_| ())
    }

    pub async fn mark_read(&self, conversation: &str, token: &str, seq: u64) -> Result<(), ApiError> {
        self.no_content("POST", &format!("/v1/conversations/{conversation}/read"), token, Some(&serde_json::json!({ "seq": seq }))).await
    }

    pub async fn set_contact(&self, conversation: &str, token: &str, email: &str) -> Result<(), ApiError> {
        self.no_content("PUT", &format!("/v1/conversations/{conversation}/contact"), token, Some(&serde_json::json!({ "email": email }))).await
    }

    pub async fn delete_conversation(&self, conversation: &str, token: &str) -> Result<(), ApiError> {
        self.no_content::<()>("DELETE", &format!("/v1/conversations/{conversation}"), token, None).await
    }

    /// `POST /v1/resume`: a token for this browser from an email's resume link.
    pub async fn resume(&self, resume_token: &str) -> Result<CreatedConversation, ApiError> {
        Ok(self.call("POST", "/v1/resume", None, Some(&serde_json::json!({ "resume_token": resume_token }))).await?.1)
    }

    pub async fn post_message(&self, conversation: &str, token: &str, msg: &PostMessage) -> Result<Stored, ApiError> {
        #[derive(serde::Deserialize)]
        struct Wire {
            message: Message,
        }
        let (_, wire): (u16, Wire) = self.call("POST", &format!("/v1/conversations/{conversation}/messages"), Some(token), Some(msg)).await?;
        Ok(Stored { message: wire.message })
    }
}
