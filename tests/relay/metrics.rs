//! Reports against the real relay: a history seeded in D1 (dates in the past, worked out by
//! hand: a weekend and the spring clock change in Berlin inside, business hours Monday to
//! Friday 09:00-17:00) gives the numbers computed by hand, with the runtime's own time zone
//! data; a conversation lived through the API (reply, close, reopen) is counted within a
//! second or so, and its events leave D1 when it is erased.

use pigeon_tests::shared;
use reqwest::Method;
use serde_json::json;

use crate::client;
use crate::inbox::eventually;
use crate::settings::utc_date;

/// A site of its own (the key is `other`'s), so no other test's conversations are counted.
const SITE: &str = "reports";
const KEY: &str = "other-agent-key-for-local-use-only";

fn seed() {
    let hours = r#"{"time_zone":"Europe/Berlin","days":[[{"open":"09:00","close":"17:00"}],[{"open":"09:00","close":"17:00"}],[{"open":"09:00","close":"17:00"}],[{"open":"09:00","close":"17:00"}],[{"open":"09:00","close":"17:00"}],[],[]]}"#;
    let conversations = [("rpt_a", "2026-03-27T15:00:00.000Z"), ("rpt_b", "2026-03-30T07:00:00.000Z"), ("rpt_c", "2026-03-31T10:00:00.000Z"), ("rpt_d", "2026-04-01T07:00:00.000Z"), ("rpt_e", "2026-04-03T07:00:00.000Z")];
    // (conversation, ord, kind, at, channel, teammate)
    let events = [
        ("rpt_a", 1, "reply", "2026-03-30T08:30:00.000Z", Some("inbox"), Some("olivia@reports.test")),
        ("rpt_a", 2, "closed", "2026-03-30T09:00:00.000Z", None, None),
        ("rpt_b", 1, "reply", "2026-03-30T07:20:00.000Z", Some("email"), Some("olivia@reports.test")),
        ("rpt_b", 2, "closed", "2026-03-30T08:00:00.000Z", None, None),
        ("rpt_b", 3, "reopened", "2026-04-02T08:00:00.000Z", None, None),
        ("rpt_b", 4, "reply", "2026-04-02T08:10:00.000Z", Some("api"), Some("sam@reports.test")),
        ("rpt_b", 5, "reply", "2026-04-02T08:30:00.000Z", Some("inbox"), Some("olivia@reports.test")),
        ("rpt_b", 6, "closed", "2026-04-02T09:00:00.000Z", None, None),
        ("rpt_d", 1, "reply", "2026-04-01T07:05:00.000Z", Some("api"), None),
        ("rpt_d", 2, "closed", "2026-04-01T07:30:00.000Z", None, None),
        ("rpt_d", 3, "reopened", "2026-04-09T07:30:00.000Z", None, None),
        ("rpt_e", 1, "reply", "2026-04-03T07:01:00.000Z", Some("inbox"), Some("sam@reports.test")),
    ];
    let q = |v: Option<&str>| v.map_or("NULL".to_owned(), |s| format!("'{s}'"));
    let mut sql = format!(
        "INSERT OR IGNORE INTO sites (id, name, allowed_origins, merchant_email, business_hours, agent_key_hash) \
         SELECT '{SITE}', 'Reports Shop', '[]', 'olivia@reports.test', '{hours}', agent_key_hash FROM sites WHERE id = 'other'; \
         INSERT OR IGNORE INTO teammates (site_id, email, name, role) VALUES ('{SITE}', 'olivia@reports.test', 'Olivia', 'owner');"
    );
    for (id, at) in conversations {
        sql.push_str(&format!("INSERT OR REPLACE INTO conversations (id, site_id, status, created_at) VALUES ('{id}', '{SITE}', 'open', '{at}');"));
    }
    for (id, ord, kind, at, channel, teammate) in events {
        sql.push_str(&format!(
            "INSERT OR REPLACE INTO conversation_events (conversation_id, ord, site_id, kind, at, channel, teammate) VALUES ('{id}', {ord}, '{SITE}', '{kind}', '{at}', {}, {});",
            q(channel),
            q(teammate)
        ));
    }
    shared().d1_rows(&sql);
}

