//! Sites: one D1 row per merchant site. Read often, changed rarely, so each isolate keeps a
//! short-lived copy (changes reach every isolate within `SITE_TTL_MS`).

pub mod hours;
pub mod reply_time;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use pigeon_protocol::{BusinessHours, Ratings, ReplyTime, SiteConfig, validate};
use serde::Deserialize;
use worker::{Env, Response};

use crate::{Error, Result, http, tokens};

pub use hours::{Availability, availability, zone_exists};

const SITE_TTL_MS: f64 = 30_000.0;
const MAX_CACHED_CONVERSATIONS: usize = 50_000;
const MAX_CACHED_ORIGINS: usize = 1_000;

/// A site, parsed once when read from D1: its origins normalised, its hours typed.
#[derive(Debug, Clone)]
pub struct Site {
    pub id: String,
    pub name: String,
    /// Normalised (see [`crate::origin`]): compared as they are.
    pub origins: Vec<String>,
    pub merchant_email: String,
    pub hours: BusinessHours,
    pub expected_reply: String,
    pub greeting: String,
    pub brand_color: String,
    pub agent_key_hash: String,
    pub retention_days: f64,
    /// A shopper message nobody has seen is pushed to teammates' devices after this.
    pub push_delay_seconds: u32,
    /// ... and emailed after this; `None`: the relay's `MERCHANT_NOTIFY_DELAY_SECONDS`.
    pub email_delay_seconds: Option<u32>,
    pub reply_time: ReplyTime,
    /// The last measured reply time (see [`reply_time`]): minutes, `None` when too few
    /// conversations were answered, and when it was measured (ms; 0: never).
    pub measured_reply_minutes: Option<u32>,
    pub measured_reply_at: f64,
    /// 0: never.
    pub auto_close_days: u32,
    pub ratings: Ratings,
}

impl Site {
    /// Does the site allow `origin` (a request's `Origin` header)?
    pub fn allows(&self, origin: &str) -> bool {
        crate::origin::normalize(origin).is_some_and(|o| self.origins.contains(&o))
    }
}

/// A site as stored in D1 (`migrations/0001_init.sql`).
#[derive(Deserialize)]
struct Row {
    id: String,
    name: String,
    /// JSON array of origins such as `"https://shop.example"`.
    allowed_origins: String,
    merchant_email: String,
    /// JSON `BusinessHours`.
    business_hours: String,
    expected_reply: String,
    greeting: String,
    brand_color: String,
    agent_key_hash: String,
    retention_days: f64,
    push_delay_seconds: u32,
    email_delay_seconds: Option<u32>,
    reply_time: String,
    measured_reply_minutes: Option<u32>,
    measured_reply_at: Option<f64>,
    /// Whole days from the inbox; the tests store a fraction (seconds) straight in D1.
    auto_close_days: f64,
    ratings: String,
}

impl From<Row> for Site {
    /// Unreadable origins allow nothing and unreadable hours mean always open; both are
    /// logged, since `scripts/site.mjs` never writes them.
    fn from(row: Row) -> Self {
        let origins: Vec<String> = serde_json::from_str(&row.allowed_origins).unwrap_or_else(|e| {
            worker::console_error!("site {}: allowed_origins unreadable: {e}", row.id);
            Vec::new()
        });
        let hours = serde_json::from_str(&row.business_hours).unwrap_or_else(|e| {
            worker::console_error!("site {}: business_hours unreadable: {e}", row.id);
            BusinessHours { time_zone: "UTC".into(), days: vec![], holidays: vec![] }
        });
        Site {
            origins: origins.iter().filter_map(|o| crate::origin::normalize(o)).collect(),
            hours,
            id: row.id,
            name: row.name,
            merchant_email: row.merchant_email,
            expected_reply: row.expected_reply,
            greeting: row.greeting,
            brand_color: row.brand_color,
            agent_key_hash: row.agent_key_hash,
            retention_days: row.retention_days,
            push_delay_seconds: row.push_delay_seconds,
            email_delay_seconds: row.email_delay_seconds,
            reply_time: ReplyTime::parse(&row.reply_time).unwrap_or_default(),
            measured_reply_minutes: row.measured_reply_minutes,
            measured_reply_at: row.measured_reply_at.unwrap_or(0.0),
            auto_close_days: row.auto_close_days.max(0.0).ceil() as u32,
            ratings: Ratings::parse(&row.ratings).unwrap_or_default(),
        }
    }
}

