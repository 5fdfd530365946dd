//! The `WEBHOOKS` queue's consumer. The conversation's object made one delivery per endpoint
//! listening for each event (D1 `webhook_deliveries`, [`add_deliveries`]) and queued a
//! `flush`; each endpoint gets a conversation's deliveries one at a time, in the
//! conversation's order: a delivery that failed holds back the ones after it
//! until it is delivered or given up. Failed attempts are tried again on a schedule over
//! more than a day (`WEBHOOK_RETRY_SECONDS`); the queue message of a waiting delivery is
//! retried for its next attempt, so a delivery never waits without one. An endpoint whose
//! delivery is given up is switched off, and the site's owner is emailed.

use pigeon_protocol::webhooks::TEST_EVENT;
use pigeon_protocol::{WebhookPayload, WebhookTest};
use serde::Deserialize;
use worker::{Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

use super::{Event, QueueJob, sign};
use crate::{Error, Result};

/// How long one consumer holds a delivery while sending it.
const LEASE_MS: f64 = 30_000.0;
/// A delivery attempt's limit.
const TIMEOUT_MS: u32 = 15_000;
/// Deliveries per endpoint and conversation in one go.
const MAX_IN_ONE_GO: usize = 25;
/// The queue holds a message back at most this long (Cloudflare's limit is 12 hours).
const MAX_DELAY_SECONDS: u32 = 43_200;

/// Seconds between failed attempts, then given up: over a day in all.
const DEFAULT_RETRIES: [u32; 11] = [5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800, 28_800, 28_800];

/// The schedule of attempts: `WEBHOOK_RETRY_SECONDS` (comma-separated, tests shorten it),
/// else [`DEFAULT_RETRIES`].
pub fn retry_schedule(env: &Env) -> Vec<u32> {
    env.var("WEBHOOK_RETRY_SECONDS")
        .ok()
        .map(|v| v.to_string().split(',').filter_map(|s| s.trim().parse().ok()).collect::<Vec<u32>>())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_RETRIES.to_vec())
}

/// After `attempts` failed attempts: when to try again, or `None`: give up.
pub fn next_attempt(schedule: &[u32], attempts: u32, now_ms: f64) -> Option<f64> {
    let wait = schedule.get(attempts.checked_sub(1)? as usize)?;
    Some(now_ms + f64::from(*wait) * 1000.0)
}

