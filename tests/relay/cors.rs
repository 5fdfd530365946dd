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
