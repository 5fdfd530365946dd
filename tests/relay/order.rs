use pigeon_tests::{Client, Stack, StackOptions, free_port};

use crate::{client, demo};

#[tokio::test]
async fn seq_is_gap_free_in_send_order() {
    let (site, key) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    for i in 1..=5 {
        let a = s.post(&format!("s{i}"), &format!("shopper {i}")).await;
        assert_eq!(a.status, 201);
        assert_eq!(a.json["message"]["seq"], i * 2 - 1);
        let a = c.agent_post(key, &s.id, &format!("a{i}"), &format!("agent {i}")).await;
        assert_eq!(a.json["message"]["seq"], i * 2);
    }
    let seqs: Vec<u64> = s.messages(0).await.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
    let after: Vec<u64> = s.messages(7).await.iter().map(|m| m.seq).collect();
    assert_eq!(after, vec![8, 9, 10]);
}

/// The three windows of a thread: after a seq, before a seq, the newest; each oldest first,
/// `has_more` pointing the way the window extends; mixed windows refused.
#[tokio::test]
async fn a_thread_is_read_from_either_end_in_pages() {
    let (site, key) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    for i in 1..=12 {
        assert_eq!(s.post(&format!("w{i}"), &format!("message {i}")).await.status, 201);
    }
    let page = |q: &'static str| {
        let (c, id, token) = (&c, s.id.clone(), s.token.clone());
        async move {
            let a = c.get(&format!("/v1/conversations/{id}/messages?{q}"), Some(&token)).await;
            assert_eq!(a.status, 200, "{q}: {:?}", a.json);
            let seqs: Vec<u64> = a.json["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_u64().unwrap()).collect();
            (seqs, a.json["has_more"].as_bool().unwrap())
        }
    };
    assert_eq!(page("last=5").await, (vec![8, 9, 10, 11, 12], true));
    assert_eq!(page("last=12").await, ((1..=12).collect(), false));
    assert_eq!(page("last=500").await, ((1..=12).collect(), false));
    assert_eq!(page("before=8&limit=5").await, (vec![3, 4, 5, 6, 7], true));
    assert_eq!(page("before=3&limit=5").await, (vec![1, 2], false));
    assert_eq!(page("before=1&limit=5").await, (vec![], false));
    assert_eq!(page("after=10&limit=5").await, (vec![11, 12], false));
    assert_eq!(page("after=0&limit=5").await, (vec![1, 2, 3, 4, 5], true));
    // The same windows for an agent and a teammate's session (the inbox) are the same code;
    // the agent route is checked here.
    let a = c.get(&format!("/v1/agent/conversations/{}/messages?last=2", s.id), Some(key)).await;
    assert_eq!(a.json["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_u64().unwrap()).collect::<Vec<_>>(), [11, 12]);
    for q in ["last=2&after=1", "last=2&limit=2", "before=5&after=1", "before=0", "last=0", "last=501", "before=9007199254740992"] {
        let a = c.get(&format!("/v1/conversations/{}/messages?{q}", s.id), Some(&s.token)).await;
        assert_eq!((a.status, a.code()), (422, "invalid_query"), "{q}: {:?}", a.json);
    }
}

/// The object's SQLite storage survives a relay restart: `seq` continues, never reused.
#[tokio::test]
async fn seq_continues_after_the_relay_restarts() {
    let dir = pigeon_tests::root().join(format!("target/pigeon-state-restart-{}", free_port()));
    let opts = StackOptions { persist_to: Some(dir.to_string_lossy().into()), relay_port: Some(free_port()), ..Default::default() };
    let first = Stack::start(opts.clone());
    let c = Client::new(&first.info.relay);
    let s = c.create_conversation(&first.info.site).await;
    for i in 1..=3 {
        assert_eq!(s.post(&format!("before-{i}"), "before restart").await.status, 201);
    }
    first.stop();

    let second = Stack::start(opts);
    let c = Client::new(&second.info.relay);
    let s = pigeon_tests::ShopperSession { client: c, ..s };
    let a = s.post("after-1", "after restart").await;
    assert_eq!(a.status, 201, "{:?}", a.json);
    assert_eq!(a.json["message"]["seq"], 4);
    // A retry of a message stored before the restart is still recognised.
    assert_eq!(s.post("before-2", "before restart").await.status, 200);
    let seqs: Vec<u64> = s.messages(0).await.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    second.stop();
    let _ = std::fs::remove_dir_all(dir);
}
