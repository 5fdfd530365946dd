//! The mail the relay sent and receives, through wrangler's local email endpoints: sent mail
//! is listed by the local explorer API, inbound mail is posted to `/cdn-cgi/local/email`.

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

use crate::Client;

/// One sent email, as wrangler recorded it (its `Message-ID` header is rewritten locally;
/// `raw` is what the relay composed).
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub reply_to: String,
    pub raw: String,
}

impl Mail {
    /// The decoded text/plain part.
    pub fn text(&self) -> String {
        self.part("text/plain")
    }

    pub fn html(&self) -> String {
        self.part("text/html")
    }

    fn part(&self, kind: &str) -> String {
        let start = self.raw.find(&format!("Content-Type: {kind}")).unwrap_or_else(|| panic!("no {kind} part in {}", self.raw));
        let body = &self.raw[start..];
        let body = &body[body.find("\r\n\r\n").unwrap() + 4..];
        let body = &body[..body.find("--").unwrap_or(body.len())];
        let bytes = base64::engine::general_purpose::STANDARD.decode(body.replace("\r\n", "")).expect("base64 part");
        String::from_utf8(bytes).expect("utf-8 part")
    }

    /// The bare address in Reply-To.
    pub fn reply_address(&self) -> String {
        let r = &self.reply_to;
        r[r.rfind('<').map_or(0, |i| i + 1)..].trim_end_matches('>').to_owned()
    }

    /// A header of the composed message, unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ");
        unfolded.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
    }
}

async fn api(client: &Client, query: &[(&str, &str)]) -> Value {
    let url = format!("{}/cdn-cgi/local/explorer/api/local/email/sending", client.relay);
    let resp = client.http.get(url).query(query).send().await.expect("relay reachable");
    resp.json().await.unwrap_or(Value::Null)
}

/// Every email sent so far whose Reply-To belongs to `conversation`, oldest first.
pub async fn sent_for(client: &Client, conversation: &str) -> Vec<Mail> {
    let tag = format!("reply+{conversation}.");
    sent_where(client, |item| item["replyTo"].as_str().unwrap_or_default().contains(&tag)).await
}

/// Every email sent so far to `to` with `subject`, oldest first.
pub async fn sent_to(client: &Client, to: &str, subject: &str) -> Vec<Mail> {
    sent_where(client, |item| item["to"][0] == to && item["subject"] == subject).await
}

/// Every email sent so far that `keep` accepts (given the local explorer's list item), oldest first.
async fn sent_where(client: &Client, keep: impl Fn(&Value) -> bool) -> Vec<Mail> {
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("per_page", "100")];
        if let Some(c) = &cursor {
            query.push(("cursor", c));
        }
        let page = api(client, &query).await;
        for item in page["result"].as_array().cloned().unwrap_or_default() {
            if !keep(&item) {
                continue;
            }
            let reply_to = item["replyTo"].as_str().unwrap_or_default().to_owned();
            let id = item["messageId"].as_str().unwrap_or_default();
            let detail = api(client, &[("email_id", id)]).await;
            found.push((
                item["sentAt"].as_str().unwrap_or_default().to_owned(),
                Mail {
                    to: item["to"][0].as_str().unwrap_or_default().to_owned(),
                    subject: item["subject"].as_str().unwrap_or_default().to_owned(),
                    reply_to,
                    raw: detail["result"]["raw"].as_str().unwrap_or_default().to_owned(),
                },
            ));
        }
        cursor = page["result_info"]["cursor"].as_str().filter(|c| !c.is_empty()).map(str::to_owned);
        if cursor.is_none() || page["result_info"]["has_more"] != Value::Bool(true) {
            break;
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.into_iter().map(|(_, m)| m).collect()
}

/// Waits until `count` emails to `to` exist for the conversation; returns them.
pub async fn wait_for(client: &Client, conversation: &str, to: &str, count: usize, within: Duration) -> Vec<Mail> {
    let start = Instant::now();
    loop {
        let mails: Vec<Mail> = sent_for(client, conversation).await.into_iter().filter(|m| m.to == to).collect();
        if mails.len() >= count {
            return mails;
        }
        assert!(start.elapsed() < within, "expected {count} mail(s) to {to} for {conversation} within {within:?}, got {}", mails.len());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Delivers `raw` to the relay's email handler as wrangler's local endpoint does. Returns
/// the status and wrangler's text (which carries a rejection reason).
pub async fn deliver(client: &Client, from: &str, to: &str, raw: &str) -> (u16, String) {
    let url = format!("{}/cdn-cgi/local/email", client.relay);
    let resp = client.http.post(url).query(&[("from", from), ("to", to)]).body(raw.to_owned()).send().await.expect("relay reachable");
    (resp.status().as_u16(), resp.text().await.unwrap_or_default())
}

/// A reply as a mail client writes it: `body` above the client's attribution and quote.
pub fn reply(from: &str, to: &str, message_id: &str, in_reply_to: Option<&str>, body: &str) -> String {
    let threading = in_reply_to.map(|p| format!("In-Reply-To: {p}\r\nReferences: {p}\r\n")).unwrap_or_default();
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Re: your chat\r\nDate: Sat, 21 Nov 2026 10:05:00 +0000\r\n\
         Message-ID: <{message_id}>\r\n{threading}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\n{body}"
    )
}