#[tokio::test]
async fn a_seeded_history_gives_the_numbers_worked_out_by_hand() {
    seed();
    let c = client();
    let got = c.get(&format!("/v1/agent/sites/{SITE}/metrics?from=2026-03-27&to=2026-04-02"), Some(KEY)).await;
    assert_eq!(got.status, 200, "{:?}", got.json);
    let m = got.json;
    assert_eq!((m["from"].as_str(), m["to"].as_str(), m["time_zone"].as_str(), m["conversations"].as_u64()), (Some("2026-03-27"), Some("2026-04-02"), Some("Europe/Berlin"), Some(4)));
    let days: Vec<(String, u64)> = m["per_day"].as_array().unwrap().iter().map(|d| (d["date"].as_str().unwrap().to_owned(), d["conversations"].as_u64().unwrap())).collect();
    let want = [("2026-03-27", 1), ("2026-03-28", 0), ("2026-03-29", 0), ("2026-03-30", 1), ("2026-03-31", 1), ("2026-04-01", 1), ("2026-04-02", 0)];
    assert_eq!(days, want.map(|(d, n)| (d.to_owned(), n)));
    // First responses 3,930 / 20 / 5 minutes wall clock; 150 / 20 / 5 within business hours
    // (Friday 16:00-17:00 CET and Monday 09:00-10:30 CEST for the first).
    assert_eq!(m["first_response"], json!({ "count": 3, "median_minutes": 20, "p90_minutes": 3930, "business_median_minutes": 20, "business_p90_minutes": 150 }));
    assert_eq!(m["resolution"], json!({ "count": 2, "median_minutes": 3960, "p90_minutes": 4440, "business_median_minutes": 180, "business_p90_minutes": 1560 }));
    assert_eq!((m["closed"].as_u64(), m["reopened"].as_u64()), (Some(3), Some(1)));
    assert!((m["reopen_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(m["first_contact_resolution"], json!(0.5));
    assert_eq!(m["replies_by_channel"], json!({ "inbox": 2, "email": 1, "api": 2 }));
    assert_eq!(
        m["teammates"],
        json!([
            { "email": "olivia@reports.test", "name": "Olivia", "conversations": 2, "replies": 3 },
            { "email": "sam@reports.test", "name": null, "conversations": 1, "replies": 1 },
        ])
    );
    // Another site's key sees nothing of it; a bad range is a clear 422.
    assert_eq!(c.get(&format!("/v1/agent/sites/{SITE}/metrics?from=2026-03-27&to=2026-04-02"), Some("demo-agent-key-for-local-use-only")).await.status, 401);
    for bad in ["from=2026-04-02&to=2026-03-27", "from=2026-03-27", "from=27.03.2026&to=2026-04-02", "from=2024-01-01&to=2026-01-01"] {
        let refused = c.get(&format!("/v1/agent/sites/{SITE}/metrics?{bad}"), Some(KEY)).await;
        assert_eq!((refused.status, refused.code()), (422, "invalid_query"), "{bad}");
    }
}

#[tokio::test]
async fn a_conversation_lived_through_the_api_is_counted_and_erased_with_it() {
    seed();
    let c = client();
    let s = c.create_conversation(SITE).await;
    assert_eq!(s.post("q1", "Do you have it in blue?").await.status, 201);
    assert_eq!(c.agent_post(KEY, &s.id, "a1", "We do.").await.status, 201);
    let close = c.json(Method::POST, &format!("/v1/agent/conversations/{}/close", s.id), Some(KEY), &json!({})).await;
    assert_eq!(close.status, 204, "{:?}", close.json);
    assert_eq!(s.post("q2", "Great, and in green?").await.status, 201);
    let rows = || shared().d1_rows(&format!("SELECT kind, channel FROM conversation_events WHERE conversation_id = '{}' ORDER BY ord", s.id));
    eventually("the conversation's events in D1", async || rows().len() == 3).await;
    let kinds: Vec<(String, Option<String>)> = rows().iter().map(|r| (r["kind"].as_str().unwrap().to_owned(), r["channel"].as_str().map(str::to_owned))).collect();
    assert_eq!(kinds, [("reply".to_owned(), Some("api".to_owned())), ("closed".to_owned(), None), ("reopened".to_owned(), None)]);
    // Yesterday to tomorrow in UTC: today in Berlin, whatever the hour.
    let (from, to) = (utc_date(-1), utc_date(1));
    let m = c.get(&format!("/v1/agent/sites/{SITE}/metrics?from={from}&to={to}"), Some(KEY)).await.json;
    assert_eq!((m["conversations"].as_u64(), m["first_response"]["count"].as_u64(), m["closed"].as_u64(), m["reopened"].as_u64()), (Some(1), Some(1), Some(1), Some(1)), "{m}");
    assert_eq!(m["replies_by_channel"], json!({ "inbox": 0, "email": 0, "api": 1 }));
    // Erased: its events go with it.
    assert_eq!(c.json(Method::DELETE, &format!("/v1/conversations/{}", s.id), Some(&s.token), &json!({})).await.status, 204);
    assert!(rows().is_empty());
}

