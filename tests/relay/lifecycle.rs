//! A conversation's life as the shop lives it (issue 17): the widget's measured reply time
//! and its fallback, idle conversations closed by the daily sweep, ratings.

use pigeon_tests::shared;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client;

/// ISO time `minutes` from now (negative: before).
pub(crate) fn iso_from_now(minutes: i64) -> String {
    const DAY: i64 = 86_400_000;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let at = now + minutes * 60_000;
    let rest = at.rem_euclid(DAY);
    format!("{}T{:02}:{:02}:{:02}.000Z", crate::settings::utc_date(at.div_euclid(DAY) - now.div_euclid(DAY)), rest / 3_600_000, rest / 60_000 % 60, rest / 1000 % 60)
}

/// A site always open (no hours: business time is wall-clock time) with `answered` seeded
/// conversations from the last days, first answered after 30, 60, 120, 150, 200 ... minutes.
fn seed_site(site: &str, reply_time: &str, answered: usize) {
    let mut sql = format!(
        "INSERT OR IGNORE INTO sites (id, name, allowed_origins, merchant_email, business_hours, agent_key_hash, expected_reply, reply_time) \
         SELECT '{site}', 'Reply Time Shop', '[\"https://other-shop.test\"]', 'owner@{site}.test', '{{\"time_zone\":\"UTC\",\"days\":[]}}', agent_key_hash, \
         'We answer within a day', '{reply_time}' FROM sites WHERE id = 'other';"
    );
    for (i, after) in [30, 60, 120, 150, 200, 240].into_iter().take(answered).enumerate() {
        let id = format!("{site}_{i}");
        let created = -(2 * 1440) + i as i64 * 300;
        sql.push_str(&format!(
            "INSERT OR REPLACE INTO conversations (id, site_id, status, created_at) VALUES ('{id}', '{site}', 'open', '{}');\
             INSERT OR REPLACE INTO conversation_events (conversation_id, ord, site_id, kind, at, channel) VALUES ('{id}', 1, '{site}', 'reply', '{}', 'inbox');",
            iso_from_now(created),
            iso_from_now(created + after)
        ));
    }
    shared().d1_rows(&sql);
}

async fn widget_line(site: &str, query: &str, accept_language: &str) -> Value {
    let a = client().send(Method::GET, &format!("/v1/sites/{site}{query}"), &[("origin", "https://other-shop.test"), ("accept-language", accept_language)], None).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    a.json["expected_reply"].clone()
}

#[tokio::test]
async fn the_widget_says_the_measured_reply_time_or_the_shops_own_words() {
    // Five answered in the last 7 days: the median, 120 minutes, in the widget's language.
    seed_site("rt-measured", "measured", 5);
    assert_eq!(widget_line("rt-measured", "?lang=de", "en-US,en;q=0.9").await, "Antwortet meist in etwa 2 Stunden");
    assert_eq!(widget_line("rt-measured", "?lang=en", "de").await, "Typically replies in about 2 hours");
    assert_eq!(widget_line("rt-measured", "", "de-CH, en;q=0.5").await, "Antwortet meist in etwa 2 Stunden", "the browser's language without ?lang");
    assert_eq!(widget_line("rt-measured", "", "fr-FR").await, "Typically replies in about 2 hours");
    // Four: too few to say; the shop's own words.
    seed_site("rt-few", "measured", 4);
    assert_eq!(widget_line("rt-few", "?lang=en", "en").await, "We answer within a day");
    // The same history, but the shop chose its own words.
    seed_site("rt-text", "text", 6);
    assert_eq!(widget_line("rt-text", "?lang=en", "en").await, "We answer within a day");
    // Measured once, kept on the site's row.
    let rows = shared().d1_rows("SELECT id, measured_reply_minutes, measured_reply_at IS NOT NULL AS measured FROM sites WHERE id LIKE 'rt-%' ORDER BY id");
    let got: Vec<(String, Value, Value)> = rows.iter().map(|r| (r["id"].as_str().unwrap().to_owned(), r["measured_reply_minutes"].clone(), r["measured"].clone())).collect();
    assert_eq!(got, [("rt-few".to_owned(), Value::Null, 1.into()), ("rt-measured".to_owned(), 120.into(), 1.into()), ("rt-text".to_owned(), Value::Null, 0.into())]);
}

