//! A site's settings from the inbox: every teammate reads them, owners change them. What
//! `scripts/site.mjs` sets (words, color, hours with holidays, origins, retention) plus the
//! notification delays; the merchant address and agent key stay with the script. A change is
//! live in this isolate at once and in every other within the site cache's 30 s.

use pigeon_protocol::settings::{self as rules};
use pigeon_protocol::{SettingsView, SiteSettings, validate::Invalid};
use wasm_bindgen::JsValue;
use worker::{Request, Response};

use crate::routes::Ctx;
use crate::sites::reply_time::Keep;
use crate::sites::{self, Site};
use crate::{Error, Result, http, origin};

/// The settings as stored, with the email delay the relay uses when the site has none.
fn settings_of(cx: &Ctx, site: &Site) -> SiteSettings {
    SiteSettings {
        name: site.name.clone(),
        greeting: site.greeting.clone(),
        expected_reply: site.expected_reply.clone(),
        brand_color: site.brand_color.clone(),
        business_hours: site.hours.clone(),
        origins: site.origins.clone(),
        retention_days: (site.retention_days.ceil() as u32).max(1),
        push_delay_seconds: site.push_delay_seconds,
        email_delay_seconds: site.email_delay_seconds.unwrap_or_else(|| default_email_delay(cx)),
        reply_time: site.reply_time,
        auto_close_days: site.auto_close_days,
        ratings: site.ratings,
    }
}

fn default_email_delay(cx: &Ctx) -> u32 {
    cx.env.var("MERCHANT_NOTIFY_DELAY_SECONDS").ok().and_then(|v| v.to_string().parse().ok()).unwrap_or(120)
}

/// The settings, and the widget's words with them now (the reply time measured if asked:
/// stored, or for a preview only shown).
async fn view(cx: &Ctx, site: &Site, keep: Keep) -> Result<SettingsView> {
    let site = sites::reply_time::refresh(&cx.env, site, keep).await;
    Ok(SettingsView { settings: settings_of(cx, &site), widget: sites::config(&site, sites::reply_time::Lang::En), editable: cx.teammate()?.must_own().is_ok() })
}

/// The body checked by the protocol's rules, its origins normalised and its time zone known.
/// Fields added since a client was written (the lifecycle's three) keep their stored values
/// when the body leaves them out, so an older inbox tab or script saving settings never turns
/// them off.
async fn input(req: &mut Request, site: &Site) -> Result<SiteSettings> {
    let mut body: serde_json::Value = http::read_json(req).await?;
    if let Some(map) = body.as_object_mut() {
        let stored = [("reply_time", serde_json::json!(site.reply_time)), ("auto_close_days", site.auto_close_days.into()), ("ratings", serde_json::json!(site.ratings))];
        for (key, value) in stored {
            map.entry(key).or_insert(value);
        }
    }
    let body: SiteSettings = serde_json::from_value(body).map_err(|e| Error::MalformedJson(e.to_string()))?;
    let mut s = rules::site_settings(&body)?;
    let mut origins = Vec::with_capacity(s.origins.len());
    for o in &s.origins {
        let Some(n) = origin::normalize(o) else {
            let shown: String = o.chars().take(60).collect();
            return Err(Error::Invalid(Invalid::new("invalid_settings", format!("“{shown}” is not an origin: scheme://host[:port], like https://shop.example."))));
        };
        if !origins.contains(&n) {
            origins.push(n);
        }
    }
    s.origins = origins;
    if !sites::zone_exists(&s.business_hours.time_zone) {
        return Err(Error::Invalid(Invalid::new("invalid_settings", format!("“{}” is not a time zone this relay knows.", s.business_hours.time_zone))));
    }
    Ok(s)
}

/// The site as it would be with `s`.
fn with(site: &Site, s: &SiteSettings) -> Site {
    Site {
        name: s.name.clone(),
        greeting: s.greeting.clone(),
        expected_reply: s.expected_reply.clone(),
        brand_color: s.brand_color.clone(),
        hours: s.business_hours.clone(),
        origins: s.origins.clone(),
        retention_days: f64::from(s.retention_days),
        push_delay_seconds: s.push_delay_seconds,
        email_delay_seconds: Some(s.email_delay_seconds),
        reply_time: s.reply_time,
        auto_close_days: s.auto_close_days,
        ratings: s.ratings,
        measured_reply_at: 0.0,
        ..site.clone()
    }
}

/// `GET /v1/inbox/sites/{site}/settings`: any teammate (`editable` says whether they may).
pub async fn get(cx: &Ctx) -> Result<Response> {
    http::json(200, &view(cx, &cx.site, Keep::Store).await?)
}

/// `POST /v1/inbox/sites/{site}/settings/preview`: what the widget would show with these
/// settings now; nothing is stored.
pub async fn preview(mut req: Request, cx: &Ctx) -> Result<Response> {
    let s = input(&mut req, &cx.site).await?;
    http::json(200, &view(cx, &with(&cx.site, &s), Keep::Preview).await?)
}

/// `PUT /v1/inbox/sites/{site}/settings` (owners): stores them; answers as `GET`.
pub async fn put(mut req: Request, cx: &Ctx) -> Result<Response> {
    cx.teammate()?.must_own()?;
    let s = input(&mut req, &cx.site).await?;
    let hours = serde_json::to_string(&s.business_hours).map_err(|e| Error::Internal(e.to_string()))?;
    let origins = serde_json::to_string(&s.origins).map_err(|e| Error::Internal(e.to_string()))?;
    cx.env
        .d1("DB")?
        .prepare(
            "UPDATE sites SET name = ?2, greeting = ?3, expected_reply = ?4, brand_color = ?5, business_hours = ?6, \
             allowed_origins = ?7, retention_days = ?8, push_delay_seconds = ?9, email_delay_seconds = ?10, \
             reply_time = ?11, auto_close_days = ?12, ratings = ?13, measured_reply_at = NULL WHERE id = ?1",
        )
        .bind(&[
            cx.site.id.as_str().into(),
            s.name.as_str().into(),
            s.greeting.as_str().into(),
            s.expected_reply.as_str().into(),
            s.brand_color.as_str().into(),
            hours.into(),
            origins.into(),
            JsValue::from(s.retention_days),
            JsValue::from(s.push_delay_seconds),
            JsValue::from(s.email_delay_seconds),
            s.reply_time.as_str().into(),
            JsValue::from(s.auto_close_days),
            s.ratings.as_str().into(),
        ])?
        .run()
        .await?;
    sites::forget(&cx.site.id);
    worker::console_log!("settings: site {} changed", cx.site.id);
    // New hours or a new choice: measured again now (`with` forgets the old measurement).
    http::json(200, &view(cx, &with(&cx.site, &s), Keep::Store).await?)
}
