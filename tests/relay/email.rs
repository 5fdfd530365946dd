//! Email both ways against the real relay: notifications through the `send_email` binding
//! (read back from wrangler's local mail store), replies through the Worker's `email`
//! handler (wrangler's local inbound endpoint), resume links through `POST /v1/resume`.
//! The shared relay runs with a 1 s merchant and 2 s shopper quiet time.

use std::time::Duration;

use pigeon_tests::mailbox::{self, Mail};
use pigeon_tests::{Client, ShopperSession, shared};
use reqwest::Method;
use serde_json::json;

use crate::{client, demo};

const MERCHANT: &str = "owner@pigeon-outfitters.test";
const WAIT: Duration = Duration::from_secs(20);

async fn with_cart_and_contact(c: &Client, contact: Option<&str>) -> ShopperSession {
    let (site, _) = demo();
    let shop = &shared().info.shop;
    let context = json!({
        "page": { "url": format!("{shop}/products/trail-runner"), "title": "Trail Runner 2" },
        "cart": { "currency": "EUR", "total": 17980, "items": [
            { "name": "Trail Runner 2", "quantity": 2, "unit_price": 8990, "url": format!("{shop}/products/trail-runner") }
        ] }
    });
    let a = c.json(Method::POST, &format!("/v1/sites/{site}/conversations"), None, &json!({ "context": context })).await;
    assert_eq!(a.status, 201, "{:?}", a.json);
    let s = ShopperSession { client: c.clone(), id: a.json["conversation"]["id"].as_str().unwrap().into(), token: a.json["token"].as_str().unwrap().into() };
    if let Some(email) = contact {
        let put = c.json(Method::PUT, &format!("/v1/conversations/{}/contact", s.id), Some(&s.token), &json!({ "email": email })).await;
        assert_eq!(put.status, 204);
    }
    s
}

async fn merchant_mail(c: &Client, s: &ShopperSession) -> Mail {
    mailbox::wait_for(c, &s.id, MERCHANT, 1, WAIT).await.remove(0)
}

#[tokio::test]
async fn the_merchant_gets_one_email_per_burst_with_messages_cart_and_a_signed_reply_address() {
    let c = client();
    let s = with_cart_and_contact(&c, Some("anna@example.com")).await;
    for (i, body) in ["Do these run small?", "I usually wear 42.", "<b>Thanks</b> & bye"].iter().enumerate() {
        assert_eq!(s.post(&format!("m{i}"), body).await.status, 201);
    }
    let mail = merchant_mail(&c, &s).await;
    // The burst settles into one email: wait past another quiet period and count again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all: Vec<Mail> = mailbox::sent_for(&c, &s.id).await.into_iter().filter(|m| m.to == MERCHANT).collect();
    assert_eq!(all.len(), 1, "one email for one burst");

    assert_eq!(mail.subject, format!("Pigeon Outfitters: chat {}", &s.id[..6]));
    let text = mail.text();
    for needle in ["Do these run small?", "I usually wear 42.", "<b>Thanks</b> & bye", "anna@example.com", "Cart (2 items, 179.80 EUR)", "2 x Trail Runner 2  89.90 EUR", "Trail Runner 2"] {
        assert!(text.contains(needle), "merchant email lacks {needle:?}:\n{text}");
    }
    let html = mail.html();
    assert!(html.contains("&lt;b&gt;Thanks&lt;/b&gt; &amp; bye"), "escaped in HTML");
    assert!(!html.contains("<b>Thanks"));
    let reply = mail.reply_address();
    assert!(reply.starts_with(&format!("reply+{}.m", s.id)) && reply.ends_with("@mail.pigeon.test"), "{reply}");
    assert_eq!(mail.header("Auto-Submitted").as_deref(), Some("auto-generated"));
    assert!(mail.header("Message-ID").is_some());
}

#[tokio::test]
async fn a_merchant_reply_by_email_lands_once_without_the_quote_and_goes_live() {
    let (_, _) = demo();
    let c = client();
    let s = with_cart_and_contact(&c, None).await;
    s.post("m1", "Is the blue one in stock?").await;
    let mail = merchant_mail(&c, &s).await;
    let mut live = s.live(1).await;
    live.backlog().await;

    let body = "Yes, it ships today.\r\n\r\nJo\r\n\r\nOn Sat, Nov 21, 2026 at 10:02 AM Pigeon Outfitters via Pigeon <notify@mail.pigeon.test> wrote:\r\n> --- Reply above this line to answer ---\r\n> Is the blue one in stock?\r\n";
    let raw = mailbox::reply(&format!("Jo Merchant <{MERCHANT}>"), &mail.reply_address(), "CAF-1@mail.gmail.com", None, body);
    let (status, said) = mailbox::deliver(&c, MERCHANT, &mail.reply_address(), &raw).await;
    assert_eq!(status, 200, "{said}");
    let pushed = live.next_message(Duration::from_secs(10)).await.expect("pushed live");
    assert_eq!((pushed.body.as_str(), pushed.author_name.as_deref()), ("Yes, it ships today.\n\nJo", Some("Jo Merchant")));

    // The same mail delivered again (a retrying mail server) is stored once.
    let (status, said) = mailbox::deliver(&c, MERCHANT, &mail.reply_address(), &raw).await;
    assert_eq!(status, 200, "{said}");
    let messages = s.messages(0).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[1].seq, 2);
}

