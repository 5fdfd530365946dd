//! Webhooks (Standard Webhooks): a site's endpoints, managed by its owners in the inbox and
//! with the agent key; events from the conversations' objects (`conversation::hooks`) go
//! through the `WEBHOOKS` queue to `deliver`, which signs (`sign`) and sends them.

pub mod deliver;
pub mod sign;

use pigeon_protocol::webhooks::{self, MAX_ENDPOINTS};
use pigeon_protocol::{PatchWebhook, PostWebhook, WebhookDeliveries, WebhookDelivery, WebhookEndpoint, WebhookEndpoints, WebhookSaved, validate::Invalid};
use serde::{Deserialize, Serialize};
use worker::{Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, Request, Response};

use crate::mail::{MailConfig, Mailbox, notice};
use crate::routes::Ctx;
use crate::{Error, Result, http};

/// One event of a conversation, as its object hands it over (`conversation::hooks`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// Stable: the `webhook-id` of every delivery and attempt.
    pub id: String,
    /// Its place in the conversation.
    pub ord: i64,
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened (RFC 3339): endpoints made later do not get it.
    pub at: String,
    /// The JSON body sent ([`pigeon_protocol::WebhookPayload`]).
    pub payload: String,
}

/// A message on the `WEBHOOKS` queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum QueueJob {
    /// Send what is due of the conversation's deliveries (new events, "send again").
    Flush { site: String, conversation: String },
}

/// What a webhook route does (the same for the inbox and the agent key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    List,
    Add,
    Change(String),
    Delete(String),
    Deliveries(String),
    Resend { endpoint: String, delivery: String },
    Test(String),
}

impl Call {
    /// The call of `method` on `rest`, the segments after `.../webhooks`: `None` for no
    /// such path, `Some(None)` for a path without this method.
    pub fn parse(method: &worker::Method, rest: &[&str]) -> Option<Option<Call>> {
        use worker::Method::{Delete, Get, Patch, Post};
        let s = |x: &str| x.to_owned();
        Some(match rest {
            [] => match method {
                Get => Some(Call::List),
                Post => Some(Call::Add),
                _ => None,
            },
            [id] => match method {
                Patch => Some(Call::Change(s(id))),
                Delete => Some(Call::Delete(s(id))),
                _ => None,
            },
            [id, "deliveries"] => (*method == Get).then(|| Call::Deliveries(s(id))),
            [id, "test"] => (*method == Post).then(|| Call::Test(s(id))),
            [id, "deliveries", delivery, "resend"] => (*method == Post).then(|| Call::Resend { endpoint: s(id), delivery: s(delivery) }),
            _ => return None,
        })
    }
}

/// The queue's consumer: each message acked, or retried when its deliveries wait. A message
/// this version cannot read (from another version) is logged and dropped alone.
pub async fn consume(batch: MessageBatch<QueueJob>, env: Env) -> Result<()> {
    for message in batch.raw_iter() {
        let text = js_sys::JSON::stringify(&message.body()).ok().and_then(|t| t.as_string()).unwrap_or_default();
        let job: QueueJob = match serde_json::from_str(&text) {
            Ok(job) => job,
            Err(e) => {
                worker::console_error!("webhooks: a queue message not understood, dropped: {e}");
                message.ack();
                continue;
            }
        };
        let delay = match deliver::handle(&env, &job).await {
            Ok(None) => {
                message.ack();
                continue;
            }
            Ok(Some(seconds)) => seconds,
            Err(e) => {
                worker::console_error!("webhooks: {e}");
                10
            }
        };
        message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(delay).build());
    }
    Ok(())
}

/// An endpoint's row.
#[derive(Deserialize)]
struct Row {
    id: String,
    url: String,
    events: String,
    description: String,
    enabled: u8,
    disabled_reason: Option<String>,
    failing_since: Option<String>,
    created_at: String,
}

impl Row {
    fn endpoint(self) -> WebhookEndpoint {
        WebhookEndpoint {
            id: self.id,
            url: self.url,
            events: serde_json::from_str(&self.events).unwrap_or_default(),
            description: self.description,
            enabled: self.enabled != 0,
            disabled_reason: self.disabled_reason,
            failing_since: self.failing_since,
            created_at: self.created_at,
        }
    }
}

const ROW: &str = "SELECT id, url, events, description, enabled, disabled_reason, failing_since, created_at FROM webhook_endpoints";

async fn list(cx: &Ctx) -> Result<Vec<WebhookEndpoint>> {
    let rows: Vec<Row> = cx.env.d1("DB")?.prepare(format!("{ROW} WHERE site_id = ?1 ORDER BY created_at, id")).bind(&[cx.site.id.as_str().into()])?.all().await?.results()?;
    Ok(rows.into_iter().map(Row::endpoint).collect())
}

