//! Shopper messages over the live socket (`send` → `ack` / `refused`): the POST's guarantees
//! on the other path. Stored once per `client_id` whichever path and however many at once,
//! acknowledged only once stored, broadcast to every socket, the same validation and limits
//! with the socket left open, and nothing from a socket that has not said `hello`.

use std::time::Duration;

use pigeon_protocol::{Message, ServerFrame};
use pigeon_tests::{Event, Live, ShopperSession};
use serde_json::json;

use crate::{client, demo};

fn relay() -> String {
    pigeon_tests::shared().info.relay.clone()
}

async fn live(s: &ShopperSession) -> Live {
    let mut live = Live::connect(&relay(), &s.id, &s.token, 0).await;
    live.backlog().await;
    live
}

fn send(client_id: &str, body: &str) -> String {
    json!({ "type": "send", "client_id": client_id, "body": body }).to_string()
}

/// The answer to the `send` of `client_id`, skipping the broadcast `message` frames.
async fn answer(live: &mut Live, client_id: &str) -> ServerFrame {
    loop {
        match live.next(Duration::from_secs(10)).await {
            Event::Frame(ServerFrame::Message { .. }) => continue,
            Event::Frame(f @ (ServerFrame::Ack { .. } | ServerFrame::Refused { .. })) => {
                let id = match &f {
                    ServerFrame::Ack { client_id, .. } | ServerFrame::Refused { client_id, .. } => client_id.clone(),
                    _ => unreachable!(),
                };
                assert_eq!(id, client_id, "answers come in order");
                return f;
            }
            other => panic!("expected the answer to {client_id}, got {other:?}"),
        }
    }
}

async fn acked(live: &mut Live, client_id: &str) -> (Message, bool) {
    match answer(live, client_id).await {
        ServerFrame::Ack { message, created, .. } => (message, created),
        other => panic!("{client_id}: expected ack, got {other:?}"),
    }
}

async fn refused(live: &mut Live, client_id: &str) -> (String, Option<u32>) {
    match answer(live, client_id).await {
        ServerFrame::Refused { code, retry_after, .. } => (code, retry_after),
        other => panic!("{client_id}: expected refused, got {other:?}"),
    }
}

#[tokio::test]
async fn a_message_sent_on_the_socket_is_stored_once_acknowledged_and_broadcast() {
    let s = client().create_conversation(demo().0).await;
    let (mut a, mut b) = (live(&s).await, live(&s).await);
    a.send_text(&send("s1", "Sent over the socket")).await;
    let (stored, created) = acked(&mut a, "s1").await;
    assert!(created);
    assert_eq!((stored.seq, stored.body.as_str(), stored.client_id.as_str()), (1, "Sent over the socket", "s1"));
    assert_eq!(stored.author, pigeon_protocol::Author::Shopper);
    assert_eq!(b.next_message(Duration::from_secs(5)).await.map(|m| m.id), Some(stored.id.clone()), "every socket gets it");
    // The same client id again, on the socket or by POST: the stored message, not a second.
    a.send_text(&send("s1", "Sent over the socket")).await;
    let (again, created) = acked(&mut a, "s1").await;
    assert_eq!((again.id.as_str(), created), (stored.id.as_str(), false));
    let posted = s.post("s1", "Sent over the socket").await;
    assert_eq!((posted.status, posted.json["message"]["id"].as_str()), (200, Some(stored.id.as_str())));
    // Another body under the same id is a conflict on either path.
    a.send_text(&send("s1", "Something else")).await;
    assert_eq!(refused(&mut a, "s1").await.0, "client_id_conflict");
    assert_eq!(s.post("s1", "Something else").await.status, 409);
    // A POSTed message's id is taken on the socket too.
    assert_eq!(s.post("p1", "Posted").await.status, 201);
    a.send_text(&send("p1", "Posted")).await;
    assert!(!acked(&mut a, "p1").await.1);
    let thread = s.messages(0).await;
    assert_eq!(thread.iter().map(|m| (m.seq, m.client_id.as_str())).collect::<Vec<_>>(), [(1, "s1"), (2, "p1")]);
}

