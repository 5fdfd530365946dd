//! A small client for the relay's v1 API: shopper and agent sides, HTTP and live socket.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use pigeon_protocol::{ClientFrame, CreatedConversation, Message, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite};

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub relay: String,
    /// Sent as `cf-connecting-ip` (what Cloudflare's edge sets), so tests act as distinct
    /// visitors for the per-IP limits.
    pub ip: String,
}

/// A status and parsed JSON body (Null when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
    /// The body as text (for the pages that are not JSON).
    pub text: String,
    /// The body as sent (files).
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
}

impl Client {
    pub fn new(relay: &str) -> Self {
        let n: u32 = rand_u32();
        Self {
            http: reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap(),
            relay: relay.to_owned(),
            ip: format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255),
        }
    }

    pub async fn send(&self, method: Method, path: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Answer {
        let mut req = self.http.request(method, format!("{}{}", self.relay, path)).header("cf-connecting-ip", &self.ip);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req.body(body);
        }
        let resp = req.send().await.expect("relay reachable");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap_or_default();
        let bytes = bytes.to_vec();
        Answer { status, headers, json: serde_json::from_slice(&bytes).unwrap_or(Value::Null), text: String::from_utf8_lossy(&bytes).into_owned(), bytes }
    }

    pub async fn json(&self, method: Method, path: &str, bearer: Option<&str>, body: &Value) -> Answer {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("authorization", a));
        }
        self.send(method, path, &headers, Some(serde_json::to_vec(body).unwrap())).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Answer {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| vec![("authorization", a)]).unwrap_or_default();
        self.send(Method::GET, path, &headers, None).await
    }

    pub async fn create_conversation(&self, site: &str) -> ShopperSession {
        let a = self.json(Method::POST, &format!("/v1/sites/{site}/conversations"), None, &json!({})).await;
        assert_eq!(a.status, 201, "create conversation: {:?}", a.json);
        let created: CreatedConversation = serde_json::from_value(a.json).unwrap();
        ShopperSession { client: self.clone(), id: created.conversation.id, token: created.token }
    }

    pub async fn agent_post(&self, key: &str, conversation: &str, client_id: &str, body: &str) -> Answer {
        self.json(
            Method::POST,
            &format!("/v1/agent/conversations/{conversation}/messages"),
            Some(key),
            &json!({ "client_id": client_id, "body": body, "author_name": "Ana" }),
        )
        .await
    }

    pub async fn agent_messages(&self, key: &str, conversation: &str) -> Answer {
        self.get(&format!("/v1/agent/conversations/{conversation}/messages?limit=500"), Some(key)).await
    }

    pub async fn agent_list(&self, key: &str, site: &str, status: &str) -> Answer {
        self.get(&format!("/v1/agent/sites/{site}/conversations?status={status}"), Some(key)).await
    }
}

/// `s` with everything but unreserved characters percent-encoded (a query value).
pub fn urlencoding(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    h.finish() as u32
}

/// A conversation as the shopper's browser holds it.
#[derive(Clone)]
pub struct ShopperSession {
    pub client: Client,
    pub id: String,
    pub token: String,
}

impl ShopperSession {
    pub async fn post(&self, client_id: &str, body: &str) -> Answer {
        self.client
            .json(Method::POST, &format!("/v1/conversations/{}/messages", self.id), Some(&self.token), &json!({ "client_id": client_id, "body": body }))
            .await
    }

    /// `POST .../files?client_id=&name=` with `bytes` as the body.
    pub async fn upload(&self, client_id: &str, name: &str, bytes: &[u8]) -> Answer {
        let auth = format!("Bearer {}", self.token);
        let path = format!("/v1/conversations/{}/files?client_id={client_id}&name={}", self.id, urlencoding(name));
        self.client.send(Method::POST, &path, &[("authorization", &auth), ("content-type", "image/png")], Some(bytes.to_vec())).await
    }

    pub async fn messages(&self, after: u64) -> Vec<Message> {
        let a = self.client.get(&format!("/v1/conversations/{}/messages?after={after}&limit=500", self.id), Some(&self.token)).await;
        assert_eq!(a.status, 200, "{:?}", a.json);
        serde_json::from_value(a.json["messages"].clone()).unwrap()
    }

    pub async fn live(&self, after: u64) -> Live {
        Live::connect(&self.client.relay, &self.id, &self.token, after).await
    }
}

