//! The inbox's Settings against the real relay: a site's settings read by every teammate and
//! changed by owners only, each bad value refused with a sentence and nothing stored, the
//! preview storing nothing, a change reaching the widget's route at once (this isolate) with
//! holidays closing the shop; a teammate's own profile and push devices.

use reqwest::Method;
use serde_json::{Value, json};

use crate::client;
use crate::inbox::{other_owner, sam};

const SETTINGS: &str = "/v1/inbox/sites/other/settings";

/// The widget's view of the other shop, as its page would ask for it.
async fn widget() -> Value {
    let a = client().send(Method::GET, "/v1/sites/other", &[("origin", "https://other-shop.test")], None).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    a.json
}

/// `YYYY-MM-DD` of the UTC day `offset` days from today.
pub(crate) fn utc_date(offset: i64) -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    // Howard Hinnant's civil_from_days.
    let z = secs.div_euclid(86_400) + offset + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[tokio::test]
async fn owners_change_the_settings_agents_read_them_and_bad_values_change_nothing() {
    let owner = other_owner().await;
    let before = owner.get(SETTINGS).await;
    assert_eq!(before.status, 200, "{:?}", before.json);
    assert_eq!(before.json["editable"], true);
    let settings = before.json["settings"].clone();
    assert_eq!(settings["origins"], json!(["https://other-shop.test"]));
    assert_eq!(before.json["widget"], widget().await, "the view's widget is what the widget gets");

    // Each bad value is refused with a sentence naming it; the preview and the save alike.
    let with = |key: &str, value: Value| {
        let mut s = settings.clone();
        s[key] = value;
        s
    };
    let hours = |days: Value, holidays: Value| json!({ "time_zone": "Europe/Berlin", "days": days, "holidays": holidays });
    let open = json!([{ "open": "09:00", "close": "17:00" }]);
    let week = |monday: Value| json!([monday, open, open, open, open, [], []]);
    for (bad, mentions) in [
        (with("name", json!("  ")), "name"),
        (with("brand_color", json!("blue")), "#rrggbb"),
        (with("origins", json!([])), "origins"),
        (with("origins", json!(["shop dot example"])), "shop dot example"),
        (with("retention_days", json!(0)), "1 to 3650"),
        (with("push_delay_seconds", json!(3601)), "3600"),
        (with("email_delay_seconds", json!(86_401)), "86400"),
        (with("auto_close_days", json!(366)), "365"),
        (with("business_hours", json!({ "time_zone": "Mars/Olympus_Mons", "days": [] })), "Mars/Olympus_Mons"),
        (with("business_hours", hours(json!([open]), json!([]))), "seven days"),
        (with("business_hours", hours(week(json!([{ "open": "17:00", "close": "09:00" }])), json!([]))), "closes before it opens"),
        (with("business_hours", hours(week(json!([{ "open": "09:00", "close": "13:00" }, { "open": "12:00", "close": "17:00" }])), json!([]))), "overlap"),
        (with("business_hours", hours(week(json!([{ "open": "9am", "close": "17:00" }])), json!([]))), "HH:MM"),
        (with("business_hours", hours(week(open.clone()), json!(["2026-02-30"]))), "2026-02-30"),
    ] {
        for (method, path) in [(Method::POST, format!("{SETTINGS}/preview")), (Method::PUT, SETTINGS.to_owned())] {
            let a = match method {
                Method::PUT => owner.put(&path, &bad).await,
                _ => owner.post(&path, Some(&bad)).await,
            };
            assert_eq!((a.status, a.code()), (422, "invalid_settings"), "{method} {bad}");
            let message = a.json["error"]["message"].as_str().unwrap();
            assert!(message.contains(mentions), "{message:?} should mention {mentions:?}");
        }
    }
    assert_eq!(owner.put(SETTINGS, &json!({ "name": "x" })).await.code(), "malformed_json");
    assert_eq!(owner.put(SETTINGS, &with("ratings", json!("sometimes"))).await.code(), "malformed_json");
    assert_eq!(owner.put(SETTINGS, &with("reply_time", json!("guessed"))).await.code(), "malformed_json");
    assert_eq!(owner.get(SETTINGS).await.json, before.json, "nothing was stored");

    // The preview answers what the widget would say, storing nothing: closed today and
    // tomorrow (holidays), open again the day after at midnight in the site's zone.
    let always = json!([{ "open": "00:00", "close": "24:00" }]);
    let holidays = json!([utc_date(1), utc_date(0), utc_date(0)]);
    let closed = with("business_hours", json!({ "time_zone": "UTC", "days": [always, always, always, always, always, always, always], "holidays": holidays }));
    let preview = owner.post(&format!("{SETTINGS}/preview"), Some(&closed)).await;
    assert_eq!(preview.status, 200, "{:?}", preview.json);
    assert_eq!(preview.json["widget"]["available_now"], false);
    let next = preview.json["widget"]["next_open_at"].as_str().unwrap_or_default().to_owned();
    assert!(next.starts_with(&format!("{}T00:00", utc_date(2))), "open again after the holidays, not {next:?}");
    assert_eq!(preview.json["settings"]["business_hours"]["holidays"], json!([utc_date(0), utc_date(1)]), "sorted, once each");
    assert_eq!(widget().await, before.json["widget"], "a preview stores nothing");

    // An agent reads and cannot change; another site's owner does not see this site.
    let sam = sam().await;
    let theirs = sam.get("/v1/inbox/sites/demo/settings").await;
    assert_eq!((theirs.status, &theirs.json["editable"]), (200, &json!(false)));
    let refused = sam.put("/v1/inbox/sites/demo/settings", &theirs.json["settings"]).await;
    assert_eq!((refused.status, refused.code()), (403, "owner_only"));
    assert_eq!(sam.get(SETTINGS).await.status, 404);
    assert_eq!(sam.put(SETTINGS, &settings).await.status, 404);

    // Saved: the widget's route answers the new greeting and hours at once (this isolate).
    let mut changed = closed.clone();
    changed["greeting"] = json!("Hello from the settings test");
    changed["origins"] = json!(["https://other-shop.test/", "https://other-shop.test"]);
    changed["ratings"] = json!("ask");
    changed["auto_close_days"] = json!(14);
    let saved = owner.put(SETTINGS, &changed).await;
    assert_eq!(saved.status, 200, "{:?}", saved.json);
    assert_eq!((&saved.json["settings"]["ratings"], &saved.json["settings"]["auto_close_days"]), (&json!("ask"), &json!(14)));
    // A client from before these settings saves without them: they keep their values.
    let mut older = changed.clone();
    for k in ["ratings", "auto_close_days", "reply_time"] {
        older.as_object_mut().unwrap().remove(k);
    }
    let kept = owner.put(SETTINGS, &older).await;
    assert_eq!((&kept.json["settings"]["ratings"], &kept.json["settings"]["auto_close_days"]), (&json!("ask"), &json!(14)), "{:?}", kept.json);
    assert_eq!(saved.json["settings"]["origins"], json!(["https://other-shop.test"]), "normalised, once");
    let now = widget().await;
    assert_eq!((now["greeting"].as_str(), &now["available_now"]), (Some("Hello from the settings test"), &json!(false)));
    assert_eq!(owner.get(SETTINGS).await.json["settings"], saved.json["settings"]);

    let restored = owner.put(SETTINGS, &settings).await;
    assert_eq!(restored.status, 200, "{:?}", restored.json);
    assert_eq!(widget().await, before.json["widget"]);
}

