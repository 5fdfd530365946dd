//! The conversation's webhook events, handed over by the `hooks` job: written as deliveries
//! for the site's listening endpoints in D1, then a `flush` for the `WEBHOOKS` queue, whose
//! consumer sends them. This object is the one writer of its events, one job run at a time,
//! so an earlier event always reaches D1 no later than a later one: the consumer's order
//! per endpoint and conversation is the conversation's. Messages are events already
//! (`message.created`, read from `messages` past the `hooks` cursor); the rest
//! (`conversation.created`, `.closed`, `.reopened`, `.rated`, `contact.updated`) wait in `events` until
//! handed over. Each event has its place in the conversation (`ord`) and a stable id, so
//! endpoints can drop repeats. Internal notes are never events.

use std::time::Duration;

use pigeon_protocol::{Message, WebhookPayload};
use serde::Deserialize;
use serde_json::json;
use worker::{Env, SqlStorageValue as V};

use super::jobs::Outcome;
use super::store::Store;
use crate::Result;
use super::op::Via;
use super::rating::CloseKind;
use crate::metrics::EventRow;
use crate::webhooks::{Event, QueueJob};

/// The index's delay: a burst's two jobs share one alarm.
pub const HOOKS_DELAY: Duration = super::index::INDEX_DELAY;
const RETRY_DELAY: Duration = Duration::from_secs(10);
/// Events per hand-over, and their bytes at most (one always goes); a longer backlog goes in
/// several, 100 ms apart. A busy conversation's second of messages goes in one or two (at
/// 50, the job fell behind at 500 messages a second); the bytes stay far below the 2 MB a D1
/// parameter may hold.
const BATCH: u32 = 500;
const BATCH_BYTES: usize = 512 * 1024;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  -- The last message before it: it goes after that message and before the next.
  after_seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  data TEXT NOT NULL
);
-- Messages up to `seq` are handed to the queue. Objects from before webhooks start at their
-- newest message (nothing old is sent).
CREATE TABLE IF NOT EXISTS hooks (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO hooks (one, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM messages;";

/// The order of events within a conversation: message `seq` after every event recorded
/// before it; events after the message before them, in the order they happened.
const SLOT: i64 = 1 << 20;

fn message_ord(seq: u64) -> i64 {
    (seq as i64 - 1) * SLOT + (SLOT - 1)
}

fn event_ord(after_seq: u64, id: i64) -> i64 {
    after_seq as i64 * SLOT + id.min(SLOT - 2)
}

#[derive(Deserialize)]
struct Row {
    id: i64,
    #[serde(rename = "type")]
    kind: String,
    after_seq: u64,
    at: String,
    data: String,
}

impl Store {
    /// Records a lifecycle event (`data` gets the conversation's id and site). A failure is
    /// logged, never the caller's: webhooks must not stop a close or a message.
    pub fn record(&self, kind: &str, at: &str, data: serde_json::Value) -> Result<()> {
        if let Err(e) = self.try_record(kind, at, data) {
            worker::console_error!("webhook event {kind} not recorded: {e}");
        }
        Ok(())
    }

    fn try_record(&self, kind: &str, at: &str, mut data: serde_json::Value) -> Result<()> {
        if let (Some(meta), Some(map)) = (self.meta()?, data.as_object_mut()) {
            map.insert("conversation_id".into(), meta.id.into());
            map.insert("site_id".into(), meta.site.into());
        }
        let after = self.last_seq()?;
        self.sql.exec(
            "INSERT INTO events (type, after_seq, at, data) VALUES (?, ?, ?, ?)",
            vec![kind.into(), V::try_from_i64(after as i64)?, at.into(), data.to_string().into()],
        )?;
        Ok(())
    }

    /// The way in and the teammate of the agent replies among messages `after + 1 ..= upto`.
    fn reply_origins(&self, after: u64, upto: u64) -> Result<Vec<(u64, Option<String>, Option<String>)>> {
        #[derive(Deserialize)]
        struct Origin {
            seq: u64,
            via: Option<String>,
            teammate: Option<String>,
        }
        let rows: Vec<Origin> = self
            .sql
            .exec("SELECT seq, via, teammate FROM messages WHERE seq > ? AND seq <= ? AND author = 'agent'", vec![V::try_from_i64(after as i64)?, V::try_from_i64(upto as i64)?])?
            .to_array()?;
        Ok(rows.into_iter().map(|o| (o.seq, o.via, o.teammate)).collect())
    }

    /// What reports keep of the events handed over (`events` reaching message `upto`):
    /// replies, closes (and how), reopens, ratings.
    fn report_rows(&self, events: &[Event], after: u64, upto: u64) -> Result<Vec<EventRow>> {
        let origins = if upto > after { self.reply_origins(after, upto)? } else { vec![] };
        let mut rows = vec![];
        for e in events {
            let row = |kind| EventRow { ord: e.ord, kind, at: e.at.clone(), ..EventRow::default() };
            let data = || serde_json::from_str::<WebhookPayload<serde_json::Value>>(&e.payload).map(|p| p.data).unwrap_or_default();
            match e.kind.as_str() {
                "message.created" => {
                    let seq = (e.ord / SLOT + 1) as u64;
                    if let Some((_, via, teammate)) = origins.iter().find(|(s, ..)| *s == seq) {
                        rows.push(EventRow { channel: via.as_deref().and_then(Via::parse).map(Via::as_str), teammate: teammate.clone(), ..row("reply") });
                    }
                }
                "conversation.closed" => rows.push(EventRow { close_kind: Some(CloseKind::of_event(&data()).as_str()), ..row("closed") }),
                "conversation.reopened" => rows.push(row("reopened")),
                "conversation.rated" => {
                    let data = data();
                    let score = |k: &str| data[k].as_u64().and_then(|n| u8::try_from(n).ok());
                    rows.push(EventRow { satisfaction: score("satisfaction"), effort: score("effort"), ..row("rated") });
                }
                _ => {}
            }
        }
        Ok(rows)
    }

    fn hooked_seq(&self) -> Result<u64> {
        #[derive(Deserialize)]
        struct S {
            seq: u64,
        }
        let rows: Vec<S> = self.sql.exec("SELECT seq FROM hooks", None)?.to_array()?;
        Ok(rows.first().map_or(0, |r| r.seq))
    }

    /// Events not handed over yet, in order, at most [`BATCH`] and about [`BATCH_BYTES`]; how
    /// far they reach (message seq, event id); and whether more wait.
    fn backlog(&self, site: &str, conversation: &str) -> Result<(Vec<Event>, u64, i64, bool)> {
        let hooked = self.hooked_seq()?;
        let messages = self.after(hooked, BATCH)?;
        let rows: Vec<Row> = self.sql.exec("SELECT id, type, after_seq, at, data FROM events ORDER BY id LIMIT ?", vec![V::Integer(i64::from(BATCH))])?.to_array()?;
        let total = messages.len() + rows.len();
        // Both lists are in order: the first BATCH of the two merged are the backlog's first.
        let mut all: Vec<(i64, Option<u64>, Option<i64>, Event)> = messages
            .iter()
            .map(|m| (message_ord(m.seq), Some(m.seq), None, message_event(site, conversation, m)))
            .chain(rows.into_iter().map(|r| {
                let ord = event_ord(r.after_seq, r.id);
                let data: serde_json::Value = serde_json::from_str(&r.data).unwrap_or(json!({}));
                (ord, None, Some(r.id), event(conversation, &format!("e{}", r.id), ord, &r.kind, &r.at, data))
            }))
            .collect();
        all.sort_by_key(|(ord, ..)| *ord);
        let (mut seq, mut last_event, mut bytes, mut out) = (hooked, 0, 0, vec![]);
        for (_, m, e, ev) in all.into_iter().take(BATCH as usize) {
            bytes += ev.payload.len();
            if !out.is_empty() && bytes > BATCH_BYTES {
                break;
            }
            seq = m.unwrap_or(seq);
            last_event = e.unwrap_or(last_event);
            out.push(ev);
        }
        // Left over, or a list cut at its limit (the next run finds out).
        let more = out.len() < total || messages.len() == BATCH as usize || total - messages.len() == BATCH as usize;
        Ok((out, seq, last_event, more))
    }

    fn mark_hooked(&self, seq: u64, last_event: i64) -> Result<()> {
        self.sql.exec("UPDATE hooks SET seq = MAX(seq, ?)", vec![V::try_from_i64(seq as i64)?])?;
        self.sql.exec("DELETE FROM events WHERE id <= ?", vec![V::Integer(last_event)])?;
        Ok(())
    }
}

fn event(conversation: &str, suffix: &str, ord: i64, kind: &str, at: &str, data: serde_json::Value) -> Event {
    let payload = WebhookPayload { kind: kind.to_owned(), timestamp: at.to_owned(), data };
    Event {
        id: format!("evt_{conversation}_{suffix}"),
        ord,
        kind: kind.to_owned(),
        at: at.to_owned(),
        payload: serde_json::to_string(&payload).unwrap_or_default(),
    }
}

fn message_event(site: &str, conversation: &str, m: &Message) -> Event {
    let data = json!({ "conversation_id": conversation, "site_id": site, "message": super::rating::for_team(m.clone()) });
    event(conversation, &format!("m{}", m.seq), message_ord(m.seq), "message.created", &m.created_at, data)
}

/// Hands the backlog over: deliveries for the endpoints listening now (none when the site has
/// none: an endpoint gets only events from after it was added), then one `flush` on the
/// queue if there are any. A failure hands the same events over again later; D1 keeps one
/// delivery per endpoint and event id.
pub async fn flush(env: &Env, store: &Store) -> Result<Outcome> {
    let Some(meta) = store.meta()? else { return Ok(Outcome::Done) };
    let hooked = store.hooked_seq()?;
    let (events, seq, last_event, more) = store.backlog(&meta.site, &meta.id)?;
    if events.is_empty() {
        return Ok(Outcome::Done);
    }
    let report = store.report_rows(&events, hooked, seq)?;
    let handed = async {
        crate::metrics::record(env, &meta.site, &meta.id, &report).await?;
        // (Pending: also after a hand-over whose flush was lost, when the rows were made.)
        if crate::webhooks::deliver::add_deliveries(env, &meta.site, &meta.id, &events).await? {
            env.queue("WEBHOOKS")?.send(QueueJob::Flush { site: meta.site.clone(), conversation: meta.id.clone() }).await?;
        }
        Ok::<(), crate::Error>(())
    };
    match handed.await {
        Ok(()) => {
            store.mark_hooked(seq, last_event)?;
            Ok(if more { Outcome::RetryIn(Duration::from_millis(100)) } else { Outcome::Done })
        }
        Err(e) => {
            worker::console_error!("webhook events not handed over, retrying: {e}");
            Ok(Outcome::RetryIn(RETRY_DELAY))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_sit_between_the_messages_around_them() {
        // created (after 0), m1, m2, closed (after 2), reopened (after 2), m3
        let mut ords = [("m3", message_ord(3)), ("reopened", event_ord(2, 3)), ("m1", message_ord(1)), ("created", event_ord(0, 1)), ("closed", event_ord(2, 2)), ("m2", message_ord(2))];
        ords.sort_by_key(|(_, o)| *o);
        assert_eq!(ords.map(|(n, _)| n), ["created", "m1", "m2", "closed", "reopened", "m3"]);
    }
}
