use reqwest::Method;
use serde_json::{Value, json};

use crate::{client, demo};

async fn eventually(mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..50 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("condition never became true");
}

fn row<'a>(list: &'a Value, id: &str) -> Option<&'a Value> {
    list["conversations"].as_array()?.iter().find(|c| c["id"] == id)
}

#[tokio::test]
async fn the_merchant_lists_reads_replies_and_closes() {
    let (site, key) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    let context = json!({"page":{"url":"https://shop.test/boots","title":"Boots"},
        "cart":{"currency":"EUR","total":5998,"items":[{"name":"Boot","quantity":2,"unit_price":2999}]}});
    let a = c.json(Method::POST, &format!("/v1/conversations/{}/messages", s.id), Some(&s.token), &json!({"client_id":"m1","body":"Do these run small?","context":context})).await;
    assert_eq!(a.status, 201);
    s.post("m2", "Also, is there a discount?").await;

    // Listed as open with preview, unread count and the shared context.
    eventually(async || {
        let list = c.agent_list(key, site, "open").await.json;
        row(&list, &s.id).is_some_and(|r| r["unread_count"] == 2 && r["last_message_preview"] == "Also, is there a discount?" && r["context"]["cart"]["total"] == 5998)
    })
    .await;

    // Reading, replying (which also reads), closing.
    let read = c.json(Method::POST, &format!("/v1/agent/conversations/{}/read", s.id), Some(key), &json!({"seq": 1})).await;
    assert_eq!(read.status, 204);
    eventually(async || row(&c.agent_list(key, site, "open").await.json, &s.id).is_some_and(|r| r["unread_count"] == 1)).await;
    assert_eq!(c.agent_post(key, &s.id, "r1", "They run true to size; 10% off with PIGEON10.").await.status, 201);
    eventually(async || row(&c.agent_list(key, site, "open").await.json, &s.id).is_some_and(|r| r["unread_count"] == 0 && r["last_author"] == "agent")).await;

    let close = c.send(Method::POST, &format!("/v1/agent/conversations/{}/close", s.id), &[("authorization", &format!("Bearer {key}"))], None).await;
    assert_eq!(close.status, 204);
    assert!(row(&c.agent_list(key, site, "open").await.json, &s.id).is_none());
    assert!(row(&c.agent_list(key, site, "closed").await.json, &s.id).is_some());

    // The shopper writing again reopens it.
    s.post("m3", "One more question").await;
    eventually(async || row(&c.agent_list(key, site, "open").await.json, &s.id).is_some()).await;
    // The close left a note from Pigeon in the thread, before the shopper's new message.
    let messages = c.agent_messages(key, &s.id).await.json;
    let authors: Vec<&str> = messages["messages"].as_array().unwrap().iter().map(|m| m["author"].as_str().unwrap()).collect();
    assert_eq!(authors, ["shopper", "shopper", "agent", "system", "shopper"]);
}