#[tokio::test]
async fn forged_wrong_sender_automatic_and_stale_replies_are_refused_and_store_nothing() {
    let (_, _) = demo();
    let c = client();
    let s = with_cart_and_contact(&c, Some("anna@example.com")).await;
    s.post("m1", "Hello?").await;
    let address = merchant_mail(&c, &s).await.reply_address();
    let try_reply = |from: &str, to: &str, id: &str, extra: &str| {
        let raw = mailbox::reply(from, to, id, None, "I am the merchant, honest.").replacen("MIME-Version", &format!("{extra}MIME-Version"), 1);
        let (c, from, to) = (c.clone(), from.to_owned(), to.to_owned());
        async move { mailbox::deliver(&c, &from, &to, &raw).await }
    };

    // Someone else writing to the genuine address.
    let (status, said) = try_reply("eve@evil.test", &address, "f1@evil.test", "").await;
    assert_ne!(status, 200);
    assert!(said.contains("may not reply"), "{said}");
    // The shopper cannot use the merchant's address to speak as the merchant.
    let (status, _) = try_reply("anna@example.com", &address, "f2@evil.test", "").await;
    assert_ne!(status, 200);
    // A forged or edited address: other signature, other conversation, other role.
    let sig_at = address.find('@').unwrap() - 1;
    let flipped = format!("{}{}{}", &address[..sig_at], if &address[sig_at..=sig_at] == "0" { "1" } else { "0" }, &address[sig_at + 1..]);
    for forged in [flipped, address.replacen(&s.id[..4], "ffff", 1), address.replacen(&format!("{}.m", s.id), &format!("{}.s", s.id), 1)] {
        let (status, said) = try_reply(MERCHANT, &forged, "f3@shop.test", "").await;
        assert_ne!(status, 200, "{forged}");
        assert!(said.contains("not a valid Pigeon reply address") || said.contains("may not reply"), "{said}");
    }
    // Out-of-office replies do not become messages.
    let (status, said) = try_reply(MERCHANT, &address, "ooo@shop.test", "Auto-Submitted: auto-replied\r\n").await;
    assert_ne!(status, 200);
    assert!(said.contains("Automatic replies"), "{said}");
    assert_eq!(s.messages(0).await.len(), 1, "nothing stored");

    // After the shopper erased the conversation, its address is dead.
    let del = c.send(Method::DELETE, &format!("/v1/conversations/{}", s.id), &[("authorization", &format!("Bearer {}", s.token))], None).await;
    assert_eq!(del.status, 204);
    let (status, said) = try_reply(MERCHANT, &address, "late@shop.test", "").await;
    assert_ne!(status, 200);
    assert!(said.contains("no longer exists"), "{said}");
}

