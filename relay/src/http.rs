//! Request and response plumbing shared by every route: JSON in with the contract's checks,
//! JSON out, CORS.

use pigeon_protocol::validate::MAX_REQUEST_BYTES;
use serde::{Serialize, de::DeserializeOwned};
use worker::{Request, Response};

use crate::{Error, Result};

/// Reads a JSON body: `application/json` (415 otherwise), at most 16 KiB (413), valid JSON
/// of the expected shape (400).
pub async fn read_json<T: DeserializeOwned>(req: &mut Request) -> Result<T> {
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    check_content_type(&content_type)?;
    if let Some(len) = req.headers().get("content-length")?.and_then(|l| l.parse::<usize>().ok())
        && len > MAX_REQUEST_BYTES
    {
        return Err(Error::TooLarge);
    }
    let bytes = req.bytes().await?;
    parse_json(&bytes)
}

/// A body that may be left out: none is `T::default()`; one is read as [`read_json`] reads.
pub async fn read_optional_json<T: DeserializeOwned + Default>(req: &mut Request) -> Result<T> {
    if req.headers().get("content-length")?.and_then(|l| l.parse::<usize>().ok()).is_some_and(|len| len > MAX_REQUEST_BYTES) {
        return Err(Error::TooLarge);
    }
    let bytes = req.bytes().await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    check_content_type(&req.headers().get("content-type")?.unwrap_or_default())?;
    parse_json(&bytes)
}

pub fn check_content_type(value: &str) -> Result<()> {
    let mime = value.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(Error::TooLarge);
    }
    // serde's message names fields and positions, never echoes values: safe to keep for logs.
    serde_json::from_slice(bytes).map_err(|e| Error::MalformedJson(e.to_string()))
}

pub fn json<T: Serialize>(status: u16, value: &T) -> Result<Response> {
    Ok(Response::from_json(value)?.with_status(status))
}

/// A route's answer: one made in the Worker, still without the API's headers (and CORS), or
/// one a conversation's object made whole, passed on as it came.
pub enum Reply {
    Made(Response),
    Whole(web_sys::Response),
}

impl From<Response> for Reply {
    fn from(resp: Response) -> Self {
        Reply::Made(resp)
    }
}

/// A JSON answer with the API's headers and CORS for `origin`, exactly as
/// `api_headers(with_cors(json(..), origin))` makes it, but with the headers copied in one
/// call from a set made once per origin: the hot path's answer (`Conversation::post_from_shop`),
/// where setting them one by one cost more than the rest of the answer.
pub fn whole_json<T: Serialize>(status: u16, value: &T, origin: Option<&str>) -> Result<Response> {
    thread_local! {
        static MADE: std::cell::RefCell<std::collections::HashMap<Option<String>, web_sys::Headers>> = Default::default();
    }
    let body = serde_json::to_vec(value).map_err(|e| Error::Internal(e.to_string()))?;
    let key = origin.map(str::to_owned);
    let made = MADE.with(|m| m.borrow().get(&key).cloned());
    let template = match made {
        Some(headers) => headers,
        None => {
            let headers = api_headers(with_cors(json(200, &())?, origin)).headers().0.clone();
            MADE.with(|m| {
                let mut m = m.borrow_mut();
                // A site's few origins, across the sites this isolate serves: bounded anyway.
                if m.len() >= 256 {
                    m.clear();
                }
                m.insert(key, headers.clone());
            });
            headers
        }
    };
    let headers = web_sys::Headers::new_with_headers(&template).map_err(|e| Error::Internal(format!("{e:?}")))?;
    Ok(worker::ResponseBuilder::new().with_status(status).with_headers(worker::Headers(headers)).fixed(body))
}

/// The body of another object's answer as text, read by the runtime in one go. (`worker`'s
/// own reader pulls a stream chunk by chunk through wasm and releases its lock with an error
/// each time: most of an internal call's cost.)
pub async fn answer_text(resp: &Response) -> Result<String> {
    let stream = match resp.body() {
        worker::ResponseBody::Stream(stream) => stream,
        worker::ResponseBody::Body(bytes) => return String::from_utf8(bytes.clone()).map_err(|e| Error::Internal(e.to_string())),
        worker::ResponseBody::Empty => return Ok(String::new()),
    };
    let whole = web_sys::Response::new_with_opt_readable_stream(Some(stream)).map_err(|e| Error::Internal(format!("{e:?}")))?;
    let text = js_sys::futures::JsFuture::from(whole.text().map_err(|e| Error::Internal(format!("{e:?}")))?)
        .await
        .map_err(|e| Error::Internal(format!("{e:?}")))?;
    text.as_string().ok_or_else(|| Error::Internal("an answer's body is not text".into()))
}

