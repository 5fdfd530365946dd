//! Reports (issue 17): what each conversation went through is kept in D1
//! (`conversation_events`: replies with their channel and teammate, closes, reopens), written
//! by the conversation's `hooks` job in the same hand-over as its webhook events, and erased
//! with the conversation. `GET .../metrics?from=&to=` reads a range of the site's local dates
//! and answers [`Metrics`], worked out by [`compute`].

pub mod compute;
pub mod zone;

use std::collections::BTreeMap;

use pigeon_protocol::metrics;
use worker::{Env, Request, Response};

use crate::routes::Ctx;
use crate::sites::Site;
use crate::sites::hours::days_from_civil;
use crate::{Result, http};
use compute::{Happened, History, epoch_ms};
use crate::conversation::op::Via;

/// One row for `conversation_events`, made by the `hooks` job from its hand-over.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EventRow {
    /// The event's place in its conversation (the webhook event's `ord`): the key, so a
    /// hand-over done twice writes each row once.
    pub ord: i64,
    pub kind: &'static str,
    pub at: String,
    /// A reply's.
    pub channel: Option<&'static str>,
    pub teammate: Option<String>,
    /// A close's: `plain`, `rating`, `auto`.
    pub close_kind: Option<&'static str>,
    /// A rating's.
    pub satisfaction: Option<u8>,
    pub effort: Option<u8>,
}

/// Writes `rows` of conversation `conversation`, once each, while its index row exists (a
/// hand-over racing the conversation's erasure leaves nothing behind).
pub async fn record(env: &Env, site: &str, conversation: &str, rows: &[EventRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(&rows.iter().map(|r| (r.ord, r.kind, &r.at, r.channel, &r.teammate, r.close_kind, r.satisfaction, r.effort)).collect::<Vec<_>>())
        .map_err(|e| crate::Error::Internal(e.to_string()))?;
    env.d1("DB")?
        .prepare(
            "INSERT OR IGNORE INTO conversation_events (conversation_id, ord, site_id, kind, at, channel, teammate, close_kind, satisfaction, effort) \
             SELECT ?1, j.value ->> 0, ?2, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6, j.value ->> 7 \
             FROM json_each(?3) AS j \
             WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?1)",
        )
        .bind(&[conversation.into(), site.into(), json.into()])?
        .run()
        .await?;
    Ok(())
}

/// The report query's one answer: every conversation as `[created_at, [EventTuple...]]`,
/// its events oldest first, in one JSON text. One row with one string crosses from
/// JavaScript into the Worker at once; a row (or a field) per conversation is what costs.
#[derive(serde::Deserialize)]
struct Row {
    conversations: Option<String>,
}

/// `[kind, at, channel, teammate, close_kind, satisfaction, effort]`.
type EventTuple = (String, String, Option<String>, Option<String>, Option<String>, Option<u8>, Option<u8>);

/// The conversations created around local dates `from..=to` (a day's margin each side for
/// the zone; `compute::report` keeps the right ones) with their events, oldest first.
async fn histories(env: &Env, site: &str, from_day: i64, to_day: i64) -> Result<Vec<History>> {
    let iso = |day: i64| format!("{}T00:00:00Z", compute::date_of(day));
    let row: Option<Row> = env
        .d1("DB")?
        .prepare(
            "SELECT json_group_array(json_array(c.created_at, json((SELECT json_group_array(json_array(e.kind, e.at, e.channel, e.teammate, e.close_kind, e.satisfaction, e.effort)) FROM \
             (SELECT kind, at, channel, teammate, close_kind, satisfaction, effort FROM conversation_events WHERE conversation_id = c.id ORDER BY ord) AS e)))) AS conversations \
             FROM conversations c WHERE c.site_id = ?1 AND c.created_at >= ?2 AND c.created_at < ?3",
        )
        .bind(&[site.into(), iso(from_day - 1).into(), iso(to_day + 2).into()])?
        .first(None)
        .await?;
    let all: Vec<(String, Vec<EventTuple>)> = match row.and_then(|r| r.conversations) {
        Some(text) => serde_json::from_str(&text).map_err(|e| crate::Error::Internal(format!("metrics: the report query's answer: {e}")))?,
        None => Vec::new(),
    };
    Ok(all
        .into_iter()
        .filter_map(|(created_at, tuples)| {
            let created = epoch_ms(&created_at)?;
            let events = tuples
                .into_iter()
                .filter_map(|(kind, at, channel, teammate, close_kind, satisfaction, effort)| {
                    let at = epoch_ms(&at)?;
                    Some(match kind.as_str() {
                        "reply" => Happened::Reply { at, channel: channel.as_deref().and_then(Via::parse).unwrap_or(Via::Api), teammate },
                        "closed" => Happened::Closed { at, asked: close_kind.as_deref() == Some("rating"), auto: close_kind.as_deref() == Some("auto") },
                        "reopened" => Happened::Reopened { at },
                        "rated" => Happened::Rated { satisfaction: satisfaction?, effort },
                        _ => return None,
                    })
                })
                .collect();
            Some(History { created, events })
        })
        .collect())
}

async fn names(env: &Env, site: &str) -> Result<BTreeMap<String, String>> {
    #[derive(serde::Deserialize)]
    struct Mate {
        email: String,
        name: String,
    }
    let mates: Vec<Mate> = env.d1("DB")?.prepare("SELECT email, name FROM teammates WHERE site_id = ?1").bind(&[site.into()])?.all().await?.results()?;
    Ok(mates.into_iter().map(|m| (m.email, m.name)).collect())
}

/// `GET .../sites/{site}/metrics?from=YYYY-MM-DD&to=YYYY-MM-DD` (agent API and inbox).
pub async fn get(req: &Request, cx: &Ctx) -> Result<Response> {
    let url = req.url()?;
    let query = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let (from, to) = (query("from"), query("to"));
    let (from_day, to_day) = metrics::range(from.as_deref(), to.as_deref(), days_from_civil)?;
    http::json(200, &report(&cx.env, &cx.site, from_day, to_day).await?)
}

/// The report of `site` over its local days `from_day..=to_day`.
pub async fn report(env: &Env, site: &Site, from_day: i64, to_day: i64) -> Result<metrics::Metrics> {
    let (histories, names) = (histories(env, &site.id, from_day, to_day).await?, names(env, &site.id).await?);
    let zone = zone::IntlZone::new(&site.hours.time_zone);
    Ok(compute::report(&histories, from_day, to_day, &site.hours, &zone, &names))
}

/// The site's local date today (days since 1970-01-01).
pub fn today(site: &Site) -> i64 {
    compute::local_day(&zone::IntlZone::new(&site.hours.time_zone), js_sys::Date::now() as i64)
}