#[tokio::test]
async fn an_unread_reply_is_emailed_to_the_shopper_with_a_resume_link_that_opens_the_thread() {
    let (_, key) = demo();
    let c = client();
    let s = with_cart_and_contact(&c, Some("anna@example.com")).await;
    s.post("m1", "Where is my parcel?").await;
    let merchant = merchant_mail(&c, &s).await;
    assert_eq!(c.agent_post(key, &s.id, "r1", "It left the warehouse <today>.").await.status, 201);

    let mail = mailbox::wait_for(&c, &s.id, "anna@example.com", 1, WAIT).await.remove(0);
    assert_eq!(mail.subject, "Your conversation with Pigeon Outfitters");
    let text = mail.text();
    assert!(text.contains("Ana [") && text.contains("It left the warehouse <today>."), "{text}");
    assert!(mail.html().contains("It left the warehouse &lt;today&gt;."));
    // The link goes to the page the shopper was on, on the shop's own origin.
    let shop = &shared().info.shop;
    let link = text.lines().find_map(|l| l.strip_prefix("Continue the conversation: ")).expect("resume link").to_owned();
    assert!(link.starts_with(&format!("{shop}/products/trail-runner#pigeon-resume=")), "{link}");
    let resume_token = link.split("#pigeon-resume=").nth(1).unwrap();
    // Threads: the shopper's mails thread among themselves, not with the merchant's.
    assert!(mail.reply_address().starts_with(&format!("reply+{}.s", s.id)));
    assert_ne!(mail.reply_address(), merchant.reply_address());

    // Opened in another browser: a new token for the same thread.
    let other_device = Client::new(&c.relay);
    let opened = other_device
        .send(Method::POST, "/v1/resume", &[("content-type", "application/json"), ("origin", shop)], Some(json!({ "resume_token": resume_token }).to_string().into_bytes()))
        .await;
    assert_eq!(opened.status, 200, "{:?}", opened.json);
    assert_eq!(opened.headers.get("access-control-allow-origin").unwrap(), shop.as_str());
    assert_eq!(opened.json["conversation"]["id"], s.id.as_str());
    let token = opened.json["token"].as_str().unwrap();
    assert_ne!(token, s.token);
    let resumed = ShopperSession { client: other_device.clone(), id: s.id.clone(), token: token.into() };
    let bodies: Vec<String> = resumed.messages(0).await.into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, ["Where is my parcel?", "It left the warehouse <today>."]);
    assert_eq!(s.messages(0).await.len(), 2, "the first browser's token still works");

    // A foreign page cannot use the link; an edited token opens nothing.
    let foreign = other_device
        .send(Method::POST, "/v1/resume", &[("content-type", "application/json"), ("origin", "https://evil.test")], Some(json!({ "resume_token": resume_token }).to_string().into_bytes()))
        .await;
    assert_eq!(foreign.status, 403);
    assert!(foreign.headers.get("access-control-allow-origin").is_none());
    let mut edited = resume_token.to_owned();
    let last = edited.pop().unwrap();
    edited.push(if last == '0' { '1' } else { '0' });
    for bad in [edited.as_str(), "", "nonsense", &format!("{}.9999999999.{}", s.id, "0".repeat(32))] {
        let a = other_device.json(Method::POST, "/v1/resume", None, &json!({ "resume_token": bad })).await;
        assert_eq!(a.status, 404, "{bad}: {:?}", a.json);
    }

    // The shopper can also just reply to the email; only from their own address.
    let raw = mailbox::reply("Anna <anna@example.com>", &mail.reply_address(), "anna-1@example.com", None, "Great, thank you!\n\nSent from my iPhone\n\n> It left the warehouse");
    let (status, said) = mailbox::deliver(&c, "anna@example.com", &mail.reply_address(), &raw).await;
    assert_eq!(status, 200, "{said}");
    let (status, _) = mailbox::deliver(&c, "eve@evil.test", &mail.reply_address(), &raw.replace("anna@example.com", "eve@evil.test").replace("anna-1@", "eve-1@")).await;
    assert_ne!(status, 200);
    let messages = s.messages(0).await;
    assert_eq!(messages.len(), 3);
    assert_eq!((messages[2].author.as_str(), messages[2].body.as_str()), ("shopper", "Great, thank you!"));
}

#[tokio::test]
async fn a_reply_read_in_the_widget_is_not_emailed_and_mails_continue_their_thread() {
    let (_, key) = demo();
    let c = client();
    let s = with_cart_and_contact(&c, Some("ben@example.com")).await;
    s.post("m1", "Hi").await;
    let first = merchant_mail(&c, &s).await;
    // The merchant answers by email; the shopper reads the answer at once in the widget.
    let raw = mailbox::reply(MERCHANT, &first.reply_address(), "merchant-1@shop.test", None, "Hello Ben!");
    assert_eq!(mailbox::deliver(&c, MERCHANT, &first.reply_address(), &raw).await.0, 200);
    let read = c.json(Method::POST, &format!("/v1/conversations/{}/read", s.id), Some(&s.token), &json!({ "seq": 2 })).await;
    assert_eq!(read.status, 204);
    assert_eq!(c.agent_post(key, &s.id, "r2", "Anything else?").await.status, 201);
    c.json(Method::POST, &format!("/v1/conversations/{}/read", s.id), Some(&s.token), &json!({ "seq": 3 })).await;
    // Past the shopper's quiet time: nothing was sent to them.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(mailbox::sent_for(&c, &s.id).await.iter().all(|m| m.to != "ben@example.com"), "read replies are not emailed");

    // The next merchant email answers the thread: the first email and the merchant's reply.
    s.post("m2", "One more question").await;
    let second = mailbox::wait_for(&c, &s.id, MERCHANT, 2, WAIT).await.remove(1);
    let first_id = format!("<pigeon.{}.m1@mail.pigeon.test>", s.id);
    assert_eq!(second.header("In-Reply-To").as_deref(), Some("<merchant-1@shop.test>"));
    let refs = second.header("References").unwrap();
    assert!(refs.starts_with(&first_id) && refs.contains("<merchant-1@shop.test>"), "{refs}");
    assert_eq!(second.subject, first.subject, "one subject per conversation");
    assert!(second.text().contains("One more question") && !second.text().contains("Hi\n"), "only what is new");
}
