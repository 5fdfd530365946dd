//! Webhooks against the real relay, for what the e2e suite cannot reach: a delivery whose
//! queue message was lost (the queue gives one up after 100 retries) is found by the daily
//! cron and sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pigeon_tests::shared;
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::inbox::eventually;
use crate::{client, demo};

/// An endpoint on this machine that answers every request 204 and keeps its `webhook-id`s.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let ids = Arc::new(Mutex::new(Vec::new()));
    let seen = ids.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut got = 0;
                // Headers are enough: the id is one of them.
                while got < buf.len() {
                    match sock.read(&mut buf[got..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got += n,
                    }
                    if buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let head = String::from_utf8_lossy(&buf[..got]).to_string();
                if let Some(id) = head.lines().find_map(|l| l.strip_prefix("webhook-id: ").or_else(|| l.strip_prefix("Webhook-Id: "))) {
                    seen.lock().unwrap().push(id.trim().to_owned());
                }
                let _ = sock.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
            });
        }
    });
    (url, ids)
}

#[tokio::test]
async fn the_daily_sweep_sends_a_delivery_whose_queue_message_was_lost() {
    let c = client();
    let (site, key) = demo();
    let (url, received) = receiver().await;
    // Listening for closes only: other tests' messages on the demo site do not reach it.
    let made = c.json(Method::POST, &format!("/v1/agent/sites/{site}/webhooks"), Some(key), &json!({ "url": url, "events": ["conversation.closed"] })).await;
    assert_eq!(made.status, 201, "{:?}", made.json);
    let endpoint = made.json["endpoint"]["id"].as_str().unwrap().to_owned();
    let s = c.create_conversation(site).await;
    assert_eq!(s.post("m1", "Hello").await.status, 201);

    // A delivery due two hours ago with no queue message: written straight into D1.
    let event = format!("evt_{}_e99", s.id);
    let due = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64) - 2 * 3_600_000;
    let payload = json!({ "type": "conversation.closed", "timestamp": "2026-12-03T00:00:00Z", "data": { "conversation_id": s.id, "site_id": site, "status": "closed" } }).to_string();
    shared().d1_rows(&format!(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, conversation_id, ord, type, payload, next_at, created_at) \
         VALUES ('{endpoint}', '{event}', '{}', 1, 'conversation.closed', '{}', {due}, '2026-12-03T00:00:00Z')",
        s.id,
        payload.replace('\'', "''")
    ));
    // Nothing sends it by itself.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!received.lock().unwrap().contains(&event), "sent without the sweep");

    let cron = c.get("/cdn-cgi/local/scheduled?cron=17+3+*+*+*", None).await;
    assert!(cron.status < 300, "scheduled handler ran: {}", cron.status);
    eventually("the stranded delivery is sent", async || received.lock().unwrap().contains(&event)).await;
    let log = c.get(&format!("/v1/agent/sites/{site}/webhooks/{endpoint}/deliveries"), Some(key)).await;
    let row = log.json["deliveries"].as_array().unwrap().iter().find(|d| d["event_id"] == event.as_str()).cloned().expect("in the log");
    assert_eq!((row["state"].as_str(), row["attempts"].as_u64()), (Some("delivered"), Some(1)));
    assert_eq!(c.json(Method::DELETE, &format!("/v1/agent/sites/{site}/webhooks/{endpoint}"), Some(key), &json!({})).await.status, 204);
}
