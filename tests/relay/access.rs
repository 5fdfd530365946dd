use reqwest::Method;
use serde_json::json;

use crate::{client, demo};
use pigeon_tests::shared;

#[tokio::test]
async fn tokens_are_long_random_and_unique() {
    let (site, _) = demo();
    let c = client();
    let a = c.create_conversation(site).await;
    let b = c.create_conversation(site).await;
    assert_eq!(a.token.len(), 64, "256 bits as hex");
    assert!(a.token.chars().all(|ch| ch.is_ascii_hexdigit()));
    assert_ne!(a.token, b.token);
    assert_ne!(a.id, b.id);
}

#[tokio::test]
async fn a_wrong_token_and_a_missing_conversation_look_the_same() {
    let (site, _) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    s.post("m1", "private").await;
    let wrong_token = c.get(&format!("/v1/conversations/{}/messages", s.id), Some(&"f".repeat(64))).await;
    let missing = c.get(&format!("/v1/conversations/{}/messages", "0".repeat(32)), Some(&s.token)).await;
    let no_token = c.get(&format!("/v1/conversations/{}/messages", s.id), None).await;
    for a in [&wrong_token, &missing, &no_token] {
        assert_eq!(a.status, 404);
        assert_eq!(a.json, wrong_token.json);
    }
    // Another conversation's token opens nothing here, for reads or writes.
    let other = c.create_conversation(site).await;
    let swapped = c.json(Method::POST, &format!("/v1/conversations/{}/messages", s.id), Some(&other.token), &json!({"client_id":"x","body":"hi"})).await;
    assert_eq!(swapped.status, 404);
    assert_eq!(s.messages(0).await.len(), 1);
}

#[tokio::test]
async fn a_token_in_the_url_is_not_accepted() {
    let (site, _) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    let a = c.get(&format!("/v1/conversations/{}/messages?token={}", s.id, s.token), None).await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn agent_routes_need_the_sites_own_key() {
    let (site, key) = demo();
    let info = &shared().info;
    let c = client();
    let s = c.create_conversation(site).await;
    assert_eq!(c.agent_post("wrong-key", &s.id, "r1", "hi").await.status, 401);
    let no_key = c.json(Method::POST, &format!("/v1/agent/conversations/{}/messages", s.id), None, &json!({"client_id":"r","body":"x"})).await;
    assert_eq!(no_key.status, 401);
    // Another site's valid key is useless here, for replies and for listing.
    assert_eq!(c.agent_post(&info.other_agent_key, &s.id, "r1", "hi").await.status, 401);
    assert_eq!(c.agent_messages(&info.other_agent_key, &s.id).await.status, 401);
    assert_eq!(c.agent_list(&info.other_agent_key, site, "open").await.status, 401);
    assert_eq!(c.agent_list(key, &info.other_site, "open").await.status, 401);
    assert!(s.messages(0).await.is_empty(), "nothing was written");
    assert_eq!(c.agent_post(key, &s.id, "r1", "hi").await.status, 201);
}