/// A site of its own with the other shop's agent key and origin; `settings` as SQL
/// assignments (`ratings = 'ask'`).
fn site(id: &str, settings: &str) {
    shared().d1_rows(&format!(
        "INSERT OR IGNORE INTO sites (id, name, allowed_origins, merchant_email, business_hours, agent_key_hash) \
         SELECT '{id}', 'Lifecycle Shop', '[\"https://other-shop.test\"]', 'owner@{id}.test', '{{\"time_zone\":\"UTC\",\"days\":[]}}', agent_key_hash \
         FROM sites WHERE id = 'other'; UPDATE sites SET {settings} WHERE id = '{id}';"
    ));
}

const KEY: &str = "other-agent-key-for-local-use-only";

async fn close(id: &str, body: Option<Value>) -> pigeon_tests::Answer {
    let c = client();
    let path = format!("/v1/agent/conversations/{id}/close");
    match body {
        Some(b) => c.json(Method::POST, &path, Some(KEY), &b).await,
        None => c.send(Method::POST, &path, &[("authorization", &format!("Bearer {KEY}"))], None).await,
    }
}

async fn rating(s: &pigeon_tests::ShopperSession) -> Value {
    let a = client().get(&format!("/v1/conversations/{}/rating", s.id), Some(&s.token)).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    a.json
}

async fn rate(s: &pigeon_tests::ShopperSession, body: Value) -> pigeon_tests::Answer {
    client().json(Method::POST, &format!("/v1/conversations/{}/rating", s.id), Some(&s.token), &body).await
}

