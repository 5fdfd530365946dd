use pigeon_tests::Client;
use reqwest::Method;
use serde_json::json;

use crate::{client, demo};

#[tokio::test]
async fn a_conversation_that_floods_gets_429_with_retry_after_and_loses_nothing_stored() {
    let (site, _) = demo();
    let s = client().create_conversation(site).await;
    let mut statuses = Vec::new();
    for i in 0..25 {
        let a = s.post(&format!("flood-{i}"), &format!("message {i}")).await;
        if a.status == 429 {
            assert_eq!(a.code(), "rate_limited");
            let retry: u32 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&retry));
        }
        statuses.push(a.status);
    }
    let stored = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(stored, 20, "a burst of 20 (an outbox flushing), then limited: {statuses:?}");
    assert_eq!(s.messages(0).await.len(), stored, "every acknowledged message is stored, nothing else");
    // A retry of an already stored message is still answered, limit or not.
    assert_eq!(s.post("flood-0", "message 0").await.status, 200);
}

#[tokio::test]
async fn one_visitor_creating_many_conversations_gets_429() {
    let (site, _) = demo();
    let visitor = client();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(visitor.json(Method::POST, &format!("/v1/sites/{site}/conversations"), None, &json!({})).await.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10, "{statuses:?}");
    assert!(statuses.contains(&429));
    // Another visitor is not affected.
    let other = Client::new(&visitor.relay);
    assert_eq!(other.json(Method::POST, &format!("/v1/sites/{site}/conversations"), None, &json!({})).await.status, 201);
}