#[tokio::test]
async fn a_teammate_chooses_how_to_hear_and_enables_push_per_device() {
    let me = other_owner().await;
    let profile = me.get("/v1/inbox/me/profile").await;
    assert_eq!(profile.status, 200);
    let original = profile.json.clone();
    let put = me.put("/v1/inbox/me/profile", &json!({ "notify": "push", "push_preview": true })).await;
    assert_eq!((put.status, &put.json), (200, &json!({ "notify": "push", "push_preview": true })));
    assert_eq!(me.get("/v1/inbox/me/profile").await.json, put.json);
    assert_eq!(me.put("/v1/inbox/me/profile", &json!({ "notify": "pigeon", "push_preview": true })).await.status, 400);
    assert_eq!(me.get("/v1/inbox/me/profile").await.json, put.json, "a bad choice changes nothing");

    let info = me.get("/v1/inbox/push").await;
    assert_eq!(info.status, 200);
    let key = info.json["public_key"].as_str().expect("the stack has VAPID keys");
    assert_eq!(key.len(), 87, "a P-256 point, base64url without padding");
    let devices = info.json["devices"].as_u64().unwrap();

    // RFC 8291's example browser key; a point off the curve is refused like a bad shape.
    let p256dh = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    let off_curve = format!("{}A", &p256dh[..86]);
    let auth = "A".repeat(22);
    let endpoint = format!("http://127.0.0.1:9/push/{}", std::process::id());
    let sub = |endpoint: &str, p256dh: &str, auth: &str| json!({ "endpoint": endpoint, "keys": { "p256dh": p256dh, "auth": auth } });
    for bad in [
        sub("ftp://push.example/x", p256dh, &auth),
        sub(&format!("https://push.example/{}", "x".repeat(1100)), p256dh, &auth),
        sub("https://push.example/a b", p256dh, &auth),
        sub(&endpoint, "short", &auth),
        sub(&endpoint, &off_curve, &auth),
        sub(&endpoint, p256dh, "not*base64url*at*all!"),
    ] {
        let a = me.post("/v1/inbox/push/subscriptions", Some(&bad)).await;
        assert_eq!((a.status, a.code()), (422, "invalid_subscription"), "{bad}");
    }
    let added = me.post("/v1/inbox/push/subscriptions", Some(&sub(&endpoint, p256dh, &auth))).await;
    assert_eq!((added.status, added.json["devices"].as_u64()), (201, Some(devices + 1)), "{:?}", added.json);
    let again = me.post("/v1/inbox/push/subscriptions", Some(&sub(&endpoint, p256dh, &auth))).await;
    assert_eq!(again.json["devices"].as_u64(), Some(devices + 1), "the same device once");
    // Only its owner removes a device.
    let sam = sam().await;
    let sams = sam.send_json(Method::DELETE, "/v1/inbox/push/subscriptions", &json!({ "endpoint": endpoint })).await;
    assert_eq!(sams.status, 200);
    assert_eq!(me.get("/v1/inbox/push").await.json["devices"].as_u64(), Some(devices + 1));
    let removed = me.send_json(Method::DELETE, "/v1/inbox/push/subscriptions", &json!({ "endpoint": endpoint })).await;
    assert_eq!((removed.status, removed.json["devices"].as_u64()), (200, Some(devices)));

    // Signed out, none of it answers.
    let c = client();
    for path in ["/v1/inbox/me/profile", "/v1/inbox/push"] {
        assert_eq!(c.get(path, None).await.code(), "signed_out");
    }
    me.put("/v1/inbox/me/profile", &original).await;
}
