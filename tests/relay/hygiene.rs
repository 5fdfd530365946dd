//! Socket hygiene on the conversation's live socket: silence, crowds, floods and giants are
//! each closed with their own code, and none of them disturbs a well-behaved socket.

use std::time::{Duration, Instant};


use pigeon_protocol::ServerFrame;
use pigeon_tests::{Event, Live};

use crate::{client, demo};

async fn conversation() -> pigeon_tests::ShopperSession {
    client().create_conversation(demo().0).await
}

fn relay() -> String {
    pigeon_tests::shared().info.relay.clone()
}

#[tokio::test]
async fn a_socket_that_never_says_hello_is_closed_and_a_talking_one_stays() {
    let s = conversation().await;
    let started = Instant::now();
    let mut silent = Live::open(&relay(), &s.id).await;
    let mut talking = Live::connect(&relay(), &s.id, &s.token, 0).await;
    assert_eq!(talking.backlog().await.len(), 0);
    match silent.next(Duration::from_secs(25)).await {
        Event::Frame(ServerFrame::Error { code, .. }) => assert_eq!(code, "hello_timeout"),
        other => panic!("expected hello_timeout, got {other:?}"),
    }
    assert!(matches!(silent.next(Duration::from_secs(5)).await, Event::Closed { code: 4408 }));
    assert!(started.elapsed() >= Duration::from_secs(9), "not before its 10 s");
    // The socket that said hello is still live.
    s.post("h1", "still here?").await;
    assert_eq!(talking.next_message(Duration::from_secs(5)).await.map(|m| m.body), Some("still here?".into()));
}

#[tokio::test]
async fn a_conversation_holds_32_sockets_and_refuses_the_next() {
    let s = conversation().await;
    let mut open = Vec::new();
    for _ in 0..32 {
        let mut live = Live::connect(&relay(), &s.id, &s.token, 0).await;
        live.backlog().await;
        open.push(live);
    }
    let mut crowd = Live::connect(&relay(), &s.id, &s.token, 0).await;
    crowd.expect_refused("too_many_sockets", 4429).await;
    // Every one that got in still gets each message.
    s.post("c1", "to all 32").await;
    for live in &mut open {
        assert_eq!(live.next_message(Duration::from_secs(5)).await.map(|m| m.body), Some("to all 32".into()));
    }
    // One leaves: there is room again (once the relay has seen it go).
    open.pop().unwrap().close().await;
    for attempt in 0.. {
        let mut again = Live::connect(&relay(), &s.id, &s.token, 0).await;
        match again.next(Duration::from_secs(5)).await {
            Event::Frame(ServerFrame::Ready { .. } | ServerFrame::Message { .. }) => break,
            Event::Frame(ServerFrame::Error { code, .. }) if code == "too_many_sockets" && attempt < 20 => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => panic!("expected room after one left, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_flood_of_frames_closes_the_socket() {
    let s = conversation().await;
    let mut live = Live::connect(&relay(), &s.id, &s.token, 0).await;
    live.backlog().await;
    for _ in 0..200 {
        live.send_text(r#"{"type":"ping"}"#).await;
    }
    let mut pongs = 0;
    loop {
        match live.next(Duration::from_secs(10)).await {
            Event::Frame(ServerFrame::Pong) => pongs += 1,
            Event::Frame(ServerFrame::Error { code, .. }) => {
                assert_eq!(code, "too_many_frames");
                break;
            }
            other => panic!("expected pongs then too_many_frames, got {other:?}"),
        }
    }
    assert!(matches!(live.next(Duration::from_secs(5)).await, Event::Closed { code: 4429 }));
    // hello was the window's first frame (or the window turned just after it): 39 or 40
    // pings answered, not 200.
    assert!((39..=40).contains(&pongs), "{pongs} pongs");
    // A socket that keeps to the limit is never closed.
    let mut calm = Live::connect(&relay(), &s.id, &s.token, 0).await;
    calm.backlog().await;
    for _ in 0..3 {
        for _ in 0..30 {
            calm.send_text(r#"{"type":"ping"}"#).await;
        }
        for _ in 0..30 {
            assert!(matches!(calm.next(Duration::from_secs(5)).await, Event::Frame(ServerFrame::Pong)));
        }
        tokio::time::sleep(Duration::from_millis(1_100)).await;
    }
}

#[tokio::test]
async fn an_oversized_frame_is_refused_before_it_is_read() {
    let s = conversation().await;
    let padded = |size: usize| format!(r#"{{"type":"ping"}}{}"#, " ".repeat(size));
    for size in [64 * 1024 + 1, 1024 * 1024, 20 * 1024 * 1024] {
        let mut live = Live::connect(&relay(), &s.id, &s.token, 0).await;
        live.backlog().await;
        live.send_text(&padded(size)).await;
        live.expect_refused("frame_too_large", 1009).await;
    }
    // Over workerd's own limit (32 MiB) the runtime closes with 1009 before anything reads
    // it, and stops reading: the close is waiting as soon as the sender gives up sending.
    let mut live = Live::connect(&relay(), &s.id, &s.token, 0).await;
    live.backlog().await;
    let _ = tokio::time::timeout(Duration::from_secs(3), live.send_text(&padded(33 * 1024 * 1024))).await;
    match live.next(Duration::from_secs(5)).await {
        Event::Closed { code } => assert_eq!(code, 1009),
        Event::Frame(ServerFrame::Error { code, .. }) => assert_eq!(code, "frame_too_large"),
        other => panic!("33 MiB: expected a close 1009, got {other:?}"),
    }
    // A frame just within the limit is read.
    let mut live = Live::connect(&relay(), &s.id, &s.token, 0).await;
    live.backlog().await;
    live.send_text(&padded(60 * 1024)).await;
    assert!(matches!(live.next(Duration::from_secs(5)).await, Event::Frame(ServerFrame::Pong)));
    assert_eq!(s.messages(0).await.len(), 0, "nothing stored");
}
