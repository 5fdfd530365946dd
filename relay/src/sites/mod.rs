//! Sites: one D1 row per merchant site. Read often, changed rarely, so each isolate keeps a
//! short-lived copy (changes reach every isolate within `SITE_TTL_MS`).

mod hours;

use std::cell::RefCell;
use std::collections::HashMap;

use pigeon_protocol::{BusinessHours, SiteConfig, validate};
use serde::Deserialize;
use worker::{Env, Response};

use crate::{Error, Result, http, tokens};

pub use hours::{Availability, availability};

const SITE_TTL_MS: f64 = 30_000.0;
const MAX_CACHED_CONVERSATIONS: usize = 50_000;
const MAX_CACHED_ORIGINS: usize = 1_000;

/// A site as stored in D1 (`migrations/0001_init.sql`).
#[derive(Debug, Clone, Deserialize)]
pub struct Site {
    pub id: String,
    pub name: String,
    /// JSON array of origins such as `"https://shop.example"`.
    pub allowed_origins: String,
    pub merchant_email: String,
    /// JSON `BusinessHours`.
    pub business_hours: String,
    pub expected_reply: String,
    pub greeting: String,
    pub brand_color: String,
    #[allow(dead_code)] // read by the retention job in SQL
    pub retention_days: f64,
    pub agent_key_hash: String,
}

impl Site {
    /// The allowed origins as stored (normalised when saved; compare with
    /// [`crate::origin::allowed`], which normalises both sides).
    pub fn origins(&self) -> Vec<String> {
        serde_json::from_str(&self.allowed_origins).unwrap_or_default()
    }

    pub fn hours(&self) -> Option<BusinessHours> {
        serde_json::from_str(&self.business_hours).ok()
    }
}

thread_local! {
    static SITES: RefCell<HashMap<String, (f64, Option<Site>)>> = RefCell::new(HashMap::new());
    static CONVERSATION_SITES: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
    static ANY_SITE_ALLOWS: RefCell<HashMap<String, (f64, bool)>> = RefCell::new(HashMap::new());
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

pub async fn load(env: &Env, site_id: &str) -> Result<Option<Site>> {
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
    let site: Option<Site> = db
        .prepare(
            "SELECT id, name, allowed_origins, merchant_email, business_hours, expected_reply, \
             greeting, brand_color, retention_days, agent_key_hash FROM sites WHERE id = ?1",
        )
        .bind(&[site_id.into()])?
        .first(None)
        .await?;
    SITES.with(|c| c.borrow_mut().insert(site_id.to_owned(), (now_ms(), site.clone())));
    Ok(site)
}

pub async fn require(env: &Env, site_id: &str) -> Result<Site> {
    load(env, site_id).await?.ok_or(Error::NotFound)
}

/// Does the site allow `origin` (a request's `Origin` header)? Compared normalised.
pub async fn origin_allowed(env: &Env, site_id: &str, origin: &str) -> Result<bool> {
    Ok(match load(env, site_id).await? {
        Some(site) => crate::origin::allowed(origin, &site.origins()),
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
pub async fn check_agent_key(env: &Env, site_id: &str, key: Option<&str>) -> Result<Site> {
    let site = load(env, site_id).await?.ok_or(Error::Unauthorized)?;
    match key {
        Some(key) if tokens::verify(key, &site.agent_key_hash) => Ok(site),
        _ => Err(Error::Unauthorized),
    }
}

/// `GET /v1/sites/{site}`
pub async fn public_config(env: &Env, site_id: &str) -> Result<Response> {
    let site = require(env, site_id).await?;
    let hours = site.hours().unwrap_or_else(|| BusinessHours { time_zone: "UTC".into(), days: vec![] });
    let now = now_ms();
    let avail = hours::local_now(&hours.time_zone, now).map(|local| availability(&hours, local));
    let (available_now, next_open_at) = match avail {
        Some(Availability::Open) | None => (true, None),
        Some(Availability::OpensIn { minutes }) => {
            let at = js_sys::Date::new(&(now + f64::from(minutes) * 60_000.0).into());
            (false, Some(iso_minute(&at)))
        }
        Some(Availability::Closed) => (false, None),
    };
    http::json(
        200,
        &SiteConfig {
            id: site.id,
            name: site.name,
            brand_color: site.brand_color,
            greeting: site.greeting,
            expected_reply: site.expected_reply,
            business_hours: hours,
            available_now,
            next_open_at,
        },
    )
}

/// RFC 3339 UTC, to the minute.
fn iso_minute(d: &js_sys::Date) -> String {
    let s: String = d.to_iso_string().into();
    format!("{}:00Z", &s[..16])
}
