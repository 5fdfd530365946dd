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
    let db = env.d1("DB")?;
    db.batch(vec![
        db.prepare(
            "INSERT OR IGNORE INTO conversation_events (conversation_id, ord, site_id, kind, at, channel, teammate, close_kind, satisfaction, effort) \
             SELECT ?1, j.value ->> 0, ?2, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6, j.value ->> 7 \
             FROM json_each(?3) AS j \
             WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?1)",
        )
        .bind(&[conversation.into(), site.into(), json.into()])?,
        // The conversation's whole history as reports read it, in the same transaction.
        db.prepare(&format!("UPDATE conversations SET history = {HISTORY} WHERE id = ?1")).bind(&[conversation.into()])?,
    ])
    .await?;
    Ok(())
}

/// A conversation's events (`conversations.id` in scope) as one JSON array of
/// [`EventTuple`]s, oldest first.
const HISTORY: &str = "(SELECT json_group_array(json_array(e.kind, e.at, e.channel, e.teammate, e.close_kind, e.satisfaction, e.effort)) FROM \
    (SELECT kind, at, channel, teammate, close_kind, satisfaction, effort FROM conversation_events WHERE conversation_id = conversations.id ORDER BY ord) AS e)";

/// One page of the report query's answer: conversations as `[created_at, [EventTuple...]]`,
/// events oldest first, joined into one JSON text from each conversation's prepared
/// `history` (built from its events where missing). One row with one string crosses from
/// JavaScript into the Worker at once (a row, or a field, per conversation is what costs),
/// and joining prepared text is cheap for D1 where building JSON from every event row is not.
/// A page stays under D1's 2 MB limit for a string: at most [`PAGE_ROWS`] conversations
/// and [`PAGE_BYTES`] of text (always at least one conversation).
#[derive(serde::Deserialize)]
struct Page {
    conversations: Option<String>,
    /// `created_at || ' ' || id` of the page's last conversation: where the next page starts.
    last: Option<String>,
    n: u32,
}

/// Conversations per page: at most this many, and about [`PAGE_BYTES`] of text once the
/// first page showed how long a conversation's text is here.
const PAGE_ROWS: u32 = 5000;
const PAGE_BYTES: usize = 1_500_000;

/// `[kind, at, channel, teammate, close_kind, satisfaction, effort]`.
type EventTuple = (String, String, Option<String>, Option<String>, Option<String>, Option<u8>, Option<u8>);

/// The conversations created around local dates `from..=to` (a day's margin each side for
/// the zone; `compute::report` keeps the right ones) with their events, oldest first.
async fn histories(env: &Env, site: &str, from_day: i64, to_day: i64) -> Result<Vec<History>> {
    let iso = |day: i64| format!("{}T00:00:00Z", compute::date_of(day));
    let (mut from, to) = (iso(from_day - 1), iso(to_day + 2));
    let db = env.d1("DB")?;
    let (mut all, mut after_id, mut rows) = (Vec::<(String, Vec<EventTuple>)>::new(), String::new(), PAGE_ROWS);
    // Pages in (created_at, id) order, each starting after the last one's end.
    loop {
        let query = format!(
            "SELECT '[' || group_concat(item, ',') || ']' AS conversations, max(k) AS last, count(*) AS n FROM ( \
               SELECT created_at || ' ' || id AS k, '[' || json_quote(created_at) || ',' || COALESCE(history, {HISTORY}) || ']' AS item \
               FROM conversations WHERE site_id = ?1 AND created_at >= ?2 AND created_at < ?3 AND (created_at > ?2 OR id > ?4) \
               ORDER BY created_at, id LIMIT {rows})"
        );
        let asked = db.prepare(&query).bind(&[site.into(), from.as_str().into(), to.as_str().into(), after_id.as_str().into()])?.first::<Page>(None).await;
        let page = match asked {
            Ok(page) => page,
            // Most likely a page over D1's 2 MB for a string (long conversations): smaller.
            Err(e) if rows > 50 => {
                worker::console_warn!("metrics: a page of {rows} conversations refused ({e}); asking for fewer");
                rows /= 4;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let Some(Page { conversations: Some(text), last: Some(last), n }) = page else { break };
        let mut got: Vec<(String, Vec<EventTuple>)> = serde_json::from_str(&text).map_err(|e| crate::Error::Internal(format!("metrics: the report query's answer: {e}")))?;
        all.append(&mut got);
        if n < rows {
            break;
        }
        rows = (PAGE_BYTES / (text.len() / n as usize).max(1)).clamp(50, PAGE_ROWS as usize) as u32;
        let Some((created, id)) = last.split_once(' ') else { break };
        (from, after_id) = (created.to_owned(), id.to_owned());
    }
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
