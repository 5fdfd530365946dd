//! Five senders at full speed into one conversation for 20 seconds, on a relay of its own
//! with rate limits off: nothing lost, `seq` gap-free, each sender's order kept, and a live
//! subscriber sees every message once, in `seq` order.

use std::time::{Duration, Instant};

use pigeon_tests::{Client, ShopperSession, Stack, StackOptions};

const SENDERS: usize = 5;
const SECONDS: u64 = 20;

#[tokio::test]
async fn five_senders_for_twenty_seconds_lose_nothing_and_keep_order() {
    let stack = Stack::start(StackOptions { vars: vec![("RATE_LIMITS".into(), "off".into())], ..Default::default() });
    let c = Client::new(&stack.info.relay);
    let s = c.create_conversation(&stack.info.site).await;
    let mut live = s.live(0).await;
    assert!(live.backlog().await.is_empty());

    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let mut senders = Vec::new();
    for sender in 0..SENDERS {
        // Each sender is its own browser: own client, own IP.
        let me = ShopperSession { client: Client::new(&stack.info.relay), ..s.clone() };
        senders.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut n = 0;
            while Instant::now() < deadline {
                let client_id = format!("s{sender}-{n}");
                let a = me.post(&client_id, &format!("sender {sender} message {n}")).await;
                assert_eq!(a.status, 201, "{client_id}: {:?}", a.json);
                acked.push((a.json["message"]["seq"].as_u64().unwrap(), n));
                n += 1;
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for (sender, task) in senders.into_iter().enumerate() {
        let mine = task.await.unwrap();
        // A sender's messages got increasing seq, in the order it sent them.
        assert!(mine.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 + 1 == w[1].1), "sender {sender} order");
        acked.extend(mine.into_iter().map(|(seq, _)| seq));
    }
    acked.sort_unstable();
    let total = acked.len() as u64;
    assert!(total > 100, "the senders were fast enough to matter ({total})");
    assert_eq!(acked, (1..=total).collect::<Vec<_>>(), "every ack has its own seq, gap-free");

    // Stored: exactly the acknowledged messages, in seq order.
    let mut stored = Vec::new();
    let mut after = 0;
    loop {
        let page = s.messages(after).await;
        if page.is_empty() {
            break;
        }
        after = page.last().unwrap().seq;
        stored.extend(page);
    }
    assert_eq!(stored.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=total).collect::<Vec<_>>());
    let mut ids: Vec<&str> = stored.iter().map(|m| m.client_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len() as u64, total, "no client_id stored twice");

    // The live subscriber saw each one once, in order.
    let mut seen = Vec::new();
    while (seen.len() as u64) < total {
        match live.next_message(Duration::from_secs(10)).await {
            Some(m) => seen.push(m.seq),
            None => break,
        }
    }
    assert_eq!(seen, (1..=total).collect::<Vec<_>>(), "live order");
    eprintln!("{total} messages from {SENDERS} senders in {SECONDS} s");
    stack.stop();
}
