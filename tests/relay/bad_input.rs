use reqwest::Method;
use serde_json::json;

use crate::{client, demo};

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_stores_nothing() {
    let (site, _) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    let path = format!("/v1/conversations/{}/messages", s.id);
    let auth = format!("Bearer {}", s.token);
    let send = |ct: &'static str, body: Vec<u8>| {
        let c = c.clone();
        let (path, auth) = (path.clone(), auth.clone());
        async move { c.send(Method::POST, &path, &[("authorization", &auth), ("content-type", ct)], Some(body)).await }
    };
    let cases = vec![
        (send("application/json", b"{not json".to_vec()).await, 400, "malformed_json"),
        (send("application/json", br#"{"body":"no client id"}"#.to_vec()).await, 400, "malformed_json"),
        (send("text/plain", br#"{"client_id":"a","body":"hi"}"#.to_vec()).await, 415, "unsupported_media_type"),
        (send("application/json", serde_json::to_vec(&json!({"client_id":"a","body":"x".repeat(17 * 1024)})).unwrap()).await, 413, "payload_too_large"),
        (send("application/json", br#"{"client_id":"a","body":"   "}"#.to_vec()).await, 422, "empty_message"),
        (send("application/json", serde_json::to_vec(&json!({"client_id":"a","body":"y".repeat(4001)})).unwrap()).await, 422, "message_too_long"),
        (send("application/json", br#"{"client_id":"has space","body":"hi"}"#.to_vec()).await, 422, "invalid_client_id"),
        (send("application/json", serde_json::to_vec(&json!({"client_id":"a","body":"hi","context":{"page":{"url":"u","title":"t"},"cart":{"currency":"euro","total":1,"items":[]}}})).unwrap()).await, 422, "invalid_context"),
    ];
    for (answer, status, code) in &cases {
        assert_eq!(answer.status, *status, "{code}: {:?}", answer.json);
        assert_eq!(answer.code(), *code);
        assert!(answer.json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert!(s.messages(0).await.is_empty(), "nothing was stored");
    // Exactly 4,000 characters is fine.
    let max = c.json(Method::POST, &path, Some(&s.token), &json!({"client_id":"max","body":"z".repeat(4000)})).await;
    assert_eq!(max.status, 201);
}

#[tokio::test]
async fn unknown_sites_and_paths_are_404_and_wrong_methods_405() {
    let c = client();
    assert_eq!(c.get("/v1/sites/no-such-site", None).await.status, 404);
    assert_eq!(c.json(Method::POST, "/v1/sites/no-such-site/conversations", None, &json!({})).await.status, 404);
    assert_eq!(c.get("/v1/nothing-here", None).await.status, 404);
    assert_eq!(c.send(Method::PATCH, "/v1/sites/demo", &[], None).await.status, 405);
}

/// Random bodies (bytes, broken JSON, JSON of the wrong shape, huge numbers) at every route
/// that reads a body: always a 4xx with an error code, never a 5xx, and nothing stored.
#[tokio::test]
async fn fuzzed_bodies_get_4xx_never_5xx_and_store_nothing() {
    let (site, key) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    let mut next = pigeon_tests::xorshift(0x9e37_79b9_7f4a_7c15);
    let shapes = [
        "{", "[]", "null", "\"text\"", "{\"client_id\":1}", "{\"client_id\":\"a\",\"body\":{}}", "{\"body\":\"x\"}",
        "{\"client_id\":\"a b\",\"body\":\"x\"}", "{\"seq\":-1}", "{\"seq\":1e309}", "{\"email\":[\"a@b.c\"]}",
        "{\"context\":{\"page\":7}}", "{\"resume_token\":\"..\"}", "{\"client_id\":\"ok\",\"body\":\"\\u0000\"}",
    ];
    let routes = [
        (Method::POST, format!("/v1/sites/{site}/conversations"), None),
        (Method::POST, format!("/v1/conversations/{}/messages", s.id), Some(s.token.clone())),
        (Method::PUT, format!("/v1/conversations/{}/contact", s.id), Some(s.token.clone())),
        (Method::POST, format!("/v1/conversations/{}/read", s.id), Some(s.token.clone())),
        (Method::POST, format!("/v1/agent/conversations/{}/messages", s.id), Some(key.to_owned())),
        (Method::POST, "/v1/resume".to_owned(), None),
    ];
    for round in 0..40 {
        for (method, path, bearer) in &routes {
            let body: Vec<u8> = if round % 2 == 0 {
                (0..(next() % 300)).map(|_| next() as u8).collect()
            } else {
                shapes[(next() % shapes.len() as u64) as usize].as_bytes().to_vec()
            };
            let auth = bearer.as_ref().map(|t| format!("Bearer {t}"));
            let mut headers = vec![("content-type", "application/json")];
            if let Some(a) = &auth {
                headers.push(("authorization", a.as_str()));
            }
            let a = c.send(method.clone(), path, &headers, Some(body.clone())).await;
            // Creating a conversation needs no body, so a body that happens to parse may make one.
            if a.status == 201 && path.ends_with("/conversations") {
                continue;
            }
            assert!((400..500).contains(&a.status), "{method} {path} {:?} -> {} {:?}", String::from_utf8_lossy(&body), a.status, a.json);
            assert!(!a.code().is_empty(), "{method} {path}: error code");
        }
    }
    assert!(s.messages(0).await.is_empty(), "nothing stored");
}
