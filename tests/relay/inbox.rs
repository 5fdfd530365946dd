//! The merchant's inbox API against the real relay: sign-in by emailed link, sessions,
//! same-origin checks, the list and a conversation with the shopper's context, replies
//! (quiet ones too), close and reopen, the live socket, and one site's teammates never
//! reaching another site's conversations.

use std::time::Duration;

use pigeon_protocol::InboxFrame;
use pigeon_tests::inbox::{self, Teammate};
use pigeon_tests::{Client, mailbox};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::{client, knobs};

const OWNER: &str = "owner@pigeon-outfitters.test";
const AGENT: &str = "sam@pigeon-outfitters.test";
const OTHER_OWNER: &str = "owner@other-shop.test";
const HUSHED_OWNER: &str = "owner@hushed-shop.test";

/// A teammate signed in once for this test binary (links per address are limited), with a
/// client of the calling test's own: each test has its own runtime, and a connection pooled
/// in one that has ended cannot serve another.
async fn signed_in(once: &'static OnceCell<String>, email: &str) -> Teammate {
    let cookie = once.get_or_init(|| async { Teammate::sign_in(&client(), email).await.cookie }).await;
    Teammate { client: client(), cookie: cookie.clone() }
}

/// The demo shop's owner.
pub async fn owner() -> Teammate {
    static ONE: OnceCell<String> = OnceCell::const_new();
    signed_in(&ONE, OWNER).await
}

/// The other shop's owner.
pub async fn other_owner() -> Teammate {
    static ONE: OnceCell<String> = OnceCell::const_new();
    signed_in(&ONE, OTHER_OWNER).await
}

/// The owner of the shop whose inbox only one test opens.
async fn hushed_owner() -> Teammate {
    static ONE: OnceCell<String> = OnceCell::const_new();
    signed_in(&ONE, HUSHED_OWNER).await
}

/// Sam, the demo shop's agent.
pub async fn sam() -> Teammate {
    static ONE: OnceCell<String> = OnceCell::const_new();
    signed_in(&ONE, AGENT).await
}

pub async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never: {what}");
}

fn row<'a>(list: &'a Value, id: &str) -> Option<&'a Value> {
    list["conversations"].as_array()?.iter().find(|c| c["id"] == id)
}

#[tokio::test]
async fn a_link_signs_in_once_and_the_answer_never_tells_who_is_a_teammate() {
    let c = client();
    // Unknown and known addresses get the same answer; only the teammate gets mail.
    let stranger = "nobody@pigeon-outfitters.test";
    let a = inbox::request_link(&c, stranger).await;
    assert_eq!((a.status, &a.json), (204, &Value::Null));
    let token = inbox::link_for(&c, AGENT).await;
    assert!(mailbox::sent_to(&c, stranger, inbox::SIGNIN_SUBJECT).await.is_empty(), "no mail to a stranger");

    let opened = inbox::open(&c, &token).await;
    assert_eq!(opened.status, 200, "{:?}", opened.json);
    assert_eq!(opened.json["email"], AGENT);
    assert_eq!(opened.json["sites"][0]["site"], "demo");
    assert_eq!(opened.json["sites"][0]["name"], "Sam");
    assert_eq!(opened.json["sites"][0]["role"], "agent");
    let cookie = opened.headers["set-cookie"].to_str().unwrap().to_owned();
    for part in ["pigeon_inbox=", "HttpOnly", "SameSite=Strict", "Path=/v1/inbox", "Max-Age=2592000"] {
        assert!(cookie.contains(part), "cookie {cookie:?} lacks {part}");
    }
    assert!(!opened.json.to_string().contains(&cookie[13..50]), "the session token is only in the cookie");

    // The same link again, an edited one, and none: refused alike.
    for t in [token.clone(), format!("{}0", &token[..token.len() - 1]), "x".into()] {
        let again = inbox::open(&c, &t).await;
        assert_eq!((again.status, again.code()), (401, "link_invalid"), "{t}");
    }
    let bad = inbox::request_link(&c, "not an address").await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_email"));
}