/// A live socket that has said hello.
pub struct Live {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What happened next on a live socket.
#[derive(Debug)]
pub enum Event {
    Frame(ServerFrame),
    /// The relay closed the socket: the code of its close frame, or 1006 (as browsers report
    /// it) when the connection ended without one.
    Closed { code: u16 },
    /// Nothing within the wait; the socket is still open.
    Timeout,
}

impl Live {
    pub async fn connect(relay: &str, conversation: &str, token: &str, after: u64) -> Live {
        let mut live = Live::open(relay, conversation).await;
        live.send_text(&serde_json::to_string(&ClientFrame::Hello { token: token.into(), after }).unwrap()).await;
        live
    }

    /// The socket upgraded, and nothing said yet.
    pub async fn open(relay: &str, conversation: &str) -> Live {
        use tungstenite::client::IntoClientRequest;
        let url = format!("{}/v1/conversations/{conversation}/live", relay.replacen("http", "ws", 1));
        let mut req = url.into_client_request().unwrap();
        // Each socket is another client for the per-IP limits, as each `Client` is.
        let n = rand_u32();
        req.headers_mut().insert("cf-connecting-ip", format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255).parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("websocket");
        Live { ws }
    }

    /// Sends one text frame as it is (a send the relay already closed is not an error here).
    pub async fn send_text(&mut self, text: &str) {
        let _ = self.ws.send(tungstenite::Message::text(text.to_owned())).await;
    }

    /// The next frame, the close (with its code), or a timeout after `wait`. A text frame
    /// that is not a `ServerFrame` fails the test.
    pub async fn next(&mut self, wait: Duration) -> Event {
        loop {
            match tokio::time::timeout(wait, self.ws.next()).await {
                Err(_) => return Event::Timeout,
                Ok(Some(Ok(tungstenite::Message::Text(t)))) => {
                    return Event::Frame(serde_json::from_str(&t).unwrap_or_else(|e| panic!("unknown frame {t:?}: {e}")));
                }
                Ok(Some(Ok(tungstenite::Message::Close(frame)))) => {
                    return Event::Closed { code: frame.map_or(1005, |f| u16::from(f.code)) };
                }
                Ok(Some(Err(_)) | None) => return Event::Closed { code: 1006 },
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next frame; `None` when the socket closed or nothing came within `wait`.
    pub async fn frame(&mut self, wait: Duration) -> Option<ServerFrame> {
        match self.next(wait).await {
            Event::Frame(frame) => Some(frame),
            Event::Closed { .. } | Event::Timeout => None,
        }
    }

    /// Messages until `ready` (the backlog).
    pub async fn backlog(&mut self) -> Vec<Message> {
        self.backlog_and_ready().await.0
    }

    /// Messages until `ready`, and the `last_seq` that `ready` carried.
    pub async fn backlog_and_ready(&mut self) -> (Vec<Message>, u64) {
        let mut out = Vec::new();
        loop {
            match self.next(Duration::from_secs(10)).await {
                Event::Frame(ServerFrame::Message { message }) => out.push(message),
                Event::Frame(ServerFrame::Ready { last_seq }) => return (out, last_seq),
                other => panic!("expected backlog or ready, got {other:?}"),
            }
        }
    }

    /// The next message frame; `None` on timeout. Anything else (another frame, a close)
    /// fails the test.
    pub async fn next_message(&mut self, wait: Duration) -> Option<Message> {
        match self.next(wait).await {
            Event::Frame(ServerFrame::Message { message }) => Some(message),
            Event::Timeout => None,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// Expects the relay to refuse: an `error` frame with `code`, then the close `close_code`.
    pub async fn expect_refused(&mut self, code: &str, close_code: u16) {
        match self.next(Duration::from_secs(10)).await {
            Event::Frame(ServerFrame::Error { code: got, .. }) => assert_eq!(got, code, "error frame code"),
            other => panic!("expected an error frame {code:?}, got {other:?}"),
        }
        match self.next(Duration::from_secs(5)).await {
            Event::Closed { code } => assert_eq!(code, close_code, "close code"),
            other => panic!("expected the relay to close with {close_code}, got {other:?}"),
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

pub fn ok(status: u16) -> bool {
    StatusCode::from_u16(status).is_ok_and(|s| s.is_success())
}
