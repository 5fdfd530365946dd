//! Webhooks: a site's endpoints, what is sent to them and the log of deliveries. Deliveries
//! follow the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256>`, `whsec_` secrets); the body is
//! [`WebhookPayload`].

use serde::{Deserialize, Serialize};

use crate::validate::{Checked, Invalid};

/// Every event type, in the order the docs list them. `conversation.rated` comes with ratings.
pub const EVENT_TYPES: [&str; 6] =
    ["conversation.created", "message.created", "conversation.closed", "conversation.reopened", "conversation.rated", "contact.updated"];

/// Endpoints per site.
pub const MAX_ENDPOINTS: usize = 10;
pub const MAX_URL: usize = 2048;
pub const MAX_DESCRIPTION: usize = 200;

/// A site's endpoint, as listed (its secret is shown once, when made or rotated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    /// The event types sent to it; empty: all of them.
    pub events: Vec<String>,
    pub description: String,
    pub enabled: bool,
    /// Why it was switched off, when the relay did it.
    pub disabled_reason: Option<String>,
    /// Deliveries to it have failed since then (none succeeded since).
    pub failing_since: Option<String>,
    pub created_at: String,
}

/// `GET .../webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoints {
    pub endpoints: Vec<WebhookEndpoint>,
}

/// `POST .../webhooks`: a new endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostWebhook {
    pub url: String,
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// `PATCH .../webhooks/{id}`: what changes; `rotate_secret` answers the new secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchWebhook {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub rotate_secret: bool,
}

/// The endpoint, and its signing secret when it was just made or rotated (shown this once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSaved {
    pub endpoint: WebhookEndpoint,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub secret: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet: waiting for its turn or its next attempt.
    Pending,
    Delivered,
    /// Given up: every attempt failed, or the endpoint was switched off.
    Failed,
}

/// One event sent (or to be sent) to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: u64,
    /// The event's id: the `webhook-id` header, the same on every attempt.
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub conversation: String,
    pub state: DeliveryState,
    pub attempts: u32,
    /// The endpoint's last HTTP status, if it answered.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<String>,
}

/// `GET .../webhooks/{id}/deliveries`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDeliveries {
    pub deliveries: Vec<WebhookDelivery>,
}

/// The type of the event "Send a test event" sends: to any endpoint, whatever it listens for,
/// never logged or tried again.
pub const TEST_EVENT: &str = "webhook.test";

/// `POST .../webhooks/{id}/test`: how the endpoint answered a signed test event, now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookTest {
    pub event_id: String,
    /// It answered 2xx.
    pub delivered: bool,
    /// Its HTTP status, if it answered.
    pub status: Option<u16>,
    /// Why it failed, as the delivery log says it.
    pub error: Option<String>,
    /// How long the attempt took.
    pub duration_ms: u32,
}

/// The body of every delivery; `data` depends on the type (`API.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookPayload<D> {
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened (RFC 3339).
    pub timestamp: String,
    pub data: D,
}

/// An endpoint's URL: absolute http(s), no credentials, no fragment, at most [`MAX_URL`].
/// (Whether its host may be called is the relay's decision: private addresses never in
/// production.)
pub fn url(raw: &str) -> Checked<String> {
    let url = raw.trim();
    let bad = |why: &str| Invalid::new("invalid_url", format!("The endpoint URL {why}."));
    if url.is_empty() {
        return Err(bad("is missing"));
    }
    if url.len() > MAX_URL {
        return Err(bad(&format!("is longer than {MAX_URL} characters")));
    }
    let Some((scheme, rest)) = url.split_once("://") else { return Err(bad("must start with https://")) };
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return Err(bad("must start with https://"));
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.is_empty() {
        return Err(bad("has no host"));
    }
    if authority.contains('@') {
        return Err(bad("must not carry a user name or password"));
    }
    if url.contains('#') {
        return Err(bad("must not have a #fragment"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("must not contain spaces"));
    }
    Ok(url.to_owned())
}

/// Event types: each known, none twice; empty means all.
pub fn events(raw: &[String]) -> Checked<Vec<String>> {
    let mut out: Vec<String> = vec![];
    for e in raw {
        let e = e.trim();
        if !EVENT_TYPES.contains(&e) {
            return Err(Invalid::new("unknown_event", format!("“{e}” is not an event type; they are: {}.", EVENT_TYPES.join(", "))));
        }
        if !out.iter().any(|o| o == e) {
            out.push(e.to_owned());
        }
    }
    Ok(out)
}

pub fn description(raw: &str) -> Checked<String> {
    let d = raw.trim();
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(Invalid::new("description_too_long", format!("A description has at most {MAX_DESCRIPTION} characters.")));
    }
    Ok(d.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_absolute_http_without_credentials() {
        assert_eq!(url(" https://hooks.example/pigeon?x=1 ").unwrap(), "https://hooks.example/pigeon?x=1");
        assert!(url("http://127.0.0.1:9000/in").is_ok());
        for bad in ["", "hooks.example/x", "ftp://hooks.example", "https://", "https://me:pw@hooks.example/", "https://hooks.example/#x", "https://hooks.example/a b"] {
            assert_eq!(url(bad).unwrap_err().code, "invalid_url", "{bad}");
        }
        assert!(url(&format!("https://h.example/{}", "a".repeat(MAX_URL))).is_err());
    }

    #[test]
    fn events_are_known_and_once() {
        let s = |v: &[&str]| v.iter().map(|e| e.to_string()).collect::<Vec<_>>();
        assert_eq!(events(&s(&["message.created", "message.created", "conversation.closed"])).unwrap(), s(&["message.created", "conversation.closed"]));
        assert!(events(&[]).unwrap().is_empty());
        assert_eq!(events(&s(&["message.sent"])).unwrap_err().code, "unknown_event");
        assert_eq!(events(&s(&["note.created"])).unwrap_err().code, "unknown_event");
    }

    #[test]
    fn the_payload_has_the_standard_shape() {
        let p = WebhookPayload { kind: "message.created".into(), timestamp: "2026-12-03T10:00:00Z".into(), data: serde_json::json!({"x": 1}) };
        assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::json!({"type": "message.created", "timestamp": "2026-12-03T10:00:00Z", "data": {"x": 1}}));
    }
}
