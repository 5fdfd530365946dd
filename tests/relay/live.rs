use std::time::Duration;

use pigeon_tests::{Client, Live};

use crate::{BACKLOG_CAP, client, demo, knobs};

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
async fn a_wrong_token_gets_no_messages_and_is_closed_as_not_found() {
    let (site, key) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    c.agent_post(key, &s.id, "r1", "secret reply").await;
    let mut intruder = Live::connect(&c.relay, &s.id, &"0".repeat(64), 0).await;
    // The same answer as for a deleted or unknown conversation (see gone.rs).
    intruder.expect_refused("not_found", 4404).await;
}

#[tokio::test]
async fn ready_carries_the_highest_stored_seq() {
    let (site, _) = demo();
    let s = client().create_conversation(site).await;
    for i in 1..=3 {
        s.post(&format!("m{i}"), &format!("message {i}")).await;
    }
    let mut live = s.live(0).await;
    let (backlog, last_seq) = live.backlog_and_ready().await;
    assert_eq!((backlog.len(), last_seq), (3, 3));
    // Nothing missed: ready still says where the thread is.
    let mut live = s.live(3).await;
    assert_eq!(live.backlog_and_ready().await, (vec![], 3));
    let mut live = s.live(1).await;
    let (backlog, last_seq) = live.backlog_and_ready().await;
    assert_eq!((backlog.iter().map(|m| m.seq).collect::<Vec<_>>(), last_seq), (vec![2, 3], 3));
}

/// The backlog is capped (10,000 in production, `BACKLOG_CAP` on the knobs relay); `ready`
/// tells the client how far the thread goes, and the rest is one GET away.
#[tokio::test]
async fn a_capped_backlog_says_what_is_left_to_fetch() {
    let (site, key) = (&knobs().info.site, &knobs().info.agent_key);
    let c = Client::new(&knobs().info.relay);
    let s = c.create_conversation(site).await;
    let total = BACKLOG_CAP + 3;
    for i in 1..=total {
        if i % 2 == 0 {
            c.agent_post(key, &s.id, &format!("r{i}"), &format!("message {i}")).await;
        } else {
            s.post(&format!("m{i}"), &format!("message {i}")).await;
        }
    }
    let mut live = s.live(0).await;
    let (backlog, last_seq) = live.backlog_and_ready().await;
    let sent: Vec<u64> = backlog.iter().map(|m| m.seq).collect();
    assert_eq!(sent, (1..=BACKLOG_CAP).collect::<Vec<_>>(), "the first BACKLOG_CAP messages");
    assert_eq!(last_seq, total, "ready carries the highest stored seq, not the last one sent");
    let rest: Vec<u64> = s.messages(BACKLOG_CAP).await.iter().map(|m| m.seq).collect();
    assert_eq!(rest, (BACKLOG_CAP + 1..=total).collect::<Vec<_>>());
    // Live messages follow as usual.
    c.agent_post(key, &s.id, "late", "late reply").await;
    assert_eq!(live.next_message(WAIT).await.map(|m| m.seq), Some(total + 1));
}