async fn one(cx: &Ctx, id: &str) -> Result<WebhookEndpoint> {
    let row: Option<Row> = cx.env.d1("DB")?.prepare(format!("{ROW} WHERE site_id = ?1 AND id = ?2")).bind(&[cx.site.id.as_str().into(), id.into()])?.first(None).await?;
    row.map(Row::endpoint).ok_or(Error::NotFound)
}

/// A URL the relay may call (public https, unless local runs allow private addresses), as
/// fetch reads it.
fn checked_url(env: &Env, raw: &str) -> Result<String> {
    let url = webhooks::url(raw)?;
    if !crate::egress::endpoint_allowed(&url, deliver::allow_private(env)) {
        return Err(Error::Invalid(Invalid::new("endpoint_not_allowed", "The endpoint must be a public https:// address.")));
    }
    // Kept as fetch reads it.
    Ok(crate::egress::parsed(&url).map_or(url, |u| u.to_string()))
}

fn new_secret() -> Result<String> {
    Ok(sign::secret_text(&crate::tokens::random_bytes::<{ sign::SECRET_BYTES }>()?))
}

/// Runs a webhook call for an owner (inbox) or the site's agent key.
pub async fn run(req: Request, cx: &Ctx, call: Call) -> Result<Response> {
    if let Some(teammate) = &cx.teammate {
        teammate.must_own()?;
    }
    match call {
        Call::List => http::json(200, &WebhookEndpoints { endpoints: list(cx).await? }),
        Call::Add => add(req, cx).await,
        Call::Change(id) => change(req, cx, &id).await,
        Call::Delete(id) => {
            one(cx, &id).await?;
            cx.env.d1("DB")?.prepare("DELETE FROM webhook_endpoints WHERE site_id = ?1 AND id = ?2").bind(&[cx.site.id.as_str().into(), id.into()])?.run().await?;
            http::no_content()
        }
        Call::Deliveries(id) => deliveries(cx, &id).await,
        Call::Resend { endpoint, delivery } => resend(cx, &endpoint, &delivery).await,
        Call::Test(id) => {
            one(cx, &id).await?;
            http::json(200, &deliver::test(&cx.env, &cx.site.id, &id).await?)
        }
    }
}

/// `POST .../webhooks` `{url, events?, description?}` → `201` with the secret (shown once).
async fn add(mut req: Request, cx: &Ctx) -> Result<Response> {
    let body: PostWebhook = http::read_json(&mut req).await?;
    let url = checked_url(&cx.env, &body.url)?;
    let events = webhooks::events(&body.events)?;
    let description = webhooks::description(&body.description)?;
    if list(cx).await?.len() >= MAX_ENDPOINTS {
        return Err(Error::Invalid(Invalid::new("too_many_endpoints", format!("A site has at most {MAX_ENDPOINTS} webhook endpoints."))));
    }
    let id = format!("ep_{}", hex::encode(crate::tokens::random_bytes::<12>()?));
    let secret = new_secret()?;
    cx.env
        .d1("DB")?
        .prepare("INSERT INTO webhook_endpoints (id, site_id, url, secret, events, description, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(&[
            id.as_str().into(),
            cx.site.id.as_str().into(),
            url.into(),
            secret.as_str().into(),
            serde_json::to_string(&events).unwrap_or_else(|_| "[]".into()).into(),
            description.into(),
            crate::conversation::now_iso().into(),
        ])?
        .run()
        .await?;
    http::json(201, &WebhookSaved { endpoint: one(cx, &id).await?, secret: Some(secret) })
}

/// `PATCH .../webhooks/{id}`: URL, events, description, on/off, a new secret. Switching it
/// on again clears why it was off; events from while it was off are not sent.
async fn change(mut req: Request, cx: &Ctx, id: &str) -> Result<Response> {
    let body: PatchWebhook = http::read_json(&mut req).await?;
    let before = one(cx, id).await?;
    let url = body.url.as_deref().map(|u| checked_url(&cx.env, u)).transpose()?.unwrap_or(before.url);
    let events = body.events.as_deref().map(webhooks::events).transpose()?.unwrap_or(before.events);
    let description = body.description.as_deref().map(webhooks::description).transpose()?.unwrap_or(before.description);
    let enabled = body.enabled.unwrap_or(before.enabled);
    let secret = if body.rotate_secret { Some(new_secret()?) } else { None };
    let db = cx.env.d1("DB")?;
    db.prepare(
        "UPDATE webhook_endpoints SET url = ?3, events = ?4, description = ?5, enabled = ?6, secret = COALESCE(?7, secret), \
         disabled_reason = CASE WHEN ?6 = 1 THEN NULL ELSE disabled_reason END, \
         failing_since = CASE WHEN ?6 = 1 AND enabled = 0 THEN NULL ELSE failing_since END \
         WHERE site_id = ?1 AND id = ?2",
    )
    .bind(&[
        cx.site.id.as_str().into(),
        id.into(),
        url.into(),
        serde_json::to_string(&events).unwrap_or_else(|_| "[]".into()).into(),
        description.into(),
        u8::from(enabled).into(),
        secret.as_deref().map_or(wasm_bindgen::JsValue::NULL, Into::into),
    ])?
    .run()
    .await?;
    // Off: what waits is given up (the log can send it again once it is on).
    if !enabled {
        db.prepare("UPDATE webhook_deliveries SET state = 'failed', last_error = 'The endpoint was switched off.', lease_until = 0 WHERE endpoint_id = ?1 AND state = 'pending'")
            .bind(&[id.into()])?
            .run()
            .await?;
    }
    http::json(200, &WebhookSaved { endpoint: one(cx, id).await?, secret })
}

