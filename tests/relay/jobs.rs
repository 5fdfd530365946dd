//! The conversation's deferred jobs (index, notifications) when a message arrives while one
//! of them is running: its effect still reaches that message. Runs on the knobs relay, which
//! holds every job open for `JOB_HOLD_MS` after its work, so "while it runs" is seconds wide.

use std::time::{Duration, Instant};

use pigeon_tests::{Client, mailbox};

use crate::{JOB_HOLD_MS, knobs};

const MERCHANT: &str = "owner@pigeon-outfitters.test";

/// The conversation's row in the merchant's list: `last_seq` and preview.
async fn indexed(c: &Client, key: &str, site: &str, id: &str) -> Option<(u64, String)> {
    let list = c.agent_list(key, site, "open").await.json;
    let row = list["conversations"].as_array()?.iter().find(|r| r["id"] == id)?.clone();
    Some((row["last_seq"].as_u64()?, row["last_message_preview"].as_str().unwrap_or_default().to_owned()))
}

async fn wait_indexed(c: &Client, key: &str, site: &str, id: &str, seq: u64, within: Duration) -> Result<Instant, Option<(u64, String)>> {
    let start = Instant::now();
    loop {
        let row = indexed(c, key, site, id).await;
        if row.as_ref().is_some_and(|(s, _)| *s == seq) {
            return Ok(Instant::now());
        }
        if start.elapsed() > within {
            return Err(row);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_message_during_an_index_write_is_indexed_too() {
    let info = &knobs().info;
    let c = Client::new(&info.relay);
    let s = c.create_conversation(&info.site).await;
    assert_eq!(s.post("m1", "first").await.status, 201);
    // The index job wrote seq 1 and is now held open (JOB_HOLD_MS) before it finishes.
    let written = wait_indexed(&c, &info.agent_key, &info.site, &s.id, 1, Duration::from_secs(10)).await.expect("seq 1 indexed");
    assert_eq!(s.post("m2", "second, while the index job runs").await.status, 201);
    assert!(written.elapsed() < Duration::from_millis(JOB_HOLD_MS / 2), "m2 arrived while the job was still running");

    let latest = wait_indexed(&c, &info.agent_key, &info.site, &s.id, 2, Duration::from_millis(JOB_HOLD_MS * 3 + 5_000)).await;
    assert!(latest.is_ok(), "the merchant's list shows the latest message; it shows {:?}", latest.err());
    let (_, preview) = indexed(&c, &info.agent_key, &info.site, &s.id).await.unwrap();
    assert_eq!(preview, "second, while the index job runs");
}

/// A long burst: the merchant's email goes out at the cap (5x the 1 s quiet time) while the
/// shopper is still writing. A message sent while that email is being sent gets its own.
#[tokio::test]
async fn a_message_during_the_merchant_email_gets_the_next_email() {
    let info = &knobs().info;
    let c = Client::new(&info.relay);
    let s = c.create_conversation(&info.site).await;
    let start = Instant::now();
    let mut n = 0;
    let first = loop {
        n += 1;
        assert_eq!(s.post(&format!("b{n}"), &format!("burst {n}")).await.status, 201);
        let mails = mailbox::sent_for(&c, &s.id).await;
        if let Some(first) = mails.into_iter().find(|m| m.to == MERCHANT) {
            break first;
        }
        assert!(start.elapsed() < Duration::from_secs(40), "no merchant email during a {n}-message burst");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    // The email is out; its job is held open now. The shopper adds one more line.
    let seen = Instant::now();
    assert_eq!(s.post("last", "the last words of the burst").await.status, 201);
    assert!(seen.elapsed() < Duration::from_millis(JOB_HOLD_MS / 2), "sent while the email job was still running");
    assert!(!first.text().contains("the last words of the burst"));

    let mails = mailbox::wait_for(&c, &s.id, MERCHANT, 2, Duration::from_millis(JOB_HOLD_MS * 4 + 10_000)).await;
    assert!(mails[1].text().contains("the last words of the burst"), "{}", mails[1].text());
}
