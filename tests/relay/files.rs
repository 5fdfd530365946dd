//! Photos and files (issue 16): stored once per `client_id` in the real R2 bucket, typed by
//! their bytes, served inert and only to the conversation's token holder and its teammates,
//! hostile files refused with nothing stored, and erased from R2 with the conversation.

use pigeon_tests::{ShopperSession, shared};
use reqwest::Method;
use serde_json::Value;

use crate::inbox::{other_owner, sam};
use crate::{client, demo};

/// A real 1x1 PNG (a red pixel).
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde\0\0\0\x0cIDATx\x9cc\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef\0\0\0\0IEND\xaeB`\x82";

fn attachment(a: &Value) -> &Value {
    &a["message"]["attachments"][0]
}

async fn fetch(s: &ShopperSession, file: &str, bearer: &str) -> pigeon_tests::Answer {
    s.client.get(&format!("/v1/conversations/{}/files/{file}", s.id), Some(bearer)).await
}

#[tokio::test]
async fn a_photo_is_stored_once_and_served_only_to_its_conversation() {
    let (site, key) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    let up = s.upload("f1", "C:\\Users\\ana\\Damaged box.png", PNG).await;
    assert_eq!(up.status, 201, "{:?}", up.json);
    let a = attachment(&up.json).clone();
    assert_eq!((a["name"].as_str(), a["content_type"].as_str(), a["size"].as_u64()), (Some("Damaged box.png"), Some("image/png"), Some(PNG.len() as u64)));
    assert_eq!((a["width"].as_u64(), a["height"].as_u64()), (Some(1), Some(1)));
    assert_eq!(up.json["message"]["body"], "");
    assert_eq!(up.json["message"]["author"], "shopper");
    let id = a["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);

    // Retried with the same client_id (even other bytes): the stored message, nothing stored again.
    let again = s.upload("f1", "other.png", &[PNG, b"tail"].concat()).await;
    assert_eq!(again.status, 200, "{:?}", again.json);
    assert_eq!(attachment(&again.json)["id"], id.as_str());
    assert_eq!(s.messages(0).await.iter().filter(|m| !m.attachments.is_empty()).count(), 1);
    assert_eq!(shared().r2_object(&format!("{}/{id}", s.id)).as_deref(), Some(PNG), "R2 holds the first upload's bytes");

    // The token holder gets the bytes, inert.
    let got = fetch(&s, &id, &s.token).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, PNG);
    assert_eq!(got.header("content-type").as_deref(), Some("image/png"));
    assert_eq!(got.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(got.header("content-security-policy").as_deref(), Some("default-src 'none'; sandbox"));
    assert_eq!(got.header("content-disposition").as_deref(), Some("inline; filename*=UTF-8''Damaged%20box.png"));
    assert_eq!(got.header("cache-control").as_deref(), Some("no-store"));

    // Another conversation's token, no token, a made-up id: the same 404.
    let other = c.create_conversation(site).await;
    assert_eq!(fetch(&s, &id, &other.token).await.status, 404);
    assert_eq!(c.get(&format!("/v1/conversations/{}/files/{id}", s.id), None).await.status, 404);
    assert_eq!(fetch(&other, &id, &other.token).await.status, 404, "the file is not under the other conversation");
    assert_eq!(fetch(&s, &"0".repeat(32), &s.token).await.status, 404);
    assert_eq!(fetch(&s, "../other", &s.token).await.status, 404);

    // The site's key and its teammates get it; another site's teammate does not.
    let agent = c.get(&format!("/v1/agent/conversations/{}/files/{id}", s.id), Some(key)).await;
    assert_eq!((agent.status, agent.bytes.as_slice()), (200, PNG));
    let inbox = sam().await.get(&format!("/v1/inbox/conversations/{}/files/{id}", s.id)).await;
    assert_eq!((inbox.status, inbox.bytes.as_slice()), (200, PNG));
    assert_eq!(other_owner().await.get(&format!("/v1/inbox/conversations/{}/files/{id}", s.id)).await.status, 404);

    // The agent sends a PDF: a download, never shown inline.
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let path = format!("/v1/agent/conversations/{}/files?client_id=r1&name=Rechnung%20M%C3%A4rz.pdf&author_name=Ana", s.id);
    let sent = c.send(Method::POST, &path, &[("authorization", &format!("Bearer {key}"))], Some(pdf.to_vec())).await;
    assert_eq!(sent.status, 201, "{:?}", sent.json);
    assert_eq!((sent.json["message"]["author"].as_str(), sent.json["message"]["author_name"].as_str()), (Some("agent"), Some("Ana")));
    let doc = attachment(&sent.json);
    assert_eq!((doc["name"].as_str(), doc["content_type"].as_str(), doc.get("width")), (Some("Rechnung März.pdf"), Some("application/pdf"), None));
    let got = fetch(&s, doc["id"].as_str().unwrap(), &s.token).await;
    assert_eq!(got.bytes, pdf);
    assert_eq!(got.header("content-disposition").as_deref(), Some("attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf"));

    // A teammate's photo from the inbox claims the conversation like a reply.
    let sam = sam().await;
    let origin = sam.client.relay.clone();
    let path = format!("/v1/inbox/conversations/{}/files?client_id=t1&name=size-chart.png", s.id);
    let from_inbox = sam.client.send(Method::POST, &path, &[("cookie", &sam.cookie), ("origin", &origin)], Some(PNG.to_vec())).await;
    assert_eq!(from_inbox.status, 201, "{:?}", from_inbox.json);
    assert_eq!(from_inbox.json["message"]["author_name"], "Sam");
    // Without the inbox's origin, nothing.
    let forged = sam.client.send(Method::POST, &path.replace("t1", "t2"), &[("cookie", &sam.cookie), ("origin", "https://evil.test")], Some(PNG.to_vec())).await;
    assert_eq!(forged.status, 403);

    // The shopper's thread, the export and the agent's list carry the files; the inbox list
    // shows the file's name as the preview.
    let thread = s.messages(0).await;
    assert_eq!(thread.iter().map(|m| m.attachments.len()).sum::<usize>(), 3);
    let export = c.get(&format!("/v1/conversations/{}/export", s.id), Some(&s.token)).await;
    assert_eq!(export.json["messages"].as_array().unwrap().iter().filter(|m| m["attachments"].is_array()).count(), 3);
    // Teammates find a file by its name.
    crate::inbox::eventually("the file's name in search", async || {
        let found = sam.get("/v1/inbox/sites/demo/search?q=Rechnung").await;
        found.json["hits"].as_array().is_some_and(|h| h.iter().any(|hit| hit["conversation"] == s.id.as_str()))
    })
    .await;
}

#[tokio::test]
async fn hostile_files_are_refused_or_neutralised_and_nothing_is_stored() {
    let (site, _) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    let refused: [(&str, Vec<u8>, u16, &str); 6] = [
        ("html.png", b"<!doctype html><html><script>alert(document.cookie)</script></html>".to_vec(), 415, "unsupported_file_type"),
        ("svg.png", b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script></svg>".to_vec(), 415, "unsupported_file_type"),
        ("empty.jpg", vec![], 422, "empty_file"),
        ("truncated.png", PNG[..12].to_vec(), 415, "unsupported_file_type"),
        ("heic.jpg", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(), 415, "unsupported_file_type"),
        ("big.pdf", [b"%PDF-1.4\n".as_slice(), &vec![b' '; 10 * 1024 * 1024]].concat(), 413, "file_too_large"),
    ];
    for (i, (name, bytes, status, code)) in refused.iter().enumerate() {
        let a = s.upload(&format!("h{i}"), name, bytes).await;
        assert_eq!((a.status, a.code()), (*status, *code), "{name}: {:?}", a.json);
        assert!(a.json["error"]["message"].as_str().is_some_and(|m| m.contains("nothing was stored")), "{name}: {:?}", a.json);
    }
    assert!(s.messages(0).await.is_empty(), "nothing stored for refused files");

    // A polyglot (a PNG with HTML after it) and a PNG sent as text/html are stored as PNGs
    // and served as nothing but a picture; a dangerous name keeps no meaning.
    let poly = [PNG, b"<html><script>alert(1)</script></html>"].concat();
    let a = s.upload("p1", "../../index.html", &poly).await;
    assert_eq!(a.status, 201, "{:?}", a.json);
    assert_eq!(attachment(&a.json)["name"], "index.html.png");
    assert_eq!(attachment(&a.json)["content_type"], "image/png");
    let got = fetch(&s, attachment(&a.json)["id"].as_str().unwrap(), &s.token).await;
    assert_eq!(got.header("content-type").as_deref(), Some("image/png"));
    assert_eq!(got.header("content-security-policy").as_deref(), Some("default-src 'none'; sandbox"));
    let auth = format!("Bearer {}", s.token);
    let path = format!("/v1/conversations/{}/files?client_id=p2&name=x.png", s.id);
    let as_html = c.send(Method::POST, &path, &[("authorization", &auth), ("content-type", "text/html")], Some(PNG.to_vec())).await;
    assert_eq!(as_html.status, 201);
    assert_eq!(attachment(&as_html.json)["content_type"], "image/png");

    // A wrong token stores nothing, whatever the file; a bad client_id is refused first.
    let wrong = c.send(Method::POST, &path.replace("p2", "p3"), &[("authorization", "Bearer nope")], Some(PNG.to_vec())).await;
    assert_eq!(wrong.status, 404);
    let bad_id = c.send(Method::POST, &format!("/v1/conversations/{}/files?client_id=a%20b", s.id), &[("authorization", &auth)], Some(PNG.to_vec())).await;
    assert_eq!((bad_id.status, bad_id.code()), (422, "invalid_client_id"));
    // A text message's client_id cannot carry a file.
    s.post("t1", "hello").await;
    assert_eq!(s.upload("t1", "x.png", PNG).await.status, 409);
    assert_eq!(s.messages(0).await.len(), 3);
}

#[tokio::test]
async fn erasing_a_conversation_removes_its_files_from_r2() {
    let (site, _) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    let mut keys = vec![];
    for i in 0..3 {
        let a = s.upload(&format!("e{i}"), "photo.png", PNG).await;
        assert_eq!(a.status, 201);
        keys.push(format!("{}/{}", s.id, attachment(&a.json)["id"].as_str().unwrap()));
    }
    let kept = c.create_conversation(site).await;
    let other = kept.upload("k", "kept.png", PNG).await;
    let kept_key = format!("{}/{}", kept.id, attachment(&other.json)["id"].as_str().unwrap());
    for k in &keys {
        assert!(shared().r2_object(k).is_some(), "{k} stored");
    }
    let del = c.send(Method::DELETE, &format!("/v1/conversations/{}", s.id), &[("authorization", &format!("Bearer {}", s.token))], None).await;
    assert_eq!(del.status, 204);
    for k in &keys {
        assert_eq!(shared().r2_object(k), None, "{k} erased from R2");
    }
    assert!(shared().r2_object(&kept_key).is_some(), "another conversation's file stays");
}

/// A reply as a mail client sends one with files: text, then each file in base64.
fn mail_with_files(from: &str, to: &str, message_id: &str, text: &str, files: &[(&str, &str, &[u8])]) -> String {
    use base64::Engine;
    let mut raw = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Re: your chat\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    );
    for (name, ctype, bytes) in files {
        raw.push_str(&format!(
            "--b\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ));
    }
    raw.push_str("--b--\r\n");
    raw
}

#[tokio::test]
async fn emails_show_files_by_signed_links_and_replies_by_email_bring_theirs() {
    const MERCHANT: &str = "owner@pigeon-outfitters.test";
    let (site, _) = demo();
    let c = client();
    let s = c.create_conversation(site).await;
    assert_eq!(c.json(Method::PUT, &format!("/v1/conversations/{}/contact", s.id), Some(&s.token), &serde_json::json!({"email": "anna@example.com"})).await.status, 204);
    let up = s.upload("m1", "broken lid.png", PNG).await;
    let id = attachment(&up.json)["id"].as_str().unwrap().to_owned();

    // The merchant's email shows the photo from a signed link that works without signing in.
    let mail = pigeon_tests::mailbox::wait_for(&c, &s.id, MERCHANT, 1, std::time::Duration::from_secs(20)).await.remove(0);
    let text = mail.text();
    let link_at = text.find(&format!("/v1/files/{}/{id}?expires=", s.id)).unwrap_or_else(|| panic!("no file link in:\n{text}"));
    let start = text[..link_at].rfind("http").unwrap();
    let link = text[start..].split_whitespace().next().unwrap().to_owned();
    assert!(text.contains(&format!("[broken lid.png ({} B)]: ", PNG.len())), "{text}");
    assert!(mail.html().contains(&format!("<img src=\"{}\" alt=\"broken lid.png\" width=\"1\" height=\"1\"", link.replace('&', "&amp;"))), "{}", mail.html());
    let path = &link[c.relay.len()..];
    let got = c.get(path, None).await;
    assert_eq!((got.status, got.bytes.as_slice()), (200, PNG));
    assert_eq!(got.header("content-security-policy").as_deref(), Some("default-src 'none'; sandbox"));
    // Edited: another file, another expiry, another signature.
    let other = s.upload("m2", "other.png", PNG).await;
    let other = attachment(&other.json)["id"].as_str().unwrap().to_owned();
    let last = if path.ends_with('0') { '1' } else { '0' };
    for forged in [path.replace(&id, &other), path.replace("expires=", "expires=9"), format!("{}{last}", &path[..path.len() - 1])] {
        let a = c.get(&forged, None).await;
        assert!(a.status == 403 || a.status == 404, "{forged}: {}", a.status);
        assert!(a.bytes != PNG, "{forged}");
    }

    // The merchant answers by email with a PDF: it lands with the text.
    let address = mail.reply_address();
    let pdf = b"%PDF-1.4\n%%EOF\n";
    let raw = mail_with_files(&format!("Jo <{MERCHANT}>"), &address, "files-1@shop.test", "Here is your invoice.", &[("Rechnung.pdf", "application/pdf", pdf)]);
    let (status, said) = pigeon_tests::mailbox::deliver(&c, MERCHANT, &address, &raw).await;
    assert_eq!(status, 200, "{said}");
    // A message holds text or files: the text, then the files, in this order.
    let thread = s.messages(0).await;
    let at = thread.iter().position(|m| m.body == "Here is your invoice.").expect("the reply");
    assert!(thread[at].attachments.is_empty());
    let reply = &thread[at + 1];
    assert_eq!((reply.body.as_str(), reply.author_name.as_deref(), reply.attachments.len()), ("", Some("Jo"), 1));
    assert_eq!((reply.attachments[0].name.as_str(), reply.attachments[0].content_type.as_str()), ("Rechnung.pdf", "application/pdf"));
    assert_eq!(fetch(&s, &reply.attachments[0].id, &s.token).await.bytes, pdf);
    // Delivered twice: stored once, and the second copy's file does not stay in R2.
    assert_eq!(pigeon_tests::mailbox::deliver(&c, MERCHANT, &address, &raw).await.0, 200);
    assert_eq!(s.messages(0).await.iter().filter(|m| !m.attachments.is_empty()).count(), 3, "photo, other, invoice");

    // A file that cannot be stored bounces the mail by name; nothing of it is added.
    let raw = mail_with_files(MERCHANT, &address, "files-2@shop.test", "And the label", &[("label.svg", "image/svg+xml", b"<svg onload=alert(1)>")]);
    let (status, said) = pigeon_tests::mailbox::deliver(&c, MERCHANT, &address, &raw).await;
    assert_ne!(status, 200);
    assert!(said.contains("label.svg") && said.contains("Nothing from this email was added"), "{said}");
    assert!(!s.messages(0).await.iter().any(|m| m.body == "And the label"));
}