thread_local! {
    static SITES: RefCell<HashMap<String, (f64, Option<Rc<Site>>)>> = RefCell::new(HashMap::new());
    static CONVERSATION_SITES: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
    static ANY_SITE_ALLOWS: RefCell<HashMap<String, (f64, bool)>> = RefCell::new(HashMap::new());
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The site, shared: every request reads it, and a copy of its strings each time would cost
/// more than the lookup.
pub async fn load(env: &Env, site_id: &str) -> Result<Option<Rc<Site>>> {
    if !validate::site_id(site_id) {
        return Ok(None);
    }
    let cached = SITES.with(|c| c.borrow().get(site_id).cloned());
    if let Some((at, site)) = cached
        && now_ms() - at < SITE_TTL_MS
    {
        return Ok(site);
    }
    let db = env.d1("DB")?;
    let row: Option<Row> = db
        .prepare(
            "SELECT id, name, allowed_origins, merchant_email, business_hours, expected_reply, \
             greeting, brand_color, agent_key_hash, retention_days, push_delay_seconds, email_delay_seconds, \
             reply_time, measured_reply_minutes, measured_reply_at, auto_close_days, ratings FROM sites WHERE id = ?1",
        )
        .bind(&[site_id.into()])?
        .first(None)
        .await?;
    let site = row.map(|row| Rc::new(Site::from(row)));
    SITES.with(|c| c.borrow_mut().insert(site_id.to_owned(), (now_ms(), site.clone())));
    Ok(site)
}

/// Does the site allow `origin` (a request's `Origin` header)? Compared normalised.
pub async fn origin_allowed(env: &Env, site_id: &str, origin: &str) -> Result<bool> {
    Ok(match load(env, site_id).await? {
        Some(site) => site.allows(origin),
        None => false,
    })
}

/// Does any site allow `origin`? For routes whose site is not known from the path: the
/// preflight of `/v1/resume`, and conversations never seen. Cached like sites.
pub async fn any_site_allows(env: &Env, origin: &str) -> Result<bool> {
    #[derive(Deserialize)]
    struct Hit {
        #[allow(dead_code)]
        hit: u32,
    }
    let Some(origin) = crate::origin::normalize(origin) else { return Ok(false) };
    if let Some((at, allows)) = ANY_SITE_ALLOWS.with(|c| c.borrow().get(&origin).copied())
        && now_ms() - at < SITE_TTL_MS
    {
        return Ok(allows);
    }
    // Stored origins are normalised (scripts/site.mjs, migrations/0003).
    let row: Option<Hit> = env
        .d1("DB")?
        .prepare("SELECT 1 AS hit FROM sites, json_each(sites.allowed_origins) WHERE json_each.value = ?1 LIMIT 1")
        .bind(&[origin.as_str().into()])?
        .first(None)
        .await?;
    ANY_SITE_ALLOWS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_CACHED_ORIGINS {
            c.clear();
        }
        c.insert(origin, (now_ms(), row.is_some()));
    });
    Ok(row.is_some())
}

/// Whose a conversation id is, from the D1 index and its tombstones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The conversation exists; its site.
    Site(String),
    /// Deleted by the shopper or erased by retention; the site it belonged to. Only for
    /// answering in a way that site's pages can read: it never opens the conversation again.
    Gone(String),
    /// Never seen (or not an id at all).
    Unknown,
}

/// Whose `conversation` is. Existing ones are cached (that never changes while they exist;
/// a deleted one found in the cache is refused by its object, which is empty).
pub async fn owner_of_conversation(env: &Env, conversation: &str) -> Result<Owner> {
    if !validate::conversation_id(conversation) {
        return Ok(Owner::Unknown);
    }
    if let Some(site) = CONVERSATION_SITES.with(|c| c.borrow().get(conversation).cloned()) {
        return Ok(Owner::Site(site));
    }
    #[derive(Deserialize)]
    struct Row {
        site_id: String,
        gone: u32,
    }
    let row: Option<Row> = env
        .d1("DB")?
        .prepare(
            "SELECT site_id, 0 AS gone FROM conversations WHERE id = ?1 \
             UNION ALL SELECT site_id, 1 AS gone FROM conversation_tombstones WHERE id = ?1 \
             ORDER BY gone LIMIT 1",
        )
        .bind(&[conversation.into()])?
        .first(None)
        .await?;
    Ok(match row {
        Some(Row { site_id, gone: 0 }) => {
            remember_conversation(conversation, &site_id);
            Owner::Site(site_id)
        }
        Some(Row { site_id, .. }) => Owner::Gone(site_id),
        None => Owner::Unknown,
    })
}

/// Which site an existing conversation belongs to; `None` when it is unknown or gone.
pub async fn site_of_conversation(env: &Env, conversation: &str) -> Result<Option<String>> {
    Ok(match owner_of_conversation(env, conversation).await? {
        Owner::Site(site) => Some(site),
        Owner::Gone(_) | Owner::Unknown => None,
    })
}

