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