/// Whether private and loopback endpoints may be called (`WEBHOOK_PRIVATE_ENDPOINTS =
/// "allow"`: local runs only).
pub fn allow_private(env: &Env) -> bool {
    env.var("WEBHOOK_PRIVATE_ENDPOINTS").is_ok_and(|v| v.to_string() == "allow")
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A time in milliseconds as RFC 3339, the way D1 rows and answers carry it.
pub(super) fn iso(ms: f64) -> String {
    crate::time::iso(ms)
}

/// One queue message: ack (`None`) or retry after that many seconds.
pub async fn handle(env: &Env, job: &QueueJob) -> Result<Option<u32>> {
    let QueueJob::Flush { site, conversation } = job;
    let wait = flush(env, site, conversation).await?;
    Ok(wait.map(|until| (((until - now_ms()) / 1000.0).ceil().max(1.0) as u32).min(MAX_DELAY_SECONDS)))
}

/// One delivery of each of `events` (in order) for each enabled endpoint of the site that
/// listens for its type and existed when it happened; none once the conversation is erased.
/// Twice is once. Whether any of the conversation's deliveries wait (to be flushed), in the
/// same round trip.
pub async fn add_deliveries(env: &Env, site: &str, conversation: &str, events: &[Event]) -> Result<bool> {
    let rows = serde_json::to_string(events).map_err(|e| Error::Internal(e.to_string()))?;
    let db = env.d1("DB")?;
    let insert = db
        .prepare(
            "INSERT OR IGNORE INTO webhook_deliveries (endpoint_id, event_id, conversation_id, ord, type, payload, next_at, created_at) \
             SELECT w.id, e.value ->> 'id', ?2, e.value ->> 'ord', e.value ->> 'type', e.value ->> 'payload', ?4, ?5 \
             FROM json_each(?3) AS e JOIN webhook_endpoints w ON w.site_id = ?1 AND w.enabled = 1 AND w.created_at <= e.value ->> 'at' \
             AND (w.events = '[]' OR EXISTS (SELECT 1 FROM json_each(w.events) AS t WHERE t.value = e.value ->> 'type')) \
             WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?2) ORDER BY e.key",
        )
        .bind(&[site.into(), conversation.into(), rows.into(), now_ms().into(), iso(now_ms()).into()])?;
    let waiting = db.prepare("SELECT 1 AS one FROM webhook_deliveries WHERE conversation_id = ?1 AND state = 'pending' LIMIT 1").bind(&[conversation.into()])?;
    let results = db.batch(vec![insert, waiting]).await?;
    #[derive(Deserialize)]
    struct One {
        #[allow(dead_code)]
        one: u8,
    }
    Ok(results.get(1).map(|r| r.results::<One>()).transpose()?.is_some_and(|rows| !rows.is_empty()))
}

#[derive(Deserialize)]
struct Endpoint {
    id: String,
    url: String,
    secret: String,
}

/// Sends what is due of the conversation's deliveries, endpoint by endpoint. `Some(ms)`:
/// some wait, the earliest until then.
pub async fn flush(env: &Env, site: &str, conversation: &str) -> Result<Option<f64>> {
    let endpoints: Vec<Endpoint> = env
        .d1("DB")?
        .prepare(
            "SELECT w.id, w.url, w.secret FROM webhook_endpoints w WHERE w.site_id = ?1 AND w.enabled = 1 \
             AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.conversation_id = ?2 AND d.state = 'pending')",
        )
        .bind(&[site.into(), conversation.into()])?
        .all()
        .await?
        .results()?;
    let mut wait: Option<f64> = None;
    for endpoint in endpoints {
        if let Some(until) = flush_endpoint(env, site, &endpoint, conversation).await? {
            wait = Some(wait.map_or(until, |w| w.min(until)));
        }
    }
    Ok(wait)
}

#[derive(Deserialize)]
struct Head {
    id: f64,
    event_id: String,
    payload: String,
    attempts: u32,
    next_at: f64,
}

/// The endpoint's deliveries of the conversation, oldest first, until one must wait.
async fn flush_endpoint(env: &Env, site: &str, endpoint: &Endpoint, conversation: &str) -> Result<Option<f64>> {
    let db = env.d1("DB")?;
    for _ in 0..MAX_IN_ONE_GO {
        let head: Option<Head> = db
            .prepare(
                "SELECT id, event_id, payload, attempts, next_at FROM webhook_deliveries \
                 WHERE endpoint_id = ?1 AND conversation_id = ?2 AND state = 'pending' ORDER BY ord, id LIMIT 1",
            )
            .bind(&[endpoint.id.as_str().into(), conversation.into()])?
            .first(None)
            .await?;
        let Some(head) = head else { return Ok(None) };
        let now = now_ms();
        if head.next_at > now {
            return Ok(Some(head.next_at));
        }
        // Another consumer may be sending it: this one comes back after the lease.
        let claimed = db
            .prepare(
                "UPDATE webhook_deliveries SET lease_until = ?2 WHERE id = ?1 AND state = 'pending' AND lease_until <= ?3 \
                 AND attempts = ?4 AND next_at <= ?3",
            )
            .bind(&[head.id.into(), (now + LEASE_MS).into(), now.into(), head.attempts.into()])?
            .run()
            .await?;
        if claimed.meta()?.and_then(|m| m.changes).unwrap_or(0) == 0 {
            return Ok(Some(now + LEASE_MS));
        }
        let attempts = head.attempts + 1;
        match attempt(env, endpoint, &head.event_id, &head.payload).await {
            Ok(status) => {
                db.batch(vec![
                    db.prepare(
                        "UPDATE webhook_deliveries SET state = 'delivered', attempts = ?2, last_status = ?3, last_error = NULL, \
                         delivered_at = ?4, lease_until = 0 WHERE id = ?1 AND state = 'pending'",
                    )
                    .bind(&[head.id.into(), attempts.into(), status.into(), iso(now_ms()).into()])?,
                    db.prepare("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?1 AND failing_since IS NOT NULL").bind(&[endpoint.id.as_str().into()])?,
                ])
                .await?;
            }
            Err(failure) => {
                let now = now_ms();
                let status = failure.status.map_or(wasm_bindgen::JsValue::NULL, |s| s.into());
                let next = next_attempt(&retry_schedule(env), attempts, now);
                db.batch(vec![
                    db.prepare(
                        "UPDATE webhook_deliveries SET state = ?2, attempts = ?3, last_status = ?4, last_error = ?5, next_at = ?6, \
                         lease_until = 0 WHERE id = ?1 AND state = 'pending'",
                    )
                    .bind(&[
                        head.id.into(),
                        if next.is_some() { "pending" } else { "failed" }.into(),
                        attempts.into(),
                        status,
                        failure.error.as_str().into(),
                        next.unwrap_or(now).into(),
                    ])?,
                    db.prepare("UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?2) WHERE id = ?1")
                        .bind(&[endpoint.id.as_str().into(), iso(now).into()])?,
                ])
                .await?;
                match next {
                    Some(at) => return Ok(Some(at)),
                    None => {
                        switch_off(env, site, endpoint, &failure.error).await?;
                        return Ok(None);
                    }
                }
            }
        }
    }
    // More than one go's worth: the rest right after.
    Ok(Some(now_ms()))
}

/// Why an attempt failed.
struct Failure {
    status: Option<u16>,
    error: String,
}

/// POSTs the delivery, signed now (each attempt has its own timestamp, the same id and body).
async fn attempt(env: &Env, endpoint: &Endpoint, event_id: &str, payload: &str) -> std::result::Result<u16, Failure> {
    let fail = |error: String| Failure { status: None, error };
    if !crate::egress::endpoint_allowed(&endpoint.url, allow_private(env)) {
        return Err(fail("The endpoint's address is private or not https.".into()));
    }
    let key = sign::key_of(&endpoint.secret).ok_or_else(|| fail("The endpoint's secret is unusable.".into()))?;
    let send = async {
        let headers = Headers::new();
        headers.set("content-type", "application/json")?;
        headers.set("user-agent", "Pigeon-Webhooks/1")?;
        for (name, value) in sign::headers(&key, event_id, (now_ms() / 1000.0) as u64, payload) {
            headers.set(name, &value)?;
        }
        let mut init = RequestInit::new();
        // A redirect is an answer (3xx, a failure), never followed: it could lead inside.
        init.with_method(Method::Post).with_headers(headers).with_body(Some(payload.into())).with_redirect(RequestRedirect::Manual);
        let request = Request::new_with_init(&endpoint.url, &init)?;
        let signal = worker::AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(TIMEOUT_MS));
        Ok::<_, Error>(Fetch::Request(request).send_with_signal(&signal).await?.status_code())
    };
    match send.await {
        Ok(status @ 200..=299) => Ok(status),
        Ok(status) => Err(Failure { status: Some(status), error: format!("The endpoint answered {status}.") }),
        Err(e) => Err(fail(format!("No answer: {e}"))),
    }
}

