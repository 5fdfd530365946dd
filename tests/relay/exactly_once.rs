use crate::{client, demo};

#[tokio::test]
async fn a_retry_returns_the_stored_message_and_a_changed_body_conflicts() {
    let (site, _) = demo();
    let s = client().create_conversation(site).await;
    let first = s.post("retry-me", "Where is my order?").await;
    assert_eq!(first.status, 201);
    let again = s.post("retry-me", "Where is my order?").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json["message"], first.json["message"], "the stored message, unchanged");
    let changed = s.post("retry-me", "Something else").await;
    assert_eq!(changed.status, 409);
    assert_eq!(changed.code(), "client_id_conflict");
    assert_eq!(s.messages(0).await.len(), 1);
}

#[tokio::test]
async fn ten_concurrent_identical_posts_store_one_message() {
    let (site, _) = demo();
    let s = client().create_conversation(site).await;
    let sends = (0..10).map(|_| {
        let s = s.clone();
        tokio::spawn(async move { s.post("same-key", "Do you ship to Norway?").await })
    });
    let answers: Vec<_> = futures_util::future::join_all(sends).await.into_iter().map(Result::unwrap).collect();
    let created = answers.iter().filter(|a| a.status == 201).count();
    let replayed = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!((created, replayed), (1, 9), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    let ids: std::collections::HashSet<_> = answers.iter().map(|a| a.json["message"]["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "every answer names the same stored message");
    assert_eq!(s.messages(0).await.len(), 1);
}