#[tokio::test]
async fn a_close_asks_for_a_rating_as_the_site_says_and_the_shopper_answers_once() {
    site("rated", "ratings = 'ask'");
    let c = client();
    let s = c.create_conversation("rated").await;
    s.post("m1", "Where is my parcel?").await;

    // A plain close asks nothing; nothing can be rated. The thread says it closed.
    assert_eq!(close(&s.id, None).await.status, 204);
    assert_eq!(rating(&s).await, json!({ "asked": false, "rated": null, "status": "closed" }));
    let closed = s.messages(0).await.pop().unwrap();
    assert_eq!((closed.author, closed.body.as_str()), (pigeon_protocol::Author::System, "Lifecycle Shop closed this conversation; just write again to reopen it."));
    // Closing a closed conversation says nothing more.
    assert_eq!(close(&s.id, None).await.status, 204);
    assert_eq!(s.messages(0).await.len(), 2);
    let refused = rate(&s, json!({ "satisfaction": 5 })).await;
    assert_eq!((refused.status, refused.code()), (409, "rating_not_asked"));

    // The shopper writes again (reopened); "Close and ask for a rating".
    s.post("m2", "Still nothing").await;
    assert_eq!(close(&s.id, Some(json!({ "ask_rating": "yes" }))).await.code(), "malformed_json");
    assert_eq!(close(&s.id, Some(json!({ "ask_rating": true }))).await.status, 204);
    assert_eq!(rating(&s).await, json!({ "asked": true, "rated": null, "status": "closed" }));
    // The thread says so, with the rating page's link, from Pigeon.
    let note = s.messages(0).await.pop().unwrap();
    assert_eq!(note.author, pigeon_protocol::Author::System);
    assert!(note.body.starts_with("Lifecycle Shop closed this conversation; just write again to reopen it. How did we do?") && note.body.contains("/rate/"), "{}", note.body);
    let link = note.body.split_whitespace().find(|w| w.contains("/rate/")).unwrap();
    let page = c.send(Method::GET, &link[link.find("/rate/").unwrap()..], &[], None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("How did we do?") && !page.text.contains(" checked"), "nothing chosen yet");
    // Whoever holds the link can rate: the team (agent API, inbox, webhooks, search) gets the
    // note without it.
    let team = c.agent_messages(KEY, &s.id).await.json;
    let seen = team["messages"].as_array().unwrap().last().unwrap()["body"].as_str().unwrap().to_owned();
    assert!(seen.ends_with("Tell us here: [the shopper's rating link]") && !seen.contains("/rate/"), "{seen}");

    // Bad answers change nothing; another conversation's token opens nothing.
    for bad in [json!({ "satisfaction": 6 }), json!({ "satisfaction": 0 }), json!({ "satisfaction": 4, "effort": 9 }), json!({ "satisfaction": 4, "comment": "x".repeat(1001) })] {
        let a = rate(&s, bad.clone()).await;
        assert_eq!((a.status, a.code()), (422, "invalid_rating"), "{bad}");
    }
    assert_eq!(rate(&s, json!({ "effort": 2 })).await.code(), "malformed_json");
    let stranger = c.create_conversation("rated").await;
    let a = c.json(Method::POST, &format!("/v1/conversations/{}/rating", s.id), Some(&stranger.token), &json!({ "satisfaction": 1 })).await;
    assert_eq!(a.status, 404);
    assert_eq!(rating(&s).await["asked"], true, "still awaited");

    // Once.
    assert_eq!(rate(&s, json!({ "satisfaction": 4, "effort": 2, "comment": "  Quick, thanks.  " })).await.status, 204);
    let again = rate(&s, json!({ "satisfaction": 1 })).await;
    assert_eq!((again.status, again.code()), (409, "already_rated"));
    let state = rating(&s).await;
    assert_eq!(state["asked"], false);
    assert_eq!((&state["rated"]["satisfaction"], &state["rated"]["effort"], &state["rated"]["comment"]), (&json!(4), &json!(2), &json!("Quick, thanks.")));

    // Reports count it: one close asked (the plain one did not), one answered.
    let today = crate::settings::utc_date(0);
    crate::inbox::eventually("the rating reaches reports", async || {
        let m = c.get(&format!("/v1/agent/sites/rated/metrics?from={today}&to={today}"), Some(KEY)).await.json;
        m["ratings"] == json!({ "asked": 1, "rated": 1, "response_rate": 1.0, "satisfaction_average": 4.0, "satisfaction_counts": [0, 0, 0, 1, 0], "effort_average": 2.0, "effort_answers": 1 })
    })
    .await;

    // Ratings off: asking is refused and nothing closes; on: every close asks.
    site("unrated", "ratings = 'off'");
    let off = c.create_conversation("unrated").await;
    let a = close(&off.id, Some(json!({ "ask_rating": true }))).await;
    assert_eq!((a.status, a.code()), (409, "ratings_off"));
    assert_eq!(c.agent_list(KEY, "unrated", "closed").await.json["conversations"], json!([]));
    site("always-rated", "ratings = 'on'");
    let on = c.create_conversation("always-rated").await;
    assert_eq!(close(&on.id, None).await.status, 204);
    assert_eq!(rating(&on).await["asked"], true);

    // An ask lasts through the shopper's "Thanks!" (a reopen), until the next close.
    let thanks = c.create_conversation("rated").await;
    thanks.post("m1", "Hello").await;
    assert_eq!(close(&thanks.id, Some(json!({ "ask_rating": true }))).await.status, 204);
    thanks.post("m2", "Thanks!").await;
    assert_eq!(rating(&thanks).await["asked"], true);
    assert_eq!(close(&thanks.id, None).await.status, 204);
    assert_eq!(rating(&thanks).await["asked"], false);
    assert_eq!(rate(&thanks, json!({ "satisfaction": 5 })).await.code(), "rating_not_asked");
}

