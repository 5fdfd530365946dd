use std::time::Duration;

use pigeon_protocol::ServerFrame;
use pigeon_tests::Live;

use crate::{client, demo};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn every_socket_of_the_conversation_gets_each_new_message() {
    let (site, key) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    let mut tab_a = s.live(0).await;
    let mut tab_b = s.live(0).await;
    assert!(tab_a.backlog().await.is_empty());
    assert!(tab_b.backlog().await.is_empty());

    s.post("m1", "from the shopper").await;
    c.agent_post(key, &s.id, "r1", "from the agent").await;
    for tab in [&mut tab_a, &mut tab_b] {
        let got: Vec<(u64, String)> = vec![tab.next_message(WAIT).await.unwrap(), tab.next_message(WAIT).await.unwrap()]
            .into_iter()
            .map(|m| (m.seq, m.body))
            .collect();
        assert_eq!(got, vec![(1, "from the shopper".into()), (2, "from the agent".into())]);
    }
    // Another conversation's socket hears nothing of it.
    let other = c.create_conversation(site).await;
    let mut stranger = other.live(0).await;
    assert!(stranger.backlog().await.is_empty());
    c.agent_post(key, &s.id, "r2", "private").await;
    assert!(stranger.next_message(Duration::from_millis(500)).await.is_none());
}

#[tokio::test]
async fn a_reconnecting_client_gets_exactly_what_it_missed_in_order() {
    let (site, key) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    for i in 1..=3 {
        s.post(&format!("m{i}"), &format!("message {i}")).await;
    }
    let mut live = s.live(0).await;
    assert_eq!(live.backlog().await.len(), 3);
    live.close().await;
    // While away: two agent replies and one more message from another tab.
    c.agent_post(key, &s.id, "r1", "reply 1").await;
    s.post("m4", "message 4").await;
    c.agent_post(key, &s.id, "r2", "reply 2").await;

    let mut back = s.live(3).await;
    let missed: Vec<(u64, String)> = back.backlog().await.into_iter().map(|m| (m.seq, m.body)).collect();
    assert_eq!(missed, vec![(4, "reply 1".into()), (5, "message 4".into()), (6, "reply 2".into())]);
    c.agent_post(key, &s.id, "r3", "reply 3").await;
    assert_eq!(back.next_message(WAIT).await.unwrap().seq, 7);
}

#[tokio::test]
async fn a_wrong_token_gets_no_messages_and_is_closed() {
    let (site, key) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    c.agent_post(key, &s.id, "r1", "secret reply").await;
    let mut intruder = Live::connect(&c.relay, &s.id, &"0".repeat(64), 0).await;
    match intruder.frame(WAIT).await {
        Some(ServerFrame::Error { code, .. }) => assert_eq!(code, "not_found"),
        other => panic!("expected an error frame, got {other:?}"),
    }
    assert!(intruder.frame(Duration::from_secs(2)).await.is_none(), "closed after the error");
}