pub fn remember_conversation(conversation: &str, site: &str) {
    CONVERSATION_SITES.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_CACHED_CONVERSATIONS {
            c.clear();
        }
        c.insert(conversation.to_owned(), site.to_owned());
    });
}

pub fn forget_conversation(conversation: &str) {
    CONVERSATION_SITES.with(|c| c.borrow_mut().remove(conversation));
}

/// Agent routes: the bearer key must be the agent key of the conversation's site.
pub async fn check_agent_key(env: &Env, site_id: &str, key: Option<&str>) -> Result<Rc<Site>> {
    let site = load(env, site_id).await?.ok_or(Error::Unauthorized)?;
    match key {
        Some(key) if tokens::verify(key, &site.agent_key_hash) => Ok(site),
        _ => Err(Error::Unauthorized),
    }
}

/// A changed site is read again at once by this isolate (others within `SITE_TTL_MS`).
pub fn forget(site_id: &str) {
    SITES.with(|c| c.borrow_mut().remove(site_id));
    ANY_SITE_ALLOWS.with(|c| c.borrow_mut().clear());
}

/// `GET /v1/sites/{site}[?lang=de]`: the reply time in the language asked, else the browser's.
pub async fn public_config(env: &Env, req: &worker::Request, site: &Site) -> Result<Response> {
    let url = req.url()?;
    let asked = url.query_pairs().find(|(k, _)| k == "lang").map(|(_, v)| v.into_owned());
    let lang = reply_time::Lang::pick(asked.as_deref(), req.headers().get("accept-language").ok().flatten().as_deref());
    let site = reply_time::refresh(env, site, reply_time::Keep::Store).await;
    let mut response = http::json(200, &config(&site, lang))?;
    response.headers_mut().set("vary", "Accept-Language")?;
    Ok(response)
}

/// What the widget is told about `site` now: its words, and whether it is open.
pub fn config(site: &Site, lang: reply_time::Lang) -> SiteConfig {
    let now = now_ms();
    let avail = hours::local_now(&site.hours.time_zone, now).map(|local| availability(&site.hours, local));
    let (available_now, next_open_at) = match avail {
        Some(Availability::Open) | None => (true, None),
        Some(Availability::OpensIn { minutes }) => {
            let at = js_sys::Date::new(&(now + f64::from(minutes) * 60_000.0).into());
            (false, Some(iso_minute(&at)))
        }
        Some(Availability::Closed) => (false, None),
    };
    SiteConfig {
        id: site.id.clone(),
        name: site.name.clone(),
        brand_color: site.brand_color.clone(),
        greeting: site.greeting.clone(),
        expected_reply: reply_time::expected_reply(site, lang),
        business_hours: site.hours.clone(),
        available_now,
        next_open_at,
    }
}

/// RFC 3339 UTC, to the minute.
fn iso_minute(d: &js_sys::Date) -> String {
    let s: String = d.to_iso_string().into();
    format!("{}:00Z", &s[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(origins: &[&str]) -> Site {
        let row = Row {
            id: "demo".into(),
            name: "Demo".into(),
            allowed_origins: serde_json::to_string(origins).unwrap(),
            merchant_email: "m@shop.example".into(),
            business_hours: r#"{"time_zone":"Europe/Berlin","days":[]}"#.into(),
            expected_reply: String::new(),
            greeting: String::new(),
            brand_color: "#000000".into(),
            agent_key_hash: String::new(),
            retention_days: 365.0,
            push_delay_seconds: 10,
            email_delay_seconds: None,
            reply_time: "measured".into(),
            measured_reply_minutes: None,
            measured_reply_at: None,
            auto_close_days: 0.5,
            ratings: "sometimes".into(),
        };
        Site::from(row)
    }

    #[test]
    fn origins_are_normalised_once_and_compared_normalised() {
        let s = site(&["HTTPS://Shop.Example:443/", "http://localhost:8080", "not an origin"]);
        assert_eq!(s.origins, ["https://shop.example", "http://localhost:8080"]);
        assert_eq!(s.hours.time_zone, "Europe/Berlin");
        assert!(s.allows("https://shop.example"));
        assert!(s.allows("https://SHOP.example/"));
        assert!(s.allows("http://localhost:8080"));
        assert!(!s.allows("http://shop.example"));
        assert!(!s.allows("https://shop.example:8443"));
        assert!(!s.allows("null"));
        assert!(!site(&["null"]).allows("null"));
        assert_eq!((s.reply_time, s.ratings), (ReplyTime::Measured, Ratings::Off), "an unknown word is the default");
        assert_eq!(s.auto_close_days, 1, "a fraction of a day (tests) reads as a day");
    }
}