#[tokio::test]
async fn idle_conversations_close_in_the_daily_sweep_without_asking_for_a_rating() {
    // "Idle for 0.0001 days": about 8.6 seconds (other tests run the cron too: long enough that
    // theirs cannot close `busy` before this test looks). Ratings on: a teammate's close asks.
    site("idle", "auto_close_days = 0.0001, ratings = 'on'");
    let c = client();
    let idle = c.create_conversation("idle").await;
    idle.post("m1", "Hello?").await;
    // Its index row says idle long ago, but its object has a message from now: stays open.
    let stale = c.create_conversation("idle").await;
    stale.post("m1", "Written just now").await;
    tokio::time::sleep(std::time::Duration::from_millis(10_000)).await;
    stale.post("m2", "And again").await;
    let busy = c.create_conversation("idle").await;
    busy.post("m1", "Just wrote").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    shared().d1_rows(&format!("UPDATE conversations SET last_message_at = '2000-01-01T00:00:00.000Z' WHERE id = '{}'", stale.id));

    let cron = c.get("/cdn-cgi/local/scheduled?cron=17+3+*+*+*", None).await;
    assert!(cron.status < 300, "scheduled handler ran: {}", cron.status);
    let closed = c.agent_list(KEY, "idle", "closed").await.json;
    let ids: Vec<&str> = closed["conversations"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [idle.id.as_str()], "only the idle one");
    assert_eq!(rating(&idle).await["asked"], false, "an automatic close never asks");
    crate::inbox::eventually("the close reaches reports as automatic", async || {
        let rows = shared().d1_rows(&format!("SELECT close_kind FROM conversation_events WHERE conversation_id = '{}' AND kind = 'closed'", idle.id));
        rows.first().is_some_and(|r| r["close_kind"] == "auto")
    })
    .await;
    // Writing again reopens it, as any close.
    idle.post("m2", "Anyone?").await;
    crate::inbox::eventually("reopened", async || {
        let open = c.agent_list(KEY, "idle", "open").await.json;
        open["conversations"].as_array().is_some_and(|l| l.iter().any(|r| r["id"] == idle.id.as_str()))
    })
    .await;
}

#[tokio::test]
async fn the_closing_email_rates_by_signed_link_once_and_a_forged_link_rates_nothing() {
    use pigeon_tests::mailbox;
    site("rated-mail", "ratings = 'ask'");
    let c = client();
    let s = c.create_conversation("rated-mail").await;
    assert_eq!(c.json(Method::PUT, &format!("/v1/conversations/{}/contact", s.id), Some(&s.token), &json!({ "email": "rita@example.com" })).await.status, 204);
    s.post("m1", "My order is late").await;
    assert_eq!(close(&s.id, Some(json!({ "ask_rating": true }))).await.status, 204);

    let mail = mailbox::wait_for(&c, &s.id, "rita@example.com", 1, std::time::Duration::from_secs(10)).await.remove(0);
    assert_eq!(mail.subject, "How did we do? — Lifecycle Shop");
    let text = mail.text();
    let link = |n: u8| {
        let at = text.find(&format!("?s={n}")).unwrap_or_else(|| panic!("no link for {n} in {text}"));
        let start = text[..at].rfind("http").unwrap();
        text[start..at + 4].to_owned()
    };
    let four = link(4);
    let path = &four[four.find("/rate/").unwrap()..];

    // Opening a link records nothing (mail scanners open links): the page has the choice made.
    let page = c.send(Method::GET, path, &[], None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("name=\"s\" value=\"4\" checked"), "{}", page.text);
    assert_eq!(page.header("referrer-policy").as_deref(), Some("no-referrer"));
    assert!(page.header("content-security-policy").unwrap_or_default().contains("default-src 'none'"));
    assert_eq!(rating(&s).await["asked"], true);

    // An edited token opens and rates nothing.
    let sig_at = path.rfind('.').unwrap() + 1;
    let flipped = if &path[sig_at..sig_at + 1] == "0" { "1" } else { "0" };
    let forged = format!("{}{flipped}{}", &path[..sig_at], &path[sig_at + 1..]);
    let form = [("content-type", "application/x-www-form-urlencoded")];
    for method in [Method::GET, Method::POST] {
        let a = c.send(method.clone(), &forged, &form, Some(b"s=1".to_vec())).await;
        assert_eq!(a.status, 404, "{method} {forged}");
    }
    assert_eq!(rating(&s).await["asked"], true);

    // Sent: once. A bad score shows the form again with why.
    let bad = c.send(Method::POST, path, &form, Some(b"s=9".to_vec())).await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("1 to 5"), "{}", bad.text);
    let sent = c.send(Method::POST, path, &form, Some(b"s=4&e=2&c=Quick+and+kind".to_vec())).await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert!(sent.text.contains("Thank you"));
    let state = rating(&s).await;
    assert_eq!((&state["asked"], &state["rated"]["satisfaction"], &state["rated"]["effort"], &state["rated"]["comment"]), (&json!(false), &json!(4), &json!(2), &json!("Quick and kind")));
    let again = c.send(Method::POST, path, &form, Some(b"s=1".to_vec())).await;
    assert_eq!(again.status, 409);
    assert_eq!(rate(&s, json!({ "satisfaction": 1 })).await.code(), "already_rated", "the widget cannot rate the same close again");
}

