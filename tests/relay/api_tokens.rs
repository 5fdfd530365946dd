//! Personal API tokens against the real relay: made in the inbox and shown once, stored
//! only as a hash, accepted by the agent routes for their own site as their teammate (name,
//! claim, owners-only webhooks), refused at once when revoked or when the teammate leaves.

use pigeon_tests::inbox::{self, Teammate};
use pigeon_tests::mailbox;
use reqwest::Method;
use serde_json::json;

use crate::inbox::{eventually, other_owner, owner, rand_suffix, sam};
use crate::{client, demo};

const TOKENS: &str = "/v1/inbox/sites/demo/tokens";

/// Makes a token named `name` as `who`: its id and secret.
async fn make(who: &Teammate, name: &str) -> (String, String) {
    let made = who.post(TOKENS, Some(&json!({ "name": name }))).await;
    assert_eq!(made.status, 201, "{:?}", made.json);
    (made.json["token"]["id"].as_str().unwrap().to_owned(), made.json["secret"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_token_is_shown_once_and_opens_only_its_own_site() {
    let c = client();
    let owner = owner().await;
    let name = format!("order sync {}", rand_suffix());
    let (id, secret) = make(&owner, &format!("  {name} ")).await;
    assert!(secret.starts_with("pgn_pat_") && secret.len() == 8 + 64, "{secret}");
    // Listed by its name, never with its secret.
    let list = owner.get(TOKENS).await;
    let mine = list.json["tokens"].as_array().unwrap().iter().find(|t| t["id"] == id.as_str()).cloned().expect("listed");
    assert_eq!((mine["name"].as_str(), &mine["last_used_at"]), (Some(name.as_str()), &json!(null)));
    assert!(!list.json.to_string().contains(&secret[8..]), "the secret is shown once");

    // The agent routes take it like the site's key, for its own site only.
    assert_eq!(c.agent_list(&secret, "demo", "open").await.status, 200);
    let hooks = c.get("/v1/agent/sites/demo/webhooks", Some(&secret)).await;
    assert_eq!(hooks.status, 200, "an owner's token manages webhooks: {:?}", hooks.json);
    let elsewhere = c.agent_list(&secret, "other", "open").await;
    assert_eq!((elsewhere.status, elsewhere.code()), (401, "unauthorized"));
    let theirs = c.create_conversation("other").await;
    assert_eq!(c.agent_post(&secret, &theirs.id, "t1", "hello").await.status, 401, "another site's conversation");
    // Its use is recorded (to the hour).
    let used = owner.get(TOKENS).await.json["tokens"].as_array().unwrap().iter().find(|t| t["id"] == id.as_str()).cloned().unwrap();
    assert!(used["last_used_at"].as_str().is_some_and(|t| t.ends_with(":00:00Z")), "{used}");
    // A token that only looks like one, or one with a character changed, opens nothing.
    let mut forged = secret.clone();
    forged.replace_range(20..21, if &secret[20..21] == "0" { "1" } else { "0" });
    for bad in [forged.as_str(), "pgn_pat_", "pgn_pat_00"] {
        assert_eq!(c.agent_list(bad, "demo", "open").await.status, 401, "{bad}");
    }

    // Revoked: refused at once; a second revoke, or another teammate's, finds nothing.
    let sam = sam().await;
    assert_eq!(sam.delete(&format!("{TOKENS}/{id}")).await.status, 404, "only its own teammate revokes it");
    assert_eq!(c.agent_list(&secret, "demo", "open").await.status, 200);
    assert_eq!(owner.delete(&format!("{TOKENS}/{id}")).await.status, 204);
    let refused = c.agent_list(&secret, "demo", "open").await;
    assert_eq!((refused.status, refused.code()), (401, "unauthorized"));
    assert_eq!(owner.delete(&format!("{TOKENS}/{id}")).await.status, 404);
    assert!(owner.get(TOKENS).await.json["tokens"].as_array().unwrap().iter().all(|t| t["id"] != id.as_str()));
    // The site's agent key is unaffected.
    assert_eq!(c.agent_list(demo().1, "demo", "open").await.status, 200);
}

#[tokio::test]
async fn a_token_acts_as_its_teammate() {
    let c = client();
    let owner = owner().await;
    let sam = sam().await;
    let (id, secret) = make(&sam, "Sam's script").await;
    let s = c.create_conversation("demo").await;
    assert_eq!(s.post("p1", "Is the blue one back in stock?").await.status, 201);

    // Signed with Sam's name, and the conversation nobody answered is now his.
    let path = format!("/v1/agent/conversations/{}/messages", s.id);
    let sent = c.json(Method::POST, &path, Some(&secret), &json!({ "client_id": "sam-1", "body": "Yes, since this morning." })).await;
    assert_eq!(sent.status, 201, "{:?}", sent.json);
    assert_eq!((sent.json["message"]["author"].as_str(), sent.json["message"]["author_name"].as_str()), (Some("agent"), Some("Sam")));
    assert_eq!(owner.get(&format!("/v1/inbox/conversations/{}", s.id)).await.json["assignee"], "sam@pigeon-outfitters.test");
    // The same client id is the same message, as with the key.
    let again = c.json(Method::POST, &path, Some(&secret), &json!({ "client_id": "sam-1", "body": "Yes, since this morning." })).await;
    assert_eq!((again.status, &again.json["message"]["seq"]), (200, &sent.json["message"]["seq"]));
    // An author name given is kept.
    let named = c.json(Method::POST, &path, Some(&secret), &json!({ "client_id": "sam-2", "body": "Team", "author_name": "The warehouse" })).await;
    assert_eq!(named.json["message"]["author_name"], "The warehouse");

    // An agent's token cannot manage webhooks (owners only, as in the inbox).
    let hooks = c.get("/v1/agent/sites/demo/webhooks", Some(&secret)).await;
    assert_eq!((hooks.status, hooks.code()), (403, "owner_only"));
    assert_eq!(sam.delete(&format!("{TOKENS}/{id}")).await.status, 204);
}

#[tokio::test]
async fn names_are_checked_and_tokens_are_limited() {
    let stranger = other_owner().await;
    let path = "/v1/inbox/sites/other/tokens";
    for (body, status, code) in [
        (json!({ "name": "  " }), 422, "invalid_token_name"),
        (json!({ "name": "x".repeat(81) }), 422, "invalid_token_name"),
        (json!({}), 400, "malformed_json"),
    ] {
        let a = stranger.post(path, Some(&body)).await;
        assert_eq!((a.status, a.code()), (status, code), "{body}");
    }
    // Another site's tokens are not the demo's: its owner reaches none of them.
    assert_eq!(stranger.get(TOKENS).await.status, 404);
    let mut made = vec![];
    for n in 0..10 {
        let a = stranger.post(path, Some(&json!({ "name": format!("t{n}") }))).await;
        assert_eq!(a.status, 201, "{:?}", a.json);
        made.push(a.json["token"]["id"].as_str().unwrap().to_owned());
    }
    let over = stranger.post(path, Some(&json!({ "name": "one more" }))).await;
    assert_eq!((over.status, over.code()), (422, "too_many_tokens"));
    assert_eq!(stranger.get(path).await.json["tokens"].as_array().unwrap().len(), 10);
    for id in made {
        assert_eq!(stranger.delete(&format!("{path}/{id}")).await.status, 204);
    }
}

#[tokio::test]
async fn leaving_the_team_ends_a_teammates_tokens() {
    let c = client();
    let owner = owner().await;
    let email = format!("temp{}@pigeon-outfitters.test", rand_suffix());
    let invite = owner.post("/v1/inbox/sites/demo/teammates", Some(&json!({ "email": email, "name": "Tem", "role": "owner" }))).await;
    assert_eq!(invite.status, 201, "{:?}", invite.json);
    let mut mails = vec![];
    eventually("the invitation arrives", async || {
        mails = mailbox::sent_to(&c, &email, "Join Pigeon Outfitters on Pigeon").await;
        !mails.is_empty()
    })
    .await;
    let opened = inbox::open(&c, &inbox::token_in(&mails[0].text())).await;
    let cookie = opened.headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let tem = Teammate { client: c.clone(), cookie };
    let (_, secret) = make(&tem, "leaving soon").await;
    assert_eq!(c.agent_list(&secret, "demo", "open").await.status, 200);
    let removed = owner.delete(&format!("/v1/inbox/sites/demo/teammates/{}", email.replace('@', "%40"))).await;
    assert_eq!(removed.status, 200, "{:?}", removed.json);
    let refused = c.agent_list(&secret, "demo", "open").await;
    assert_eq!((refused.status, refused.code()), (401, "unauthorized"));
}
