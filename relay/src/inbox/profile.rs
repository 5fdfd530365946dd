//! The signed-in person's own side: how they want to hear about messages (D1 `profiles`), and
//! the devices where they enabled push (D1 `push_subscriptions`). Not tied to one site: a
//! person on two sites has one profile and one set of devices.

use pigeon_protocol::settings as rules;
use pigeon_protocol::{NotifyBy, Profile, PushEndpoint, PushInfo, PushSubscription, validate::Invalid};
use wasm_bindgen::JsValue;
use worker::{Env, Request, Response};

use super::Person;
use crate::{Error, Result, http, push};

#[derive(serde::Deserialize)]
struct Row {
    notify: String,
    push_preview: u32,
}

/// `email`'s profile; the default (both, no text in push) until they choose.
pub async fn load(env: &Env, email: &str) -> Result<Profile> {
    let row: Option<Row> = env.d1("DB")?.prepare("SELECT notify, push_preview FROM profiles WHERE email = ?1").bind(&[email.into()])?.first(None).await?;
    Ok(row.map_or_else(Profile::default, |r| Profile { notify: NotifyBy::parse(&r.notify).unwrap_or_default(), push_preview: r.push_preview == 1 }))
}

/// `GET /v1/inbox/me/profile`.
pub async fn get(env: &Env, person: &Person) -> Result<Response> {
    http::json(200, &load(env, &person.email).await?)
}

/// `PUT /v1/inbox/me/profile` `{notify, push_preview}` → `200` and the profile.
pub async fn put(mut req: Request, env: &Env, person: &Person) -> Result<Response> {
    let profile: Profile = http::read_json(&mut req).await?;
    env.d1("DB")?
        .prepare(
            "INSERT INTO profiles (email, notify, push_preview) VALUES (?1, ?2, ?3) \
             ON CONFLICT (email) DO UPDATE SET notify = excluded.notify, push_preview = excluded.push_preview, \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        )
        .bind(&[person.email.as_str().into(), profile.notify.as_str().into(), JsValue::from(u32::from(profile.push_preview))])?
        .run()
        .await?;
    http::json(200, &profile)
}

async fn devices(env: &Env, email: &str) -> Result<u32> {
    #[derive(serde::Deserialize)]
    struct Count {
        n: u32,
    }
    let c: Option<Count> = env.d1("DB")?.prepare("SELECT COUNT(*) AS n FROM push_subscriptions WHERE email = ?1").bind(&[email.into()])?.first(None).await?;
    Ok(c.map_or(0, |c| c.n))
}

/// `GET /v1/inbox/push`: the VAPID public key for `pushManager.subscribe`, and how many
/// devices this person has enabled.
pub async fn info(env: &Env, person: &Person) -> Result<Response> {
    let public_key = push::PushConfig::from_env(env).map(|c| c.vapid.public_key());
    http::json(200, &PushInfo { public_key, devices: devices(env, &person.email).await? })
}

/// `POST /v1/inbox/push/subscriptions` `PushSubscription` → `201 PushInfo`: this device gets
/// this person's pushes (moved from whoever had it before).
pub async fn add(mut req: Request, env: &Env, person: &Person) -> Result<Response> {
    let Some(config) = push::PushConfig::from_env(env) else {
        return Err(Error::Invalid(Invalid::new("push_off", "This relay has no VAPID keys, so it cannot send push notifications.")));
    };
    let body: PushSubscription = http::read_json(&mut req).await?;
    let sub = rules::push_subscription(&body)?;
    if !push::crypto::usable_subscription_key(&sub.keys.p256dh) {
        return Err(Error::Invalid(Invalid::new("invalid_subscription", "The subscription's p256dh is not a P-256 public key.")));
    }
    if !crate::egress::endpoint_allowed(&sub.endpoint, config.allow_private) {
        return Err(Error::Invalid(Invalid::new("invalid_subscription", "The push endpoint must be a public https URL.")));
    }
    env.d1("DB")?
        .prepare(
            "INSERT INTO push_subscriptions (endpoint, email, p256dh, auth, created_ms) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (endpoint) DO UPDATE SET email = excluded.email, p256dh = excluded.p256dh, auth = excluded.auth, created_ms = excluded.created_ms",
        )
        .bind(&[sub.endpoint.as_str().into(), person.email.as_str().into(), sub.keys.p256dh.as_str().into(), sub.keys.auth.as_str().into(), JsValue::from_f64(js_sys::Date::now())])?
        .run()
        .await?;
    http::json(201, &PushInfo { public_key: Some(config.vapid.public_key()), devices: devices(env, &person.email).await? })
}

/// `DELETE /v1/inbox/push/subscriptions` `{endpoint}` → `200 PushInfo`: this device stops
/// getting pushes (only this person's own devices can be removed).
pub async fn remove(mut req: Request, env: &Env, person: &Person) -> Result<Response> {
    let body: PushEndpoint = http::read_json(&mut req).await?;
    env.d1("DB")?
        .prepare("DELETE FROM push_subscriptions WHERE endpoint = ?1 AND email = ?2")
        .bind(&[body.endpoint.trim().into(), person.email.as_str().into()])?
        .run()
        .await?;
    let public_key = push::PushConfig::from_env(env).map(|c| c.vapid.public_key());
    http::json(200, &PushInfo { public_key, devices: devices(env, &person.email).await? })
}