#[derive(Deserialize)]
struct DeliveryRow {
    id: f64,
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    conversation_id: String,
    state: String,
    attempts: u32,
    last_status: Option<u16>,
    last_error: Option<String>,
    created_at: String,
    delivered_at: Option<String>,
    next_at: f64,
}

impl DeliveryRow {
    fn delivery(self) -> WebhookDelivery {
        use pigeon_protocol::DeliveryState::*;
        let state = match self.state.as_str() {
            "delivered" => Delivered,
            "failed" => Failed,
            _ => Pending,
        };
        WebhookDelivery {
            id: self.id as u64,
            event_id: self.event_id,
            kind: self.kind,
            conversation: self.conversation_id,
            state,
            attempts: self.attempts,
            last_status: self.last_status,
            last_error: self.last_error,
            created_at: self.created_at,
            delivered_at: self.delivered_at,
            next_attempt_at: (state == Pending).then(|| deliver::iso(self.next_at)),
        }
    }
}

/// Deliveries shown in the log: the newest.
const LOG: u32 = 100;

/// `GET .../webhooks/{id}/deliveries`: the newest first.
async fn deliveries(cx: &Ctx, id: &str) -> Result<Response> {
    one(cx, id).await?;
    let rows: Vec<DeliveryRow> = cx
        .env
        .d1("DB")?
        .prepare(
            "SELECT id, event_id, type, conversation_id, state, attempts, last_status, last_error, created_at, delivered_at, next_at \
             FROM webhook_deliveries WHERE endpoint_id = ?1 ORDER BY id DESC LIMIT ?2",
        )
        .bind(&[id.into(), LOG.into()])?
        .all()
        .await?
        .results()?;
    http::json(200, &WebhookDeliveries { deliveries: rows.into_iter().map(DeliveryRow::delivery).collect() })
}

/// `POST .../webhooks/{id}/deliveries/{delivery}/resend`: the same event (same id and body)
/// again, now; the endpoint must be switched on. `202` with the delivery.
async fn resend(cx: &Ctx, endpoint: &str, delivery: &str) -> Result<Response> {
    let ep = one(cx, endpoint).await?;
    if !ep.enabled {
        return Err(Error::Invalid(Invalid::new("endpoint_off", "Switch the endpoint on before sending again.")));
    }
    let delivery: f64 = delivery.parse::<u64>().map_err(|_| Error::NotFound)? as f64;
    let db = cx.env.d1("DB")?;
    db.prepare(
        "UPDATE webhook_deliveries SET state = 'pending', next_at = ?3, lease_until = 0, attempts = 0 \
         WHERE id = ?1 AND endpoint_id = ?2 AND state != 'pending'",
    )
    .bind(&[delivery.into(), endpoint.into(), js_sys::Date::now().into()])?
    .run()
    .await?;
    #[derive(Deserialize)]
    struct Of {
        conversation_id: String,
        state: String,
    }
    let of: Option<Of> = db.prepare("SELECT conversation_id, state FROM webhook_deliveries WHERE id = ?1 AND endpoint_id = ?2").bind(&[delivery.into(), endpoint.into()])?.first(None).await?;
    let Some(of) = of else { return Err(Error::NotFound) };
    // Waiting (now, or still from an earlier ask whose flush was lost): flush it. A second
    // flush finds nothing due, or the first one's lease.
    if of.state == "pending" {
        cx.env.queue("WEBHOOKS")?.send(QueueJob::Flush { site: cx.site.id.clone(), conversation: of.conversation_id }).await?;
    }
    let row: DeliveryRow = db
        .prepare(
            "SELECT id, event_id, type, conversation_id, state, attempts, last_status, last_error, created_at, delivered_at, next_at \
             FROM webhook_deliveries WHERE id = ?1",
        )
        .bind(&[delivery.into()])?
        .first(None)
        .await?
        .ok_or(Error::NotFound)?;
    http::json(202, &row.delivery())
}