#[tokio::test]
async fn a_new_conversation_follows_the_held_one_and_erasing_it_erases_both() {
    site("follows", "ratings = 'off'");
    let c = client();
    let first = c.create_conversation("follows").await;
    first.post("m1", "First question").await;
    let other_site = c.create_conversation("other").await;
    let create = |body: Value| async move { client().json(Method::POST, "/v1/sites/follows/conversations", None, &body).await };

    // Only a conversation of this site, with its token, can be followed; nothing is made otherwise.
    for bad in [
        json!({ "follows": { "id": first.id, "token": other_site.token } }),
        json!({ "follows": { "id": other_site.id, "token": other_site.token } }),
        json!({ "follows": { "id": "0".repeat(32), "token": first.token } }),
    ] {
        let refused = create(bad.clone()).await;
        assert_eq!((refused.status, refused.code()), (422, "invalid_follows"), "{bad}");
    }
    let made = create(json!({ "follows": { "id": first.id, "token": first.token }, "context": { "page": { "url": "https://other-shop.test/", "title": "Shop" }, "locale": "de-DE" } })).await;
    assert_eq!(made.status, 201, "{:?}", made.json);
    let second = pigeon_tests::ShopperSession { client: c.clone(), id: made.json["conversation"]["id"].as_str().unwrap().to_owned(), token: made.json["token"].as_str().unwrap().to_owned() };
    // It starts with a note from Pigeon in the shopper's language, and is open.
    let note = second.messages(0).await;
    assert_eq!(note.len(), 1);
    assert_eq!(note[0].author, pigeon_protocol::Author::System);
    assert!(note[0].body.starts_with("Ein neues Gespräch mit Lifecycle Shop."), "{}", note[0].body);
    assert_eq!(rating(&second).await["status"], "open");
    let third = create(json!({ "follows": { "id": second.id, "token": second.token } })).await;
    assert_eq!(third.status, 201);
    let third = pigeon_tests::ShopperSession { client: c.clone(), id: third.json["conversation"]["id"].as_str().unwrap().to_owned(), token: third.json["token"].as_str().unwrap().to_owned() };

    // A wrong token erases nothing, not even the ones it follows.
    let wrong = c.send(Method::DELETE, &format!("/v1/conversations/{}", third.id), &[("authorization", &format!("Bearer {}", first.token))], None).await;
    assert_eq!(wrong.status, 404);
    assert_eq!(first.messages(0).await.len(), 1, "the first is still there");

    // The shopper erases the newest: the ones it follows go with it; another site's stays.
    let erased = c.send(Method::DELETE, &format!("/v1/conversations/{}", third.id), &[("authorization", &format!("Bearer {}", third.token))], None).await;
    assert_eq!(erased.status, 204, "{}", erased.text);
    for s in [&first, &second, &third] {
        let gone = c.get(&format!("/v1/conversations/{}/messages", s.id), Some(&s.token)).await;
        assert_eq!(gone.status, 404, "{} still readable", s.id);
    }
    assert_eq!(other_site.messages(0).await.len(), 0);
    let left = shared().d1_rows(&format!("SELECT count(*) AS n FROM conversations WHERE id IN ('{}', '{}', '{}')", first.id, second.id, third.id));
    assert_eq!(left[0]["n"], 0);
}
