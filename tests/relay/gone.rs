//! A conversation that is gone (deleted by the shopper, erased by retention) or was never
//! there answers what a browser can read: `404 not_found` with CORS headers for an origin
//! allowed to ask, and a live socket closed with 4404. Foreign origins still get 403 without
//! CORS headers.

use std::time::Duration;

use pigeon_tests::{Answer, Client, Live, ShopperSession, shared};
use reqwest::Method;

use crate::{client, demo};

const FOREIGN: &str = "https://evil.example";

async fn delete(s: &ShopperSession) {
    let auth = format!("Bearer {}", s.token);
    let del = s.client.send(Method::DELETE, &format!("/v1/conversations/{}", s.id), &[("authorization", &auth)], None).await;
    assert_eq!(del.status, 204);
}

/// GET and POST on the conversation's messages, and the preflight of the POST, from `origin`.
async fn ask(c: &Client, id: &str, token: &str, origin: &str) -> [Answer; 3] {
    let path = format!("/v1/conversations/{id}/messages");
    let auth = format!("Bearer {token}");
    let pre = c.send(Method::OPTIONS, &path, &[("origin", origin), ("access-control-request-method", "POST")], None).await;
    let get = c.send(Method::GET, &path, &[("origin", origin), ("authorization", &auth)], None).await;
    let post = c
        .send(
            Method::POST,
            &path,
            &[("origin", origin), ("authorization", &auth), ("content-type", "application/json")],
            Some(br#"{"client_id":"m9","body":"anyone there?"}"#.to_vec()),
        )
        .await;
    [pre, get, post]
}

fn cors(a: &Answer) -> Option<&str> {
    a.headers.get("access-control-allow-origin").map(|v| v.to_str().unwrap())
}

/// What the widget reads for a conversation that is not (or no longer) there.
fn assert_readable_404(answers: &[Answer; 3], origin: &str, what: &str) {
    let [pre, get, post] = answers;
    assert_eq!((pre.status, cors(pre)), (204, Some(origin)), "{what}: preflight");
    for a in [get, post] {
        assert_eq!((a.status, a.code(), cors(a)), (404, "not_found", Some(origin)), "{what}: {:?}", a.json);
    }
}

fn assert_refused_foreign(answers: &[Answer; 3], what: &str) {
    for a in answers {
        assert_eq!((a.status, cors(a)), (403, None), "{what}: {:?}", a.json);
    }
}

#[tokio::test]
async fn a_deleted_conversation_answers_404_with_the_sites_cors_headers() {
    let (site, _) = demo();
    let shop = &shared().info.shop;
    let c = client();
    let s = c.create_conversation(site).await;
    s.post("m1", "delete me").await;
    delete(&s).await;

    assert_readable_404(&ask(&c, &s.id, &s.token, shop).await, shop, "deleted, the site's origin");
    assert_refused_foreign(&ask(&c, &s.id, &s.token, FOREIGN).await, "deleted, a foreign origin");
    // Another site's origin learns nothing about this site's conversations: for it, a live
    // one, a deleted one and one never seen answer alike.
    let other = "https://other-shop.test";
    let never = "0123456789abcdef0123456789abcdef";
    let unknown = ask(&c, never, &s.token, other).await;
    let live = c.create_conversation(site).await;
    for (what, answers) in [("deleted", ask(&c, &s.id, &s.token, other).await), ("live", ask(&c, &live.id, &live.token, other).await)] {
        assert_readable_404(&answers, other, &format!("{what}, another site's origin"));
        for (a, u) in answers.iter().zip(&unknown) {
            assert_eq!((a.status, &a.json, cors(a)), (u.status, &u.json, cors(u)), "{what} looks unknown to another site's origin");
        }
    }
    // Without an Origin: the same 404 as a wrong token, and it stays gone.
    let wrong = c.get(&format!("/v1/conversations/{}/messages", c.create_conversation(site).await.id), Some(&"f".repeat(64))).await;
    let plain = c.get(&format!("/v1/conversations/{}/messages", s.id), Some(&s.token)).await;
    assert_eq!((plain.status, &plain.json), (404, &wrong.json));
    assert_eq!(s.post("m2", "still there?").await.status, 404);
}

#[tokio::test]
async fn an_unknown_conversation_answers_like_a_wrong_token() {
    let (site, _) = demo();
    let shop = &shared().info.shop;
    let c = client();
    let never = "0123456789abcdef0123456789abcdef";
    assert_readable_404(&ask(&c, never, &"f".repeat(64), shop).await, shop, "unknown, the site's origin");
    // The other site's page gets the same (it cannot tell whose id this is, or whether it exists).
    assert_readable_404(&ask(&c, never, &"f".repeat(64), "https://other-shop.test").await, "https://other-shop.test", "unknown, another site's origin");
    assert_refused_foreign(&ask(&c, never, &"f".repeat(64), FOREIGN).await, "unknown, a foreign origin");
    assert_refused_foreign(&ask(&c, never, &"f".repeat(64), "null").await, "unknown, the null origin");

    let s = c.create_conversation(site).await;
    let wrong = ask(&c, &s.id, &"f".repeat(64), shop).await;
    let unknown = ask(&c, never, &"f".repeat(64), shop).await;
    for (w, u) in wrong.iter().zip(&unknown).skip(1) {
        assert_eq!((w.status, &w.json, cors(w)), (u.status, &u.json, cors(u)), "a wrong token and an unknown id look the same");
    }
}

#[tokio::test]
async fn the_live_socket_of_a_gone_or_unknown_conversation_is_closed_with_4404() {
    let (site, _) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    s.post("m1", "delete me").await;
    delete(&s).await;
    // The shopper's own token, after the delete: refused as gone, not as a network failure.
    Live::connect(&c.relay, &s.id, &s.token, 1).await.expect_refused("not_found", 4404).await;
    Live::connect(&c.relay, "0123456789abcdef0123456789abcdef", &"f".repeat(64), 0).await.expect_refused("not_found", 4404).await;
}

#[tokio::test]
async fn a_conversation_erased_by_retention_answers_404_with_the_sites_cors_headers() {
    let shop = &shared().info.shop;
    let c = client();
    // The "brief" test site (the shop's origins) keeps conversations for about two seconds.
    let brief = c.create_conversation("brief").await;
    brief.post("m1", "forget me").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cron = c.get("/cdn-cgi/local/scheduled?cron=17+3+*+*+*", None).await;
    assert!(cron.status < 300, "scheduled handler ran: {}", cron.status);

    assert_readable_404(&ask(&c, &brief.id, &brief.token, shop).await, shop, "erased, the site's origin");
    assert_refused_foreign(&ask(&c, &brief.id, &brief.token, FOREIGN).await, "erased, a foreign origin");
    Live::connect(&c.relay, &brief.id, &brief.token, 1).await.expect_refused("not_found", 4404).await;
}