/// As [`answer_text`], parsed as JSON.
pub async fn answer_json<T: serde::de::DeserializeOwned>(resp: &Response) -> Result<T> {
    serde_json::from_str(&answer_text(resp).await?).map_err(|e| Error::Internal(format!("an answer's body: {e}")))
}

pub fn no_content() -> Result<Response> {
    Ok(Response::empty()?.with_status(204))
}

pub fn not_found_path() -> Response {
    Error::NotFound.into_response()
}

/// The bearer token of `Authorization: Bearer <token>`, if any.
pub fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get("authorization").ok().flatten()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

/// Does `req` ask to become a WebSocket?
pub fn is_websocket(req: &Request) -> Result<bool> {
    Ok(req.headers().get("upgrade")?.is_some_and(|u| u.eq_ignore_ascii_case("websocket")))
}

/// Live routes speak WebSocket only: anything else is `422 websocket_required`.
pub fn require_websocket(req: &Request) -> Result<()> {
    if is_websocket(req)? {
        Ok(())
    } else {
        Err(Error::Invalid(pigeon_protocol::validate::Invalid::new("websocket_required", "This endpoint speaks WebSocket only.")))
    }
}

const ALLOW_METHODS: &str = "GET, POST, PUT, DELETE, OPTIONS";
const ALLOW_HEADERS: &str = "authorization, content-type";

pub fn preflight(origin: Option<&str>) -> Response {
    let resp = Response::empty().expect("empty response").with_status(204);
    let resp = with_cors(resp, origin);
    if origin.is_some() {
        let h = resp.headers();
        let _ = h.set("access-control-allow-methods", ALLOW_METHODS);
        let _ = h.set("access-control-allow-headers", ALLOW_HEADERS);
        let _ = h.set("access-control-max-age", "600");
    }
    resp
}

/// `Cache-Control: no-store` and `X-Content-Type-Options: nosniff` on every API answer.
pub fn api_headers(resp: Response) -> Response {
    with_headers(resp, |h| {
        h.set("cache-control", "no-store")?;
        h.set("x-content-type-options", "nosniff")
    })
}

/// The same answer (status, body, WebSocket if it is an upgrade) with headers added by `add`:
/// in place when its headers can change, else (an answer from a Durable Object, whose headers
/// are immutable) on a copy.
fn with_headers(mut resp: Response, add: impl Fn(&worker::Headers) -> worker::Result<()>) -> Response {
    if add(resp.headers_mut()).is_ok() {
        return resp;
    }
    let headers = worker::Headers::new();
    for (k, v) in resp.headers().entries() {
        let _ = headers.append(&k, &v);
    }
    let _ = add(&headers);
    let (builder, body) = resp.into_parts();
    builder.with_headers(headers).body(body)
}

/// Adds the CORS headers for an allowed `origin` (none when there is none).
pub fn with_cors(resp: Response, origin: Option<&str>) -> Response {
    let Some(origin) = origin else { return resp };
    with_headers(resp, |h| {
        h.set("access-control-allow-origin", origin)?;
        h.set("access-control-expose-headers", "retry-after")?;
        // Once, whichever way the headers were added.
        if !h.get("vary")?.is_some_and(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("origin"))) {
            h.append("vary", "Origin")?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert!(check_content_type("application/json").is_ok());
        assert!(check_content_type("Application/JSON; charset=utf-8").is_ok());
        assert!(matches!(check_content_type("text/plain"), Err(Error::UnsupportedMediaType)));
        assert!(matches!(check_content_type(""), Err(Error::UnsupportedMediaType)));
    }

    #[test]
    fn json_bodies() {
        #[derive(serde::Deserialize)]
        struct B {
            #[allow(dead_code)]
            body: String,
        }
        assert!(parse_json::<B>(br#"{"body":"x"}"#).is_ok());
        assert!(matches!(parse_json::<B>(b"{nope"), Err(Error::MalformedJson(_))));
        assert!(matches!(parse_json::<B>(br#"{"other":1}"#), Err(Error::MalformedJson(_))));
        let big = vec![b' '; MAX_REQUEST_BYTES + 1];
        assert!(matches!(parse_json::<B>(&big), Err(Error::TooLarge)));
    }
}
