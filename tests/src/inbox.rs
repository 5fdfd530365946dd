//! The merchant's inbox API as a signed-in teammate uses it: sign-in through the mail the
//! relay sent, then requests with the session cookie from the relay's own origin.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use pigeon_protocol::InboxFrame;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite};

use crate::mailbox;
use crate::{Answer, Client};

pub const SIGNIN_SUBJECT: &str = "Your Pigeon sign-in link";

/// Sign-ins of one test process, one at a time: each waits for its own link in a mailbox
/// other tests may be reading too.
static SIGNING_IN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `POST /v1/inbox/signin` from the inbox page.
pub async fn request_link(c: &Client, email: &str) -> Answer {
    let origin = c.relay.clone();
    c.send(Method::POST, "/v1/inbox/signin", &[("content-type", "application/json"), ("origin", &origin)], Some(json!({ "email": email }).to_string().into_bytes())).await
}

/// Asks for a link for `email` and returns the token from the mail that arrives.
pub async fn link_for(c: &Client, email: &str) -> String {
    let _one = SIGNING_IN.lock().await;
    let before = mailbox::sent_to(c, email, SIGNIN_SUBJECT).await.len();
    let a = request_link(c, email).await;
    assert_eq!(a.status, 204, "sign-in request: {:?}", a.json);
    let start = Instant::now();
    loop {
        let mails = mailbox::sent_to(c, email, SIGNIN_SUBJECT).await;
        if mails.len() > before {
            return token_in(&mails.last().unwrap().text());
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no sign-in mail to {email}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The token of the link in a sign-in mail's text.
pub fn token_in(text: &str) -> String {
    let at = text.find("#signin=").unwrap_or_else(|| panic!("no sign-in link in {text}")) + "#signin=".len();
    text[at..].chars().take_while(char::is_ascii_hexdigit).collect()
}

/// `POST /v1/inbox/session` from the inbox page.
pub async fn open(c: &Client, token: &str) -> Answer {
    let origin = c.relay.clone();
    c.send(Method::POST, "/v1/inbox/session", &[("content-type", "application/json"), ("origin", &origin)], Some(json!({ "token": token }).to_string().into_bytes())).await
}

/// A teammate signed in to the inbox.
#[derive(Clone)]
pub struct Teammate {
    pub client: Client,
    /// `pigeon_inbox=<token>`, as the browser sends it.
    pub cookie: String,
}

impl Teammate {
    pub async fn sign_in(c: &Client, email: &str) -> Teammate {
        let token = link_for(c, email).await;
        let a = open(c, &token).await;
        assert_eq!(a.status, 200, "open session: {:?}", a.json);
        let set = a.headers.get("set-cookie").expect("a session cookie").to_str().unwrap();
        Teammate { client: c.clone(), cookie: set.split(';').next().unwrap().to_owned() }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.client.send(Method::GET, path, &[("cookie", &self.cookie)], None).await
    }

    /// A request from the inbox page: cookie and the relay's own origin.
    pub async fn post(&self, path: &str, body: Option<&Value>) -> Answer {
        let origin = self.client.relay.clone();
        let mut headers = vec![("cookie", self.cookie.as_str()), ("origin", origin.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        self.client.send(Method::POST, path, &headers, body.map(|b| b.to_string().into_bytes())).await
    }

    /// A PUT from the inbox page, with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        self.send_json(Method::PUT, path, body).await
    }

    /// Any request from the inbox page with a JSON body.
    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Answer {
        let origin = self.client.relay.clone();
        let headers = [("cookie", self.cookie.as_str()), ("origin", origin.as_str()), ("content-type", "application/json")];
        self.client.send(method, path, &headers, Some(body.to_string().into_bytes())).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        let origin = self.client.relay.clone();
        self.client.send(Method::DELETE, path, &[("cookie", self.cookie.as_str()), ("origin", origin.as_str())], None).await
    }

    /// The site's inbox socket, opened from the inbox page.
    pub async fn live(&self, site: &str) -> Result<InboxLive, tungstenite::Error> {
        let url = format!("{}/v1/inbox/sites/{site}/live", self.client.relay.replacen("http", "ws", 1));
        let mut req = url.into_client_request()?;
        req.headers_mut().insert("cookie", self.cookie.parse().unwrap());
        req.headers_mut().insert("origin", self.client.relay.parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(InboxLive { ws })
    }
}

pub struct InboxLive {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl InboxLive {
    /// The next frame within `wait`; `None` on timeout or close.
    pub async fn frame(&mut self, wait: Duration) -> Option<InboxFrame> {
        let t = self.text(wait).await?;
        Some(serde_json::from_str(&t).unwrap_or_else(|e| panic!("unknown inbox frame {t:?}: {e}")))
    }

    /// The next text frame as it came (a `refused` is not an `InboxFrame`); `None` on timeout
    /// or close.
    pub async fn text(&mut self, wait: Duration) -> Option<String> {
        loop {
            match tokio::time::timeout(wait, self.ws.next()).await {
                Ok(Some(Ok(tungstenite::Message::Text(t)))) => return Some(t.to_string()),
                Ok(Some(Ok(tungstenite::Message::Close(_)))) | Ok(Some(Err(_)) | None) | Err(_) => return None,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Sends a text frame (a `reply`, a `viewing`).
    pub async fn send(&mut self, text: String) {
        self.ws.send(tungstenite::Message::Text(text.into())).await.expect("inbox socket send");
    }

    /// Frames until one satisfies `want`, within `wait` in all.
    pub async fn until(&mut self, wait: Duration, mut want: impl FnMut(&InboxFrame) -> bool) -> Option<InboxFrame> {
        let end = Instant::now() + wait;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.frame(left).await {
                Some(f) if want(&f) => return Some(f),
                Some(_) => continue,
                None => return None,
            }
        }
        None
    }
}
