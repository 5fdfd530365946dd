//! Sending one push (RFC 8030): the payload encrypted for the device (RFC 8291, `crypto`),
//! the request signed with the relay's VAPID key (RFC 8292, `vapid`), POSTed to the
//! device's push service.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use worker::{Env, Fetch, Headers, Method, Request, RequestInit};

use super::{crypto, vapid::Vapid};

/// The relay's push settings: `VAPID_PRIVATE_KEY` (a secret) and `VAPID_PUBLIC_KEY`, made
/// with `node scripts/vapid.mjs` (README); without them push is off.
pub struct PushConfig {
    pub vapid: Vapid,
    /// Who the push services may contact about our pushes (`VAPID_SUBJECT`, else
    /// `mailto:notify@MAIL_DOMAIN`).
    pub subject: String,
    /// `PUSH_PRIVATE_ENDPOINTS = "allow"`: endpoints on loopback and private addresses are
    /// accepted (the local push receiver in tests and `make demo`); never in production.
    pub allow_private: bool,
}

impl PushConfig {
    pub fn from_env(env: &Env) -> Option<Self> {
        let private = env.secret("VAPID_PRIVATE_KEY").or_else(|_| env.var("VAPID_PRIVATE_KEY")).ok()?.to_string();
        let public = env.var("VAPID_PUBLIC_KEY").or_else(|_| env.secret("VAPID_PUBLIC_KEY")).ok()?.to_string();
        if private.trim().is_empty() || public.trim().is_empty() {
            return None;
        }
        let vapid = match Vapid::from_base64url(private.trim(), public.trim()) {
            Ok(v) => v,
            Err(e) => {
                worker::console_error!("push is off: VAPID keys unusable: {e}");
                return None;
            }
        };
        let subject = env.var("VAPID_SUBJECT").map(|v| v.to_string()).ok().filter(|s| s.starts_with("mailto:") || s.starts_with("https:")).unwrap_or_else(|| {
            let domain = env.var("MAIL_DOMAIN").map(|v| v.to_string()).unwrap_or_else(|_| "pigeon.example".into());
            format!("mailto:notify@{domain}")
        });
        let allow_private = env.var("PUSH_PRIVATE_ENDPOINTS").is_ok_and(|v| v.to_string() == "allow");
        Some(Self { vapid, subject, allow_private })
    }
}

/// One device's subscription, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub endpoint: String,
    /// base64url P-256 public key of the browser.
    pub p256dh: String,
    /// base64url 16-byte auth secret.
    pub auth: String,
}

/// What the push service said.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    Delivered,
    /// 404 or 410: the subscription is gone; forget the device.
    Gone,
    Failed(String),
}

/// Encrypts `payload` for `device` and POSTs it; `ttl` seconds the service may hold it.
pub async fn send(config: &PushConfig, device: &Device, payload: &[u8], ttl: u32) -> Sent {
    match try_send(config, device, payload, ttl).await {
        Ok(sent) => sent,
        Err(e) => Sent::Failed(e.to_string()),
    }
}

async fn try_send(config: &PushConfig, device: &Device, payload: &[u8], ttl: u32) -> crate::Result<Sent> {
    let bad = |what: &str| crate::Error::Internal(format!("push device: {what}"));
    if !crate::egress::endpoint_allowed(&device.endpoint, config.allow_private) {
        return Ok(Sent::Failed("endpoint not allowed".into()));
    }
    let ua_public = URL_SAFE_NO_PAD.decode(device.p256dh.trim_end_matches('=')).map_err(|_| bad("p256dh"))?;
    let auth = URL_SAFE_NO_PAD.decode(device.auth.trim_end_matches('=')).map_err(|_| bad("auth"))?;
    let salt = crate::tokens::random_bytes::<16>()?;
    // A random 32-byte string is a valid P-256 scalar but for odds of about 2^-32; try again then.
    let mut body = None;
    for _ in 0..4 {
        let ephemeral = crate::tokens::random_bytes::<32>()?;
        match crypto::encrypt(payload, &ua_public, &auth, &ephemeral, &salt) {
            Ok(b) => {
                body = Some(b);
                break;
            }
            Err(crypto::PushError::BadPrivateKey) => continue,
            Err(e) => return Ok(Sent::Failed(e.to_string())),
        }
    }
    let Some(body) = body else { return Ok(Sent::Failed("no usable ephemeral key".into())) };
    let expires = (js_sys::Date::now() / 1000.0) as u64 + 12 * 3600;
    let authorization = config.vapid.authorization(&device.endpoint, &config.subject, expires).map_err(|e| bad(&e.to_string()))?;
    let headers = Headers::new();
    headers.set("authorization", &authorization)?;
    headers.set("content-encoding", "aes128gcm")?;
    headers.set("content-type", "application/octet-stream")?;
    headers.set("ttl", &ttl.to_string())?;
    headers.set("urgency", "high")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers).with_body(Some(js_sys::Uint8Array::from(&body[..]).into()));
    let resp = Fetch::Request(Request::new_with_init(&device.endpoint, &init)?).send().await?;
    Ok(match resp.status_code() {
        200..=202 => Sent::Delivered,
        404 | 410 => Sent::Gone,
        status => Sent::Failed(format!("push service answered {status}")),
    })
}

/// Forgets devices whose push service said they are gone.
pub async fn forget_devices(env: &Env, endpoints: &[String]) -> crate::Result<()> {
    let db = env.d1("DB")?;
    for endpoint in endpoints {
        db.prepare("DELETE FROM push_subscriptions WHERE endpoint = ?1").bind(&[endpoint.as_str().into()])?.run().await?;
    }
    Ok(())
}