/// "Send a test event": one signed `webhook.test` to the endpoint now, on or off, whatever it
/// listens for; its answer is returned, nothing is logged or tried again.
pub async fn test(env: &Env, site: &str, endpoint_id: &str) -> Result<WebhookTest> {
    let endpoint: Endpoint = env
        .d1("DB")?
        .prepare("SELECT id, url, secret FROM webhook_endpoints WHERE site_id = ?1 AND id = ?2")
        .bind(&[site.into(), endpoint_id.into()])?
        .first(None)
        .await?
        .ok_or(Error::NotFound)?;
    let event_id = format!("evt_test_{}", hex::encode(crate::tokens::random_bytes::<12>()?));
    let payload = WebhookPayload {
        kind: TEST_EVENT.into(),
        timestamp: iso(now_ms()),
        data: serde_json::json!({ "site": site, "endpoint": endpoint_id, "message": "A test event from Pigeon: this endpoint is reachable and can check its signature." }),
    };
    let body = serde_json::to_string(&payload).map_err(|e| Error::Internal(e.to_string()))?;
    let started = now_ms();
    let answer = attempt(env, &endpoint, &event_id, &body).await;
    let duration_ms = (now_ms() - started).max(0.0) as u32;
    Ok(match answer {
        Ok(status) => WebhookTest { event_id, delivered: true, status: Some(status), error: None, duration_ms },
        Err(f) => WebhookTest { event_id, delivered: false, status: f.status, error: Some(f.error), duration_ms },
    })
}

/// Switches the endpoint off (its waiting deliveries are given up too) and tells the site's
/// owner why.
async fn switch_off(env: &Env, site: &str, endpoint: &Endpoint, why: &str) -> Result<()> {
    let db = env.d1("DB")?;
    let reason = format!("Switched off after a delivery failed for over a day: {why}");
    db.batch(vec![
        db.prepare("UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?2 WHERE id = ?1").bind(&[endpoint.id.as_str().into(), reason.as_str().into()])?,
        db.prepare("UPDATE webhook_deliveries SET state = 'failed', last_error = 'The endpoint was switched off.', lease_until = 0 WHERE endpoint_id = ?1 AND state = 'pending'")
            .bind(&[endpoint.id.as_str().into()])?,
    ])
    .await?;
    if let Err(e) = super::tell_owner(env, site, &endpoint.id, &endpoint.url, why).await {
        worker::console_error!("webhook switched off, owner not emailed: {e}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_follow_the_schedule_then_give_up() {
        let s = DEFAULT_RETRIES;
        assert_eq!(next_attempt(&s, 1, 0.0), Some(5_000.0));
        assert_eq!(next_attempt(&s, 11, 0.0), Some(28_800_000.0));
        assert_eq!(next_attempt(&s, 12, 0.0), None);
        assert_eq!(next_attempt(&s, 0, 0.0), None);
        // Retried for more than a day before giving up.
        assert!(s.iter().map(|&x| u64::from(x)).sum::<u64>() > 24 * 3600);
    }
}
