use reqwest::Method;
use serde_json::json;

use crate::{client, demo, knobs};
use pigeon_tests::{Client, shared};

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

/// Guessing: random, sequential, truncated and swapped conversation id / token pairs, for
/// reads and writes, and other sites' agent keys. Every one is refused by the token or key
/// check itself: `404 not_found` (shopper routes) or `401 unauthorized` (agent routes),
/// nothing else. It runs on the knobs relay, whose rate limits are off, so no guess is
/// answered by the per-IP limiter instead (that one is tested below).
/// `make test` tries 2,000; `make test-hard` (PIGEON_HARD=1) 100,000 (about 9 minutes here).
#[tokio::test]
async fn guessed_ids_and_tokens_open_nothing() {
    let info = &knobs().info;
    let (site, key) = (info.site.as_str(), info.agent_key.as_str());
    let client = || Client::new(&info.relay);
    let c = client();
    let a = c.create_conversation(site).await;
    let b = c.create_conversation(site).await;
    a.post("a1", "secret of A").await;
    b.post("b1", "secret of B").await;
    let total: usize = if std::env::var("PIGEON_HARD").is_ok() { 100_000 } else { 2_000 };

    let mut rand = pigeon_tests::xorshift(0x2545_f491_4f6c_dd1d ^ total as u64);
    let hex = |n: u64, len: usize| format!("{:016x}{:016x}{:016x}{:016x}", n, n.rotate_left(17), n.rotate_left(31), n.rotate_left(47))[..len].to_owned();
    let bump = |id: &str, by: u64| {
        let n = u128::from_str_radix(id, 16).unwrap().wrapping_add(u128::from(by));
        format!("{n:032x}")
    };
    let mut tries = Vec::with_capacity(total);
    for i in 0..total {
        let r = rand();
        let (id, token, agent) = match i % 8 {
            0 => (hex(r, 32), hex(rand(), 64), None),                           // random pair
            1 => (bump(&a.id, 1 + r % 1000), a.token.clone(), None),            // neighbours of a real id
            2 => (a.id.clone(), b.token.clone(), None),                         // swapped
            3 => (a.id[..(r % 32) as usize].to_owned(), a.token.clone(), None),  // truncated id
            4 => (a.id.clone(), a.token[..(r % 64) as usize].to_owned(), None),  // truncated token
            5 => (a.id.clone(), hex(r, 64), None),                              // real id, random token
            6 => (a.id.clone(), format!("{}{}", &a.token[..63], if a.token.ends_with('0') { '1' } else { '0' }), None), // one digit off
            _ => (a.id.clone(), String::new(), Some(info.other_agent_key.clone())), // another site's agent key
        };
        tries.push((i, id, token, agent));
    }

    let opened = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let work = std::sync::Arc::new(std::sync::Mutex::new(tries));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (c, work, opened) = (client(), work.clone(), opened.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let Some((i, id, token, agent)) = work.lock().unwrap().pop() else { break };
                let answer = match (&agent, i % 3) {
                    (Some(k), 0) => c.agent_messages(k, &id).await,
                    (Some(k), _) => c.agent_post(k, &id, &format!("x{i}"), "intruder").await,
                    (None, 0) => c.get(&format!("/v1/conversations/{id}/messages"), Some(&token)).await,
                    (None, 1) => c.json(Method::POST, &format!("/v1/conversations/{id}/messages"), Some(&token), &json!({"client_id": format!("x{i}"), "body": "intruder"})).await,
                    (None, _) => c.send(Method::DELETE, &format!("/v1/conversations/{id}"), &[("authorization", &format!("Bearer {token}"))], None).await,
                };
                let refused = if agent.is_some() { (401, "unauthorized") } else { (404, "not_found") };
                if (answer.status, answer.code()) != refused {
                    opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    eprintln!("try {i}: {id} answered {} {:?}", answer.status, answer.json);
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    assert_eq!(opened.load(std::sync::atomic::Ordering::Relaxed), 0, "every guess is refused by the token or key check");
    // Both conversations are exactly as they were, and their owners still get in.
    let bodies = |m: Vec<pigeon_protocol::Message>| m.into_iter().map(|m| m.body).collect::<Vec<_>>();
    assert_eq!(bodies(a.messages(0).await), ["secret of A"]);
    assert_eq!(bodies(b.messages(0).await), ["secret of B"]);
    assert_eq!(c.agent_messages(key, &a.id).await.status, 200);
}

/// With limits on (the default), one visitor's writes are cut off by the per-IP limiter
/// (60 per 10 s per site) before any token is checked: guessing costs the guesser time.
#[tokio::test]
async fn the_per_ip_limiter_answers_429_before_any_token_check() {
    let (site, _) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    // 60 per window; a window may turn over during the run, so count up to the first 429.
    let mut refused = 0;
    let limited = loop {
        let i = refused;
        let a = c.json(Method::POST, &format!("/v1/conversations/{}/messages", s.id), Some(&"f".repeat(64)), &json!({"client_id": format!("g{i}"), "body": "guess"})).await;
        match a.status {
            404 => refused += 1,
            429 => break a,
            other => panic!("guess {i} answered {other} {:?}", a.json),
        }
        assert!(refused < 120, "no 429 after {refused} writes");
    };
    assert!(refused >= 60, "limited after only {refused} writes");
    assert_eq!(limited.code(), "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
    assert!(s.messages(0).await.is_empty());
}