#[tokio::test]
async fn duplicates_at_once_on_sockets_and_posts_store_one_message() {
    let s = client().create_conversation(demo().0).await;
    let mut sockets = Vec::new();
    for _ in 0..4 {
        sockets.push(live(&s).await);
    }
    for round in 0..5 {
        let id = format!("dup{round}");
        let body = format!("Exactly once, round {round}");
        for live in &mut sockets {
            live.send_text(&send(&id, &body)).await;
        }
        let posts = futures_util::future::join_all((0..4).map(|_| s.post(&id, &body))).await;
        let mut ids: Vec<String> = posts.iter().map(|p| p.json["message"]["id"].as_str().unwrap().to_owned()).collect();
        let mut created = posts.iter().filter(|p| p.status == 201).count();
        for live in &mut sockets {
            let (message, new) = acked(live, &id).await;
            ids.push(message.id);
            created += usize::from(new);
        }
        ids.dedup();
        assert_eq!((ids.len(), created), (1, 1), "round {round}: one message for 8 sends, created once");
    }
    let thread = s.messages(0).await;
    assert_eq!(thread.len(), 5);
    assert!(thread.iter().enumerate().all(|(i, m)| m.seq == i as u64 + 1), "gap-free");
}

#[tokio::test]
async fn bad_messages_are_refused_with_the_posts_codes_and_the_socket_stays_open() {
    let s = client().create_conversation(demo().0).await;
    let mut a = live(&s).await;
    for (frame, code) in [
        (send("e1", "   "), "empty_message"),
        (send("e2", &"x".repeat(5_000)), "message_too_long"),
        (send("bad id with spaces", "hi"), "invalid_client_id"),
        (send("e3", "nul \u{0} inside"), "invalid_message"),
        (json!({ "type": "send", "client_id": "e4", "body": "hi", "context": { "page": { "url": "https://shop.example/", "title": "x".repeat(3_000) } } }).to_string(), "invalid_context"),
    ] {
        let id = serde_json::from_str::<serde_json::Value>(&frame).unwrap()["client_id"].as_str().unwrap().to_owned();
        a.send_text(&frame).await;
        assert_eq!(refused(&mut a, &id).await.0, code, "{frame}");
    }
    a.send_text(r#"{"type":"ping"}"#).await;
    assert!(matches!(a.next(Duration::from_secs(5)).await, Event::Frame(ServerFrame::Pong)), "still open");
    assert!(s.messages(0).await.is_empty(), "nothing stored");
    // A send without a client id is no frame at all.
    a.send_text(r#"{"type":"send","body":"hi"}"#).await;
    a.expect_refused("bad_frame", 4400).await;
}

#[tokio::test]
async fn a_socket_that_has_not_said_hello_sends_nothing() {
    let s = client().create_conversation(demo().0).await;
    let mut silent = Live::open(&relay(), &s.id).await;
    silent.send_text(&send("x1", "let me in")).await;
    silent.expect_refused("hello_first", 4401).await;
    // A wrong token's socket is closed before it can send.
    let mut wrong = Live::connect(&relay(), &s.id, &"f".repeat(64), 0).await;
    wrong.send_text(&send("x2", "let me in")).await;
    wrong.expect_refused("not_found", 4404).await;
    assert!(s.messages(0).await.is_empty());
}

#[tokio::test]
async fn the_conversations_message_limit_holds_on_the_socket() {
    let s = client().create_conversation(demo().0).await;
    let mut a = live(&s).await;
    for i in 0..30 {
        a.send_text(&send(&format!("r{i}"), &format!("burst {i}"))).await;
    }
    let (mut stored, mut limited) = (0, 0);
    for i in 0..30 {
        match answer(&mut a, &format!("r{i}")).await {
            ServerFrame::Ack { .. } => stored += 1,
            ServerFrame::Refused { code, retry_after, .. } => {
                assert_eq!(code, "rate_limited");
                assert!(retry_after.is_some_and(|s| s >= 1));
                limited += 1;
            }
            _ => unreachable!(),
        }
    }
    assert!((20..=22).contains(&stored) && limited == 30 - stored, "{stored} stored, {limited} limited");
    assert_eq!(s.messages(0).await.len(), stored);
    // A stored message's retry is answered, never limited.
    a.send_text(&send("r0", "burst 0")).await;
    assert!(!acked(&mut a, "r0").await.1);
}
