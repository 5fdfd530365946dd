use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::{client, demo};
use pigeon_tests::{Client, shared};

#[tokio::test]
async fn export_returns_everything_and_delete_erases_it_everywhere() {
    let (site, key) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    s.post("m1", "My order #1234 has not arrived").await;
    c.agent_post(key, &s.id, "r1", "Sorry! Checking now.").await;
    let contact = c.json(Method::PUT, &format!("/v1/conversations/{}/contact", s.id), Some(&s.token), &json!({"email":"shopper@example.com"})).await;
    assert_eq!(contact.status, 204);
    let bad = c.json(Method::PUT, &format!("/v1/conversations/{}/contact", s.id), Some(&s.token), &json!({"email":"a@b.com\r\nBcc: x@y.com"})).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_email"));

    let export = c.get(&format!("/v1/conversations/{}/export", s.id), Some(&s.token)).await;
    assert_eq!(export.status, 200);
    assert_eq!(export.json["conversation"]["id"], s.id.as_str());
    assert_eq!(export.json["conversation"]["contact_email"], "shopper@example.com");
    assert_eq!(export.json["messages"].as_array().unwrap().len(), 2);

    let mut live = s.live(0).await;
    assert_eq!(live.backlog().await.len(), 2);
    let del = c.send(Method::DELETE, &format!("/v1/conversations/{}", s.id), &[("authorization", &format!("Bearer {}", s.token))], None).await;
    assert_eq!(del.status, 204);

    // Gone for the shopper, the agent, the index and the live socket.
    assert_eq!(c.get(&format!("/v1/conversations/{}/messages", s.id), Some(&s.token)).await.status, 404);
    assert_eq!(c.get(&format!("/v1/conversations/{}/export", s.id), Some(&s.token)).await.status, 404);
    assert_eq!(c.agent_messages(key, &s.id).await.status, 404);
    assert_eq!(c.agent_post(key, &s.id, "r2", "hello?").await.status, 404);
    let list = c.agent_list(key, site, "open").await.json;
    assert!(!list["conversations"].as_array().unwrap().iter().any(|r| r["id"] == s.id.as_str()));
    // The open socket is told and closed with 4404 (not left silent).
    live.expect_refused("not_found", 4404).await;
    assert_eq!(s.post("m2", "still there?").await.status, 404);
}

#[tokio::test]
async fn the_retention_job_erases_only_conversations_idle_past_their_sites_retention() {
    let (site, _) = demo();
    let c = client();
    let kept = c.create_conversation(site).await;
    kept.post("m1", "keep me").await;
    // The "brief" test site keeps conversations for about two seconds.
    let brief = c.create_conversation("brief").await;
    brief.post("m1", "forget me").await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let cron = Client::new(&shared().info.relay).get("/cdn-cgi/local/scheduled?cron=17+3+*+*+*", None).await;
    assert!(cron.status < 300, "scheduled handler ran: {}", cron.status);
    assert_eq!(c.get(&format!("/v1/conversations/{}/messages", brief.id), Some(&brief.token)).await.status, 404);
    assert_eq!(kept.messages(0).await.len(), 1);
}

#[tokio::test]
async fn logs_never_contain_bodies_tokens_or_email_addresses() {
    let (site, key) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    let secret_body = "my-secret-body-7f3a9c";
    let secret_email = "secret-7f3a9c@example.com";
    s.post("m1", secret_body).await;
    c.agent_post(key, &s.id, "r1", "reply-secret-7f3a9c").await;
    c.json(Method::PUT, &format!("/v1/conversations/{}/contact", s.id), Some(&s.token), &json!({"email": secret_email})).await;
    // Provoke errors too: they are logged.
    s.post("m1", "conflicting body-secret-7f3a9c").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = shared().relay_log();
    assert!(log.contains(&s.id), "the relay logs requests (so this test can see a leak)");
    for secret in [secret_body, secret_email, "reply-secret-7f3a9c", "body-secret-7f3a9c", s.token.as_str(), key] {
        assert!(!log.contains(secret), "the relay log contains {secret:?}");
    }
}