#[tokio::test]
async fn a_link_expires() {
    let c = Client::new(&knobs().info.relay);
    let token = inbox::link_for(&c, AGENT).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let late = inbox::open(&c, &token).await;
    assert_eq!((late.status, late.code()), (401, "link_invalid"));
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_relay() {
    let c = client();
    let sam = Teammate::sign_in(&c, AGENT).await;
    assert_eq!(sam.get("/v1/inbox/me").await.status, 200);
    let out = sam.post("/v1/inbox/signout", None).await;
    assert_eq!(out.status, 204);
    assert!(out.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    // The old cookie, kept by an attacker, opens nothing.
    let me = sam.get("/v1/inbox/me").await;
    assert_eq!((me.status, me.code()), (401, "signed_out"));
    assert_eq!(sam.get("/v1/inbox/sites/demo/conversations").await.status, 401);
}

#[tokio::test]
async fn only_the_inbox_page_may_change_anything() {
    let c = client();
    let owner = owner().await;
    let s = c.create_conversation("demo").await;
    s.post("m1", "hello").await;
    let reply = json!({ "client_id": "r1", "body": "hi" }).to_string().into_bytes();
    let path = format!("/v1/inbox/conversations/{}/messages", s.id);
    for origin in [None, Some("https://evil.test"), Some("null")] {
        let mut headers = vec![("cookie", owner.cookie.as_str()), ("content-type", "application/json")];
        if let Some(o) = origin {
            headers.push(("origin", o));
        }
        let a = c.send(Method::POST, &path, &headers, Some(reply.clone())).await;
        assert_eq!((a.status, a.code()), (403, "origin_not_allowed"), "{origin:?}");
    }
    // No preflight is ever granted.
    let pre = c.send(Method::OPTIONS, &path, &[("origin", "https://evil.test"), ("access-control-request-method", "POST")], None).await;
    assert_eq!(pre.status, 403);
    assert!(pre.headers.get("access-control-allow-origin").is_none());
    // Nothing was stored.
    assert_eq!(s.messages(0).await.len(), 1);
    // Without the cookie: signed out.
    let anon = c.json(Method::GET, "/v1/inbox/sites/demo/conversations", None, &json!({})).await;
    assert_eq!((anon.status, anon.code()), (401, "signed_out"));
}

#[tokio::test]
async fn the_inbox_lists_shows_and_answers_a_conversation() {
    let c = client();
    let owner = owner().await;
    // An earlier conversation of the same shopper, and this one with context and address.
    let earlier = c.create_conversation("demo").await;
    earlier.post("e1", "Where is my order?").await;
    let put = c.json(Method::PUT, &format!("/v1/conversations/{}/contact", earlier.id), Some(&earlier.token), &json!({ "email": "anna@example.com" })).await;
    assert_eq!(put.status, 204);
    let s = c.create_conversation("demo").await;
    let context = json!({ "page": { "url": "https://shop.test/boots", "title": "Boots", "referrer": "https://search.test/" },
        "cart": { "currency": "EUR", "total": 5998, "items": [{ "name": "Boot", "quantity": 2, "unit_price": 2999 }] },
        "locale": "de-DE", "time_zone": "Europe/Berlin" });
    let a = c.json(Method::POST, &format!("/v1/conversations/{}/messages", s.id), Some(&s.token), &json!({ "client_id": "m1", "body": "Do these run small?", "context": context })).await;
    assert_eq!(a.status, 201);
    let put = c.json(Method::PUT, &format!("/v1/conversations/{}/contact", s.id), Some(&s.token), &json!({ "email": "anna@example.com" })).await;
    assert_eq!(put.status, 204);

    eventually("the row with preview, unread count, address and cart", async || {
        let list = owner.get("/v1/inbox/sites/demo/conversations").await.json;
        row(&list, &s.id).is_some_and(|r| {
            r["unread_count"] == 1 && r["last_message_preview"] == "Do these run small?" && r["contact_email"] == "anna@example.com" && r["context"]["cart"]["total"] == 5998
        })
    })
    .await;

    let details = owner.get(&format!("/v1/inbox/conversations/{}", s.id)).await;
    assert_eq!(details.status, 200, "{:?}", details.json);
    assert_eq!(details.json["context"]["page"]["referrer"], "https://search.test/");
    assert_eq!(details.json["context"]["time_zone"], "Europe/Berlin");
    assert_eq!(details.json["contact_email"], "anna@example.com");
    let earlier_ids: Vec<&Value> = details.json["earlier"].as_array().unwrap().iter().map(|e| &e["id"]).collect();
    assert!(earlier_ids.contains(&&json!(earlier.id)), "earlier conversations: {earlier_ids:?}");
    assert!(!earlier_ids.contains(&&json!(s.id)));
    assert_eq!(details.json["cart_history"].as_array().map(|h| h.len()), Some(1), "{:?}", details.json["cart_history"]);
    assert_eq!((details.json["cart_history"][0]["total"].as_i64(), details.json["cart_history"][0]["items"].as_u64()), (Some(5998), Some(2)));

    // Reading, then a reply signed with the teammate's name, seen by the shopper.
    assert_eq!(owner.post(&format!("/v1/inbox/conversations/{}/read", s.id), Some(&json!({ "seq": 1 }))).await.status, 204);
    let reply = owner.post(&format!("/v1/inbox/conversations/{}/messages", s.id), Some(&json!({ "client_id": "r1", "body": "They run true to size." }))).await;
    assert_eq!(reply.status, 201, "{:?}", reply.json);
    assert_eq!(reply.json["message"]["author"], "agent");
    assert_eq!(reply.json["message"]["author_name"], "Olivia");
    let again = owner.post(&format!("/v1/inbox/conversations/{}/messages", s.id), Some(&json!({ "client_id": "r1", "body": "They run true to size." }))).await;
    assert_eq!(again.status, 200, "a retry is stored once");
    let thread = owner.get(&format!("/v1/inbox/conversations/{}/messages", s.id)).await;
    assert_eq!(thread.json["messages"].as_array().unwrap().len(), 2);
    assert_eq!(s.messages(0).await.last().unwrap().body, "They run true to size.");

    // Close and reopen.
    assert_eq!(owner.post(&format!("/v1/inbox/conversations/{}/close", s.id), None).await.status, 204);
    assert!(row(&owner.get("/v1/inbox/sites/demo/conversations?status=closed").await.json, &s.id).is_some());
    assert_eq!(owner.post(&format!("/v1/inbox/conversations/{}/reopen", s.id), None).await.status, 204);
    assert!(row(&owner.get("/v1/inbox/sites/demo/conversations").await.json, &s.id).is_some());
}

#[tokio::test]
async fn a_quiet_reply_is_not_emailed_and_a_normal_one_is() {
    let c = client();
    let owner = owner().await;
    let quiet = c.create_conversation("demo").await;
    let loud = c.create_conversation("demo").await;
    for s in [&quiet, &loud] {
        s.post("m1", "Please email me the answer").await;
        let put = c.json(Method::PUT, &format!("/v1/conversations/{}/contact", s.id), Some(&s.token), &json!({ "email": "ben@example.com" })).await;
        assert_eq!(put.status, 204);
    }
    let body = |notify| json!({ "client_id": "r1", "body": "Answered in the chat", "notify_shopper": notify });
    assert_eq!(owner.post(&format!("/v1/inbox/conversations/{}/messages", quiet.id), Some(&body(false))).await.status, 201);
    assert_eq!(owner.post(&format!("/v1/inbox/conversations/{}/messages", loud.id), Some(&body(true))).await.status, 201);
    // The shopper's quiet time is 2 s: the loud one is mailed, then give the quiet one as long.
    mailbox::wait_for(&c, &loud.id, "ben@example.com", 1, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails: Vec<_> = mailbox::sent_for(&c, &quiet.id).await.into_iter().filter(|m| m.to == "ben@example.com").collect();
    assert!(mails.is_empty(), "a quiet reply was emailed: {:?}", mails.iter().map(|m| &m.subject).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_inbox_socket_carries_new_conversations_and_messages_live() {
    let c = client();
    let owner = owner().await;
    let mut live = owner.live("demo").await.expect("inbox socket");
    let s = c.create_conversation("demo").await;
    let row = live.until(Duration::from_secs(10), |f| matches!(f, InboxFrame::Conversation { conversation } if conversation.summary.id == s.id)).await;
    assert!(row.is_some(), "the new conversation appears");
    s.post("m1", "Is the blue one in stock?").await;
    let msg = live.until(Duration::from_secs(10), |f| matches!(f, InboxFrame::Message { conversation, message } if *conversation == s.id && message.seq == 1)).await;
    match msg {
        Some(InboxFrame::Message { message, .. }) => assert_eq!(message.body, "Is the blue one in stock?"),
        other => panic!("no live message: {other:?}"),
    }
    let unread = live.until(Duration::from_secs(10), |f| matches!(f, InboxFrame::Conversation { conversation } if conversation.summary.id == s.id && conversation.summary.unread_count == 1)).await;
    assert!(unread.is_some(), "the row's unread count follows");
    // Deleted by the shopper: gone from the inbox too.
    let del = c.send(Method::DELETE, &format!("/v1/conversations/{}", s.id), &[("authorization", &format!("Bearer {}", s.token))], None).await;
    assert_eq!(del.status, 204);
    let gone = live.until(Duration::from_secs(10), |f| matches!(f, InboxFrame::Gone { conversation } if *conversation == s.id)).await;
    assert!(gone.is_some(), "gone frame");
}

/// With no tab open, the hub tells a conversation that hands something over to hand nothing
/// over for 10 s (most of the time nobody has the inbox open). A tab connecting ends that at
/// once: the conversation's row comes without a new message, and the next message is live.
#[tokio::test]
async fn a_quiet_conversation_hands_over_again_as_soon_as_a_tab_opens() {
    let c = client();
    let owner = hushed_owner().await;
    let s = c.create_conversation("hushed").await;
    s.post("m1", "Anyone there?").await;
    // The hand-over of m1 and the hub's answer (no tab: quiet for 10 s) have come and gone.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut live = owner.live("hushed").await.expect("inbox socket");
    let row = live.until(Duration::from_secs(5), |f| matches!(f, InboxFrame::Conversation { conversation } if conversation.summary.id == s.id)).await;
    assert!(row.is_some(), "the quiet conversation's row comes when a tab connects");
    s.post("m2", "Hello?").await;
    let msg = live.until(Duration::from_secs(5), |f| matches!(f, InboxFrame::Message { conversation, message } if *conversation == s.id && message.seq == 2)).await;
    assert!(msg.is_some(), "the next message is live within 5 s (the quiet time is 10 s)");
}

#[tokio::test]
async fn one_sites_teammates_never_reach_another_sites_conversations() {
    let c = client();
    let stranger = other_owner().await;
    let s = c.create_conversation("demo").await;
    s.post("m1", "private to the demo shop").await;
    let id = &s.id;
    for path in [format!("/v1/inbox/conversations/{id}"), format!("/v1/inbox/conversations/{id}/messages"), "/v1/inbox/sites/demo/conversations".into()] {
        let a = stranger.get(&path).await;
        assert_eq!((a.status, a.code()), (404, "not_found"), "GET {path}");
    }
    for (path, body) in [
        (format!("/v1/inbox/conversations/{id}/messages"), Some(json!({ "client_id": "x", "body": "hijack" }))),
        (format!("/v1/inbox/conversations/{id}/read"), Some(json!({ "seq": 1 }))),
        (format!("/v1/inbox/conversations/{id}/close"), None),
        (format!("/v1/inbox/conversations/{id}/reopen"), None),
    ] {
        let a = stranger.post(&path, body.as_ref()).await;
        assert_eq!((a.status, a.code()), (404, "not_found"), "POST {path}");
    }
    assert!(stranger.live("demo").await.is_err(), "the demo site's socket is refused");
    // Their own site works, and nothing of the demo's is in it.
    let own = stranger.get("/v1/inbox/sites/other/conversations").await;
    assert_eq!(own.status, 200);
    assert!(row(&own.json, id).is_none());
    assert_eq!(s.messages(0).await.len(), 1, "nothing was stored");
}

#[tokio::test]
async fn the_list_pages_by_last_activity_then_id_and_lists_each_row_once() {
    // The stack without rate limits: twelve conversations from one address at once.
    let c = Client::new(&knobs().info.relay);
    let owner = Teammate::sign_in(&c, OTHER_OWNER).await;
    // Created at once: several share a millisecond, and with no message their activity is
    // their creation time, so pages must break ties by id.
    let created: Vec<String> = futures_util::future::join_all((0..12).map(|_| c.create_conversation("other"))).await.into_iter().map(|s| s.id).collect();
    let ours = |list: &Value| -> Vec<String> {
        list["conversations"].as_array().unwrap().iter().filter_map(|r| r["id"].as_str()).filter(|id| created.iter().any(|c| c == id)).map(str::to_owned).collect()
    };
    let mut whole = vec![];
    eventually("all twelve listed", async || {
        whole = ours(&owner.get("/v1/inbox/sites/other/conversations").await.json);
        whole.len() == 12
    })
    .await;
    // Pages of 5, each after the last row of the one before.
    let mut walked = vec![];
    let mut path = "/v1/inbox/sites/other/conversations?limit=5".to_owned();
    for _ in 0..100 {
        let page = owner.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {:?}", page.json);
        let rows = page.json["conversations"].as_array().unwrap().clone();
        walked.extend(ours(&page.json));
        let Some(last) = rows.last() else { break };
        assert!(rows.len() <= 5);
        let at = last["last_message_at"].as_str().or(last["created_at"].as_str()).unwrap();
        path = format!("/v1/inbox/sites/other/conversations?limit=5&before={at}&before_id={}", last["id"].as_str().unwrap());
    }
    assert_eq!(walked, whole, "every row once, in the list's order");
    for bad in ["before=1%27%20OR%201=1", "limit=0", "limit=201", "before_id=abc", "before=2026-11-24T10:00:00.000Z&before_id=a%27b"] {
        let a = owner.get(&format!("/v1/inbox/sites/other/conversations?{bad}")).await;
        assert_eq!((a.status, a.code()), (422, "invalid_query"), "{bad}");
    }
}

#[tokio::test]
async fn owners_invite_change_and_remove_teammates_and_removal_ends_access_at_once() {
    let c = client();
    let owner = owner().await;
    let n: u32 = rand_suffix();
    let invitee = format!("new{n}@pigeon-outfitters.test");
    let invite = owner.post("/v1/inbox/sites/demo/teammates", Some(&json!({ "email": invitee.to_uppercase(), "name": "Noor", "role": "agent" }))).await;
    assert_eq!(invite.status, 201, "{:?}", invite.json);
    assert!(invite.json["teammates"].as_array().unwrap().iter().any(|t| t["email"] == invitee && t["role"] == "agent"));
    let again = owner.post("/v1/inbox/sites/demo/teammates", Some(&json!({ "email": invitee, "name": "Noor", "role": "agent" }))).await;
    assert_eq!((again.status, again.code()), (409, "already_teammate"));

    // The invitation is a sign-in link, naming the site and who invited.
    let mails = loop {
        let m = mailbox::sent_to(&c, &invitee, "Join Pigeon Outfitters on Pigeon").await;
        if !m.is_empty() {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(mails[0].text().contains("Olivia invited you"), "{}", mails[0].text());
    let opened = inbox::open(&c, &inbox::token_in(&mails[0].text())).await;
    assert_eq!(opened.status, 200);
    assert_eq!(opened.json["sites"][0]["role"], "agent");
    let cookie = opened.headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let noor = Teammate { client: c.clone(), cookie };
    assert_eq!(noor.get("/v1/inbox/sites/demo/conversations").await.status, 200);

    // Agents cannot manage the team; owners change roles; a site keeps an owner.
    let forbidden = noor.post("/v1/inbox/sites/demo/teammates", Some(&json!({ "email": "x@pigeon-outfitters.test", "name": "X", "role": "owner" }))).await;
    assert_eq!((forbidden.status, forbidden.code()), (403, "owner_only"));
    let path = format!("/v1/inbox/sites/demo/teammates/{}", invitee.replace('@', "%40"));
    let promote = c.send(Method::PUT, &path, &[("cookie", &owner.cookie), ("origin", &c.relay), ("content-type", "application/json")], Some(br#"{"role":"owner"}"#.to_vec())).await;
    assert_eq!(promote.status, 200, "{:?}", promote.json);
    let other = other_owner().await;
    let alone = c.send(Method::DELETE, "/v1/inbox/sites/other/teammates/owner%40other-shop.test", &[("cookie", &other.cookie), ("origin", &c.relay)], None).await;
    assert_eq!((alone.status, alone.code()), (409, "last_owner"));
    let demote = c.send(Method::PUT, "/v1/inbox/sites/other/teammates/owner%40other-shop.test", &[("cookie", &other.cookie), ("origin", &c.relay), ("content-type", "application/json")], Some(br#"{"role":"agent"}"#.to_vec())).await;
    assert_eq!((demote.status, demote.code()), (409, "last_owner"));

    // Removed: the open socket closes and every request fails at once.
    let mut live = noor.live("demo").await.expect("socket");
    let theirs = c.create_conversation("demo").await;
    let assign = owner.put(&format!("/v1/inbox/conversations/{}/assignee", theirs.id), &json!({ "assignee": invitee })).await;
    assert_eq!(assign.status, 204, "{:?}", assign.json);
    let removed = c.send(Method::DELETE, &path, &[("cookie", &owner.cookie), ("origin", &c.relay)], None).await;
    assert_eq!(removed.status, 200, "{:?}", removed.json);
    let handed_back = owner.get(&format!("/v1/inbox/conversations/{}", theirs.id)).await;
    assert_eq!(handed_back.json["assignee"], Value::Null, "a removed teammate's conversations go back to nobody");
    // (Frames sent before the removal, such as the assignment's row, may come first.)
    let mut frames = 0;
    while live.frame(Duration::from_secs(5)).await.is_some() {
        frames += 1;
        assert!(frames < 10, "the removed teammate's socket closes");
    }
    let me = noor.get("/v1/inbox/me").await;
    assert_eq!((me.status, me.code()), (401, "signed_out"), "on no site any more: every session ended");
    assert_eq!(noor.get("/v1/inbox/sites/demo/conversations").await.status, 401);
}

#[tokio::test]
async fn assignment_filters_the_list_claims_on_reply_and_sends_the_notices_to_the_assignee() {
    let c = client();
    let owner = owner().await;
    let sam = sam().await;
    let listed = async |t: &Teammate, id: &str, q: &str| row(&t.get(&format!("/v1/inbox/sites/demo/conversations?{q}")).await.json, id).is_some();

    // Assigned to Sam before the shopper writes: his Mine, not Unassigned, not the owner's Mine.
    let s = c.create_conversation("demo").await;
    let to_sam = owner.put(&format!("/v1/inbox/conversations/{}/assignee", s.id), &json!({ "assignee": AGENT.to_uppercase() })).await;
    assert_eq!(to_sam.status, 204, "{:?}", to_sam.json);
    assert_eq!(owner.get(&format!("/v1/inbox/conversations/{}", s.id)).await.json["assignee"], AGENT);
    assert!(listed(&sam, &s.id, "assignee=me").await);
    assert!(listed(&owner, &s.id, "assignee=anyone").await);
    assert!(!listed(&owner, &s.id, "assignee=me").await);
    assert!(!listed(&owner, &s.id, "assignee=nobody").await);
    let row_now = owner.get("/v1/inbox/sites/demo/conversations").await.json;
    assert_eq!(row(&row_now, &s.id).unwrap()["assignee"], AGENT);

    // The shopper writes: the notice goes to Sam, not to the merchant address (the owner's).
    assert_eq!(s.post("a1", "Where is my parcel?").await.status, 201);
    let mails = mailbox::wait_for(&c, &s.id, AGENT, 1, Duration::from_secs(20)).await;
    assert!(mails[0].text().contains("Where is my parcel?"));
    assert!(mailbox::sent_for(&c, &s.id).await.iter().all(|m| m.to != OWNER), "the merchant address got no notice");

    // Only the site's teammates can be assigned; nobody again.
    for who in ["stranger@example.com", OTHER_OWNER] {
        let a = owner.put(&format!("/v1/inbox/conversations/{}/assignee", s.id), &json!({ "assignee": who })).await;
        assert_eq!((a.status, a.code()), (422, "not_teammate"), "{who}");
    }
    assert_eq!(owner.put(&format!("/v1/inbox/conversations/{}/assignee", s.id), &json!({ "assignee": null })).await.status, 204);
    assert!(listed(&owner, &s.id, "assignee=nobody").await);

    // A reply to a conversation nobody answers makes it the replier's; a second teammate's
    // reply leaves it theirs.
    let reply = owner.post(&format!("/v1/inbox/conversations/{}/messages", s.id), Some(&json!({ "client_id": "o1", "body": "On its way." }))).await;
    assert_eq!(reply.status, 201);
    assert_eq!(owner.get(&format!("/v1/inbox/conversations/{}", s.id)).await.json["assignee"], OWNER);
    let reply = sam.post(&format!("/v1/inbox/conversations/{}/messages", s.id), Some(&json!({ "client_id": "s1", "body": "Tracking: 123." }))).await;
    assert_eq!(reply.status, 201);
    assert_eq!(owner.get(&format!("/v1/inbox/conversations/{}", s.id)).await.json["assignee"], OWNER);
    eventually("the owner's Mine lists it (the index follows within a second)", async || listed(&owner, &s.id, "assignee=me").await).await;

    let bad = owner.get("/v1/inbox/sites/demo/conversations?assignee=someone").await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_query"));
    // Another site's teammate cannot assign the demo's conversations.
    let stranger = other_owner().await;
    let a = stranger.put(&format!("/v1/inbox/conversations/{}/assignee", s.id), &json!({ "assignee": OTHER_OWNER })).await;
    assert_eq!((a.status, a.code()), (404, "not_found"));
}

#[tokio::test]
async fn internal_notes_reach_teammates_only() {
    let c = client();
    let owner = owner().await;
    let s = c.create_conversation("demo").await;
    assert_eq!(s.post("m1", "Is the blue one back in stock?").await.status, 201);
    let mut live = owner.live("demo").await.expect("inbox socket");
    let path = format!("/v1/inbox/conversations/{}/notes", s.id);
    let secret = "Note: restock due Friday, do not promise a date";
    let note = owner.post(&path, Some(&json!({ "client_id": "n1", "body": secret }))).await;
    assert_eq!(note.status, 201, "{:?}", note.json);
    assert_eq!((note.json["author_name"].as_str(), note.json["author_email"].as_str()), (Some("Olivia"), Some(OWNER)));
    // Once per client id, like a message.
    let again = owner.post(&path, Some(&json!({ "client_id": "n1", "body": secret }))).await;
    assert_eq!((again.status, &again.json["id"]), (200, &note.json["id"]));
    let other = owner.post(&path, Some(&json!({ "client_id": "n1", "body": "something else" }))).await;
    assert_eq!(other.status, 409);
    let empty = owner.post(&path, Some(&json!({ "client_id": "n2", "body": "  " }))).await;
    assert_eq!((empty.status, empty.code()), (422, "empty_message"));
    let listed = owner.get(&path).await;
    assert_eq!(listed.json["notes"].as_array().map(Vec::len), Some(1));

    // Live to the site's teammates.
    let mut seen = false;
    while let Some(frame) = live.frame(Duration::from_secs(5)).await {
        if let InboxFrame::Note { conversation, note } = frame {
            assert_eq!((conversation.as_str(), note.body.as_str()), (s.id.as_str(), secret));
            seen = true;
            break;
        }
    }
    assert!(seen, "the inbox socket carried the note");

    // Nowhere the shopper reads: messages, export; nor the agent key's messages route.
    let messages = c.get(&format!("/v1/conversations/{}/messages", s.id), Some(&s.token)).await;
    assert!(!messages.json.to_string().contains("restock"), "{}", messages.json);
    assert_eq!(messages.json["messages"].as_array().map(Vec::len), Some(1));
    let export = c.get(&format!("/v1/conversations/{}/export", s.id), Some(&s.token)).await;
    assert_eq!(export.status, 200);
    assert!(!export.json.to_string().contains("restock"), "{}", export.json);
    let (_, key) = crate::demo();
    let agent = c.get(&format!("/v1/agent/conversations/{}/messages", s.id), Some(key)).await;
    assert_eq!(agent.status, 200);
    assert!(!agent.json.to_string().contains("restock"));
    // Nor the shopper's email: the reply notice after the note carries the reply only.
    let put = c.json(Method::PUT, &format!("/v1/conversations/{}/contact", s.id), Some(&s.token), &json!({ "email": "nina@example.com" })).await;
    assert_eq!(put.status, 204);
    let reply = owner.post(&format!("/v1/inbox/conversations/{}/messages", s.id), Some(&json!({ "client_id": "r1", "body": "We will let you know." }))).await;
    assert_eq!(reply.status, 201);
    let mails = mailbox::wait_for(&c, &s.id, "nina@example.com", 1, Duration::from_secs(20)).await;
    assert!(mails[0].text().contains("We will let you know."));
    assert!(mailbox::sent_for(&c, &s.id).await.iter().all(|m| !m.raw.contains("restock")), "no email carries the note");
    // An `@mention` emails that teammate (not the author, who mentions herself too).
    let mention = owner.post(&path, Some(&json!({ "client_id": "n3", "body": "@sam can you call the warehouse? cc @olivia" }))).await;
    assert_eq!(mention.status, 201);
    let subject = "Olivia mentioned you in a note — Pigeon Outfitters";
    let mut mails = vec![];
    for _ in 0..50 {
        mails = mailbox::sent_to(&c, AGENT, subject).await;
        if !mails.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(mails.len(), 1, "one mention mail to Sam");
    assert!(mails[0].text().contains("can you call the warehouse?"));
    assert!(mailbox::sent_to(&c, OWNER, subject).await.is_empty(), "no mail to the author");
    // Another site's teammate cannot read or write them.
    let stranger = other_owner().await;
    assert_eq!(stranger.get(&path).await.status, 404);
    assert_eq!(stranger.post(&path, Some(&json!({ "client_id": "x", "body": "hi" }))).await.status, 404);
}

/// Hits of a search as (conversation, seq, the marked words).
async fn search(who: &Teammate, site: &str, q: &str) -> Vec<(String, Option<u64>, Vec<String>)> {
    let a = who.get(&format!("/v1/inbox/sites/{site}/search?q={}", urlencode(q))).await;
    assert_eq!(a.status, 200, "search {q:?}: {:?}", a.json);
    let hits = a.json["hits"].as_array().expect("hits").clone();
    hits.iter()
        .map(|h| {
            let marked = h["snippet"].as_array().unwrap().iter().filter(|s| s["hit"] == true).map(|s| s["text"].as_str().unwrap().to_owned()).collect();
            (h["conversation"].as_str().unwrap().to_owned(), h["seq"].as_u64(), marked)
        })
        .collect()
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn search_finds_words_and_addresses_on_its_own_site_and_forgets_erased_conversations() {
    let c = client();
    let owner = owner().await;
    let word = format!("quokka{}", rand_suffix());
    let s = c.create_conversation("demo").await;
    assert_eq!(s.post("m1", &format!("My parcel with the {word} mug arrived crushed")).await.status, 201);
    assert_eq!(s.post("m2", "Also the Crème brûlée candle").await.status, 201);
    let reply = owner.post(&format!("/v1/inbox/conversations/{}/messages", s.id), Some(&json!({ "client_id": "r1", "body": format!("Sorry! A new {word} mug is on its way.") }))).await;
    assert_eq!(reply.status, 201);
    // Another conversation has the word only in its shopper's address.
    let t = c.create_conversation("demo").await;
    assert_eq!(t.post("m1", "Hello").await.status, 201);
    let put = c.json(Method::PUT, &format!("/v1/conversations/{}/contact", t.id), Some(&t.token), &json!({ "email": format!("{word}@example.com") })).await;
    assert_eq!(put.status, 204);
    // Another site's conversation has the word too.
    let stranger = other_owner().await;
    let o = c.create_conversation("other").await;
    assert_eq!(o.post("m1", &format!("the {word} elsewhere")).await.status, 201);

    let mut hits = vec![];
    eventually("both messages and the address are found", async || {
        hits = search(&owner, "demo", &word).await;
        hits.len() == 3
    })
    .await;
    // Newest first: the address (set last), the reply, the shopper's message.
    let want: Vec<(String, Option<u64>, Vec<String>)> =
        vec![(t.id.clone(), None, vec![word.clone()]), (s.id.clone(), Some(3), vec![word.clone()]), (s.id.clone(), Some(1), vec![word.clone()])];
    assert_eq!(hits, want);
    // Every word must be there, the last may be a beginning; accents and case do not matter.
    assert_eq!(search(&owner, "demo", &format!("CRUSHED {}", &word[..word.len() - 3])).await, [(s.id.clone(), Some(1), vec![word.clone(), "crushed".into()])]);
    assert_eq!(search(&owner, "demo", &format!("creme brulee {word}")).await, vec![]);
    eventually("the accented words are found", async || search(&owner, "demo", "creme brulee").await.iter().any(|h| h.0 == s.id && h.1 == Some(2))).await;
    // Search syntax is just text.
    for q in [format!("\" OR site_id : \"other {word}"), format!("{word} NOT mug"), format!("{word}*"), "NEAR(a b)".into(), "\"\"".into()] {
        let a = owner.get(&format!("/v1/inbox/sites/demo/search?q={}", urlencode(&q))).await;
        assert_eq!(a.status, 200, "{q:?}: {:?}", a.json);
        assert!(!a.json.to_string().contains(&o.id), "{q:?} reached another site");
    }
    for (q, code) in [("a", "invalid_query"), ("  ", "invalid_query")] {
        let a = owner.get(&format!("/v1/inbox/sites/demo/search?q={}", urlencode(q))).await;
        assert_eq!((a.status, a.code()), (422, code), "{q:?}");
    }
    let long = "x".repeat(201);
    assert_eq!(owner.get(&format!("/v1/inbox/sites/demo/search?q={long}")).await.status, 422);
    // One site never sees another's: each finds its own, and only a teammate may ask.
    eventually("the other site finds its own", async || search(&stranger, "other", &word).await.len() == 1).await;
    assert_eq!(search(&stranger, "other", &word).await[0].0, o.id);
    assert_eq!(stranger.get(&format!("/v1/inbox/sites/demo/search?q={word}")).await.status, 404);

    // Erased by the shopper: its text is gone from search at once.
    let gone = c.send(Method::DELETE, &format!("/v1/conversations/{}", s.id), &[("authorization", &format!("Bearer {}", s.token))], None).await;
    assert_eq!(gone.status, 204);
    assert_eq!(search(&owner, "demo", &word).await, want[..1]);
    assert!(search(&owner, "demo", "creme brulee").await.iter().all(|h| h.0 != s.id));
    // Not only hidden: its text has left D1.
    let left = pigeon_tests::shared().d1_rows(&format!("SELECT count(*) AS n FROM search_messages WHERE conversation_id = '{}'", s.id));
    assert_eq!(left[0]["n"], 0, "the erased conversation's text is still in the search index");
    let indexed = pigeon_tests::shared().d1_rows(&format!("SELECT count(*) AS n FROM message_search WHERE message_search MATCH '\"{word}\"'"));
    assert_eq!(indexed[0]["n"], 1, "only the other site's message is left in the full-text index");
}

#[tokio::test]
async fn owners_manage_saved_replies_every_teammate_reads_them_and_templates_are_checked() {
    let owner = owner().await;
    let sam = sam().await;
    let path = "/v1/inbox/sites/demo/replies";
    let shortcut = format!("ship{}", rand_suffix());
    let body = "Hi {{ shopper.name }}, your order ({{cart.total}}) ships tomorrow. — {{agent.name}}";
    let added = owner.post(path, Some(&json!({ "shortcut": format!(" /{} ", shortcut.to_uppercase()), "body": body }))).await;
    assert_eq!(added.status, 201, "{:?}", added.json);
    let mine = |list: &Value| list["replies"].as_array().unwrap().iter().find(|r| r["shortcut"] == shortcut.as_str()).cloned();
    let saved = mine(&added.json).expect("in the list, its shortcut trimmed and lowercased");
    assert_eq!((saved["body"].as_str(), saved["updated_by"].as_str()), (Some(body), Some(OWNER)));
    let id = saved["id"].as_str().unwrap().to_owned();
    // Every teammate reads them; only owners change them.
    assert!(mine(&sam.get(path).await.json).is_some());
    let refused = sam.post(path, Some(&json!({ "shortcut": "agents-own", "body": "x" }))).await;
    assert_eq!((refused.status, refused.code()), (403, "owner_only"));
    assert_eq!(sam.delete(&format!("{path}/{id}")).await.code(), "owner_only");
    // Bad input: each with its own code, nothing saved.
    for (input, status, code) in [
        (json!({ "shortcut": shortcut, "body": "again" }), 409, "shortcut_taken"),
        (json!({ "shortcut": "two words", "body": "x" }), 422, "invalid_shortcut"),
        (json!({ "shortcut": "x".repeat(33), "body": "x" }), 422, "invalid_shortcut"),
        (json!({ "shortcut": "fine", "body": "Dear {{customer.name}}" }), 422, "unknown_variable"),
        (json!({ "shortcut": "fine", "body": "   " }), 422, "empty_message"),
        (json!({ "shortcut": "fine" }), 400, "malformed_json"),
    ] {
        let a = owner.post(path, Some(&input)).await;
        assert_eq!((a.status, a.code()), (status, code), "{input}");
    }
    let unknown = owner.post(path, Some(&json!({ "shortcut": "fine", "body": "Dear {{customer.name}}" }))).await;
    assert!(unknown.json["error"]["message"].as_str().unwrap().contains("{{shopper.name}}"), "the refusal names the variables");
    assert!(owner.get(path).await.json["replies"].as_array().unwrap().iter().all(|r| r["shortcut"] != "fine"));
    // Changed, then deleted; a second delete finds nothing.
    let changed = owner.put(&format!("{path}/{id}"), &json!({ "shortcut": shortcut, "body": "Thanks, {{shopper.email}}!" })).await;
    assert_eq!(changed.status, 200, "{:?}", changed.json);
    assert_eq!(mine(&changed.json).unwrap()["body"], "Thanks, {{shopper.email}}!");
    let gone = owner.delete(&format!("{path}/{id}")).await;
    assert_eq!(gone.status, 200);
    assert!(mine(&gone.json).is_none());
    let again = owner.delete(&format!("{path}/{id}")).await;
    assert_eq!((again.status, again.code()), (404, "not_found"));
    // Another site's owner reaches none of this site's replies.
    let kept = owner.post(path, Some(&json!({ "shortcut": shortcut, "body": "kept" }))).await;
    let kept_id = mine(&kept.json).unwrap()["id"].as_str().unwrap().to_owned();
    let stranger = other_owner().await;
    assert_eq!(stranger.get(path).await.status, 404);
    assert_eq!(stranger.delete(&format!("/v1/inbox/sites/other/replies/{kept_id}")).await.status, 404);
    assert!(mine(&owner.get(path).await.json).is_some(), "still there");
    assert!(mine(&stranger.get("/v1/inbox/sites/other/replies").await.json).is_none());
    owner.delete(&format!("{path}/{kept_id}")).await;
}

pub fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos()
}

/// The answer to a `reply` sent on the inbox socket: the stored message (its `message` frame
/// with this `client_id`) or the refusal's code.
async fn reply_answer(live: &mut inbox::InboxLive, client_id: &str) -> Result<pigeon_protocol::Message, String> {
    while let Some(text) = live.text(Duration::from_secs(10)).await {
        if let Ok(refused) = serde_json::from_str::<pigeon_protocol::InboxRefused>(&text) {
            assert_eq!(refused.client_id, client_id, "the refusal names the reply");
            assert!(!refused.message.is_empty());
            return Err(refused.code);
        }
        if let Ok(InboxFrame::Message { message, .. }) = serde_json::from_str::<InboxFrame>(&text)
            && message.client_id == client_id
        {
            return Ok(message);
        }
    }
    panic!("no answer to the reply {client_id}");
}

fn reply_frame(conversation: &str, client_id: &str, body: &str) -> String {
    json!({ "type": "reply", "conversation": conversation, "client_id": client_id, "body": body }).to_string()
}

#[tokio::test]
async fn replies_travel_on_the_inbox_socket_with_the_posts_rules() {
    let c = client();
    let (site, key) = crate::demo();
    let owner = owner().await;
    let mut live = owner.live("demo").await.expect("inbox socket");
    let s = c.create_conversation("demo").await;
    s.post("m1", "Do you ship to Norway?").await;
    let mut shopper = s.live(1).await;
    shopper.backlog().await;

    // Stored, signed with the teammate's name, answered with the message; the shopper hears it.
    live.send(reply_frame(&s.id, "sock-1", "Yes, in 3 days.")).await;
    let stored = reply_answer(&mut live, "sock-1").await.expect("stored");
    assert_eq!((stored.seq, stored.author, stored.author_name.as_deref(), stored.body.as_str()), (2, pigeon_protocol::Author::Agent, Some("Olivia"), "Yes, in 3 days."));
    assert_eq!(shopper.next_message(Duration::from_secs(10)).await.map(|m| m.client_id), Some("sock-1".into()));
    // Replying claimed the conversation nobody answered.
    assert_eq!(owner.get(&format!("/v1/inbox/conversations/{}", s.id)).await.json["assignee"], OWNER);

    // One message per client_id whichever path carries it: again on the socket, then by POST.
    live.send(reply_frame(&s.id, "sock-1", "Yes, in 3 days.")).await;
    assert_eq!(reply_answer(&mut live, "sock-1").await.expect("repeat").seq, 2);
    let again = owner.post(&format!("/v1/inbox/conversations/{}/messages", s.id), Some(&json!({ "client_id": "sock-1", "body": "Yes, in 3 days." }))).await;
    assert_eq!((again.status, again.json["message"]["seq"].as_u64()), (200, Some(2)));
    let posted = owner.post(&format!("/v1/inbox/conversations/{}/messages", s.id), Some(&json!({ "client_id": "post-1", "body": "Tracking follows." }))).await;
    assert_eq!(posted.status, 201);
    live.send(reply_frame(&s.id, "post-1", "Tracking follows.")).await;
    assert_eq!(reply_answer(&mut live, "post-1").await.expect("repeat of a POST").seq, 3);

    // Refused with the POST's codes, the socket left open, nothing stored.
    live.send(reply_frame(&s.id, "sock-1", "another body")).await;
    assert_eq!(reply_answer(&mut live, "sock-1").await.err().as_deref(), Some("client_id_conflict"));
    live.send(reply_frame(&s.id, "sock-2", "   ")).await;
    assert_eq!(reply_answer(&mut live, "sock-2").await.err().as_deref(), Some("empty_message"));
    live.send(reply_frame(&s.id, "sock-3", &"x".repeat(20_000))).await;
    assert_eq!(reply_answer(&mut live, "sock-3").await.err().as_deref(), Some("message_too_long"));
    live.send(reply_frame(&"0123456789abcdef".repeat(2), "sock-4", "hello?")).await;
    assert_eq!(reply_answer(&mut live, "sock-4").await.err().as_deref(), Some("not_found"));

    // Another site's teammate, on their own site's socket, reaches nothing of this site.
    let stranger = other_owner().await;
    let mut theirs = stranger.live("other").await.expect("their socket");
    theirs.send(reply_frame(&s.id, "hijack-1", "hijacked")).await;
    assert_eq!(reply_answer(&mut theirs, "hijack-1").await.err().as_deref(), Some("not_found"));

    let all = c.agent_messages(key, &s.id).await;
    let bodies: Vec<&str> = all.json["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Do you ship to Norway?", "Yes, in 3 days.", "Tracking follows."], "site {site}");
    // The socket is still open after the refusals.
    live.send(reply_frame(&s.id, "sock-5", "Anything else?")).await;
    assert_eq!(reply_answer(&mut live, "sock-5").await.expect("still open").seq, 4);
}

#[tokio::test]
async fn a_reply_on_the_socket_of_a_session_that_ended_is_refused() {
    let c = client();
    let theirs = c.create_conversation("other").await;
    theirs.post("m1", "Hello other shop").await;
    // A session of its own (signing out must not end the other tests' shared one).
    let owner = Teammate::sign_in(&c, OTHER_OWNER).await;
    let mut live = owner.live("other").await.expect("inbox socket");
    live.send(reply_frame(&theirs.id, "before", "Hi!")).await;
    assert_eq!(reply_answer(&mut live, "before").await.expect("stored while signed in").seq, 2);
    assert_eq!(owner.post("/v1/inbox/signout", None).await.status, 204);
    live.send(reply_frame(&theirs.id, "after", "Still here?")).await;
    assert_eq!(reply_answer(&mut live, "after").await.err().as_deref(), Some("signed_out"));
    assert_eq!(theirs.messages(0).await.len(), 2, "nothing stored after sign-out");
}