/// The daily clean-up: deliveries finished (delivered or given up) more than
/// `WEBHOOK_LOG_DAYS` (30) days ago leave the log. Returns how many.
pub async fn prune(env: &Env) -> Result<usize> {
    let days = env.var("WEBHOOK_LOG_DAYS").ok().and_then(|v| v.to_string().parse::<f64>().ok()).filter(|d| *d >= 0.0).unwrap_or(30.0);
    let cutoff = deliver::iso(js_sys::Date::now() - days * 86_400_000.0);
    let done = env
        .d1("DB")?
        .prepare("DELETE FROM webhook_deliveries WHERE state != 'pending' AND COALESCE(delivered_at, created_at) <= ?1")
        .bind(&[cutoff.into()])?
        .run()
        .await?;
    Ok(done.meta()?.and_then(|m| m.changes).unwrap_or(0))
}

/// Deliveries waiting longer than this past their due time have lost their queue message.
const STRANDED_MS: f64 = 3_600_000.0;
/// Conversations one sweep hands back to the queue.
const SWEEP_LIMIT: u32 = 500;

/// The daily cron's safety net: a waiting delivery always has a queue message that will try
/// it, unless the message itself was given up (the queue retries one 100 times, and a D1
/// outage can use them up). Deliveries of enabled endpoints due over an hour ago and not
/// leased get a `flush` again, one per conversation; a flush finds what is due, so a second
/// one for the same conversation changes nothing.
pub async fn sweep(env: &Env) -> Result<usize> {
    #[derive(Deserialize)]
    struct Stranded {
        site: String,
        conversation: String,
    }
    let before = js_sys::Date::now() - STRANDED_MS;
    let stranded: Vec<Stranded> = env
        .d1("DB")?
        .prepare(
            "SELECT DISTINCT w.site_id AS site, d.conversation_id AS conversation FROM webhook_deliveries d              JOIN webhook_endpoints w ON w.id = d.endpoint_id              WHERE d.state = 'pending' AND w.enabled = 1 AND d.next_at <= ?1 AND d.lease_until <= ?1 LIMIT ?2",
        )
        .bind(&[before.into(), SWEEP_LIMIT.into()])?
        .all()
        .await?
        .results()?;
    let queue = env.queue("WEBHOOKS")?;
    for s in &stranded {
        queue.send(QueueJob::Flush { site: s.site.clone(), conversation: s.conversation.clone() }).await?;
    }
    Ok(stranded.len())
}

/// Emails the site's owner that an endpoint was switched off, and why.
pub async fn tell_owner(env: &Env, site: &str, endpoint: &str, url: &str, why: &str) -> Result<()> {
    let Some(config) = MailConfig::from_env(env) else { return Ok(()) };
    let Some(site) = crate::sites::load(env, site).await? else { return Ok(()) };
    let words = notice::webhook_off(&site.name, url, why);
    crate::mail::send_notice(env, &config, Mailbox::bare(&site.merchant_email), words, &format!("webhook.{endpoint}.{}", js_sys::Date::now() as u64), "webhook").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use worker::Method;

    #[test]
    fn calls_parse_by_path_and_method() {
        assert_eq!(Call::parse(&Method::Get, &[]), Some(Some(Call::List)));
        assert_eq!(Call::parse(&Method::Post, &[]), Some(Some(Call::Add)));
        assert_eq!(Call::parse(&Method::Patch, &["ep_1"]), Some(Some(Call::Change("ep_1".into()))));
        assert_eq!(Call::parse(&Method::Get, &["ep_1", "deliveries"]), Some(Some(Call::Deliveries("ep_1".into()))));
        assert_eq!(Call::parse(&Method::Post, &["ep_1", "deliveries", "7", "resend"]), Some(Some(Call::Resend { endpoint: "ep_1".into(), delivery: "7".into() })));
        assert_eq!(Call::parse(&Method::Post, &["ep_1", "test"]), Some(Some(Call::Test("ep_1".into()))));
        assert_eq!(Call::parse(&Method::Get, &["ep_1", "test"]), Some(None));
        assert_eq!(Call::parse(&Method::Put, &["ep_1"]), Some(None));
        assert_eq!(Call::parse(&Method::Get, &["ep_1", "x"]), None);
    }

    #[test]
    fn queue_jobs_are_tagged() {
        let job = QueueJob::Flush { site: "s".into(), conversation: "c".into() };
        assert_eq!(serde_json::to_value(&job).unwrap(), serde_json::json!({"job": "flush", "site": "s", "conversation": "c"}));
    }
}
