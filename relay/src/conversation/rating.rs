//! Ratings in the conversation's object: a close that asks for one adds a row; the shopper's
//! answer fills it once (`conversation.rated` for webhooks and reports). Only the latest ask
//! can be answered: a close asking again replaces an unanswered one.

use pigeon_protocol::{Author, Message, Rating, RatingInput, RatingState, Status};
use serde::Deserialize;
use worker::SqlStorageValue as V;

use super::store::Store;
use crate::{Error, Result};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ratings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  asked_at TEXT NOT NULL,
  satisfaction INTEGER,
  effort INTEGER,
  comment TEXT,
  rated_at TEXT
);
-- When the status last changed: a teammate's reopen is activity the idle sweep respects.
CREATE TABLE IF NOT EXISTS lifecycle (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  status_at TEXT NOT NULL
);";

/// The client id of the thread note of ask `ask`.
pub fn note_id(ask: i64) -> String {
    format!("rating-{ask}")
}

/// What the team (the inbox, the agent API, webhooks, search) sees of a message. Whoever
/// holds a rating link can rate, so a close's thread note reaches them without its link: only
/// the shopper (their token's reads, their live socket, their export) gets it.
pub fn for_team(mut m: Message) -> Message {
    if m.author == Author::System && m.client_id.starts_with("rating-") {
        m.body = m.body.split(' ').map(|w| if w.contains("/rate/") { "[the shopper's rating link]" } else { w }).collect::<Vec<_>>().join(" ");
    }
    m
}

#[derive(Deserialize)]
struct Row {
    id: i64,
    satisfaction: Option<u8>,
    effort: Option<u8>,
    comment: Option<String>,
    rated_at: Option<String>,
}

impl Row {
    /// The rating, if one was given.
    fn given(self) -> Option<Rating> {
        Some(Rating { satisfaction: self.satisfaction?, effort: self.effort, comment: self.comment, rated_at: self.rated_at.unwrap_or_default() })
    }
}

/// How a close came about, as its webhook event and report row say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseKind {
    /// A teammate (or a script) closed it.
    Plain,
    /// ... and asked the shopper for a rating.
    Rating,
    /// Idle for the site's `auto_close_days`.
    Auto,
}

impl CloseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseKind::Plain => "plain",
            CloseKind::Rating => "rating",
            CloseKind::Auto => "auto",
        }
    }

    /// From a `conversation.closed` event's data.
    pub fn of_event(data: &serde_json::Value) -> CloseKind {
        if data["auto"] == true {
            CloseKind::Auto
        } else if data["rating_requested"] == true {
            CloseKind::Rating
        } else {
            CloseKind::Plain
        }
    }
}

/// The client id of the thread note of a close that asked nothing (`at`: the close's time in
/// ms, so each close has its own).
pub fn closed_note_id(at_ms: u64) -> String {
    format!("closed-{at_ms}")
}

/// The note a close that asks nothing leaves in the thread, so the shopper's widget says the
/// conversation is closed and how to go on (it offers a new conversation from it). A
/// teammate's close names the shop; the idle sweep's says why.
pub fn closed_note(site_name: &str, kind: CloseKind, locale: Option<&str>) -> String {
    let de = crate::sites::reply_time::Lang::pick(locale, None) == crate::sites::reply_time::Lang::De;
    match (kind, de) {
        (CloseKind::Auto, false) => "This conversation was closed after a quiet spell; just write again to reopen it.".to_owned(),
        (CloseKind::Auto, true) => "Diese Unterhaltung wurde nach längerer Stille abgeschlossen; schreiben Sie einfach wieder, um sie fortzusetzen.".to_owned(),
        (_, false) => format!("{site_name} closed this conversation; just write again to reopen it."),
        (_, true) => format!("{site_name} hat diese Unterhaltung abgeschlossen; schreiben Sie einfach wieder, um sie fortzusetzen."),
    }
}

/// The note a close asking for a rating leaves in the thread, in the shopper's language (the
/// `locale` their browser shared): the widget shows it with its link, so the shopper reaches
/// the rating page in one tap from the chat, without email.
pub fn thread_note(site_name: &str, url: &str, locale: Option<&str>) -> String {
    if crate::sites::reply_time::Lang::pick(locale, None) == crate::sites::reply_time::Lang::De {
        format!("{site_name} hat diese Unterhaltung abgeschlossen; schreiben Sie einfach wieder, um sie fortzusetzen. Wie war unsere Hilfe? Sagen Sie es uns hier: {url}")
    } else {
        format!("{site_name} closed this conversation; just write again to reopen it. How did we do? Tell us here: {url}")
    }
}

impl Store {
    fn ratings(&self) -> Result<Vec<Row>> {
        Ok(self.sql.exec("SELECT id, satisfaction, effort, comment, rated_at FROM ratings ORDER BY id DESC LIMIT 2", None)?.to_array()?)
    }

    /// Closes it (if open), saying how. An unanswered ask ends with any change of status; a close
    /// asking for a rating makes a new one and returns its id.
    pub fn close(&self, kind: CloseKind, at: &str) -> Result<Option<i64>> {
        if self.meta()?.is_none_or(|m| m.status == Status::Closed) {
            return Ok(None);
        }
        let data = match kind {
            CloseKind::Plain => serde_json::json!({ "status": Status::Closed }),
            CloseKind::Rating => serde_json::json!({ "status": Status::Closed, "rating_requested": true }),
            CloseKind::Auto => serde_json::json!({ "status": Status::Closed, "auto": true }),
        };
        let mut ask = None;
        if kind == CloseKind::Rating {
            #[derive(Deserialize)]
            struct Id {
                id: i64,
            }
            let ids: Vec<Id> = self.sql.exec("INSERT INTO ratings (asked_at) VALUES (?) RETURNING id", vec![at.into()])?.to_array()?;
            ask = ids.first().map(|i| i.id);
        }
        self.set_status_saying(Status::Closed, data, ask)?;
        Ok(ask)
    }

    /// After a change of status at `at`, remembered for the idle sweep. A close ends the asks
    /// not answered (but `keep`, its own): an ask stays open through a reopen ("Thanks!"), until
    /// the next close.
    pub fn status_changed(&self, status: Status, at: &str, keep: Option<i64>) -> Result<()> {
        if status == Status::Closed {
            self.sql.exec("DELETE FROM ratings WHERE satisfaction IS NULL AND id IS NOT ?", vec![keep.map_or(V::Null, V::Integer)])?;
        }
        self.sql.exec("INSERT INTO lifecycle (one, status_at) VALUES (1, ?1) ON CONFLICT (one) DO UPDATE SET status_at = ?1", vec![at.into()])?;
        Ok(())
    }

    /// When the conversation was last in use: its last message, or the last change of status
    /// if later (a teammate reopening it), or its start.
    pub fn last_activity(&self) -> Result<String> {
        #[derive(Deserialize)]
        struct At {
            status_at: String,
        }
        let status: Option<String> = self.sql.exec("SELECT status_at FROM lifecycle", None)?.to_array::<At>()?.pop().map(|a| a.status_at);
        let message = self.last_message()?.map(|m| m.created_at);
        let created = self.meta()?.map(|m| m.created_at).unwrap_or_default();
        Ok([status, message, Some(created)].into_iter().flatten().max().unwrap_or_default())
    }

    /// The shopper's answer to ask `ask` (an email link's), or to the latest.
    pub fn rate(&self, input: &RatingInput, ask: Option<i64>, at: &str) -> Result<()> {
        let rows: Vec<Row> = match ask {
            Some(id) => self.sql.exec("SELECT id, satisfaction, effort, comment, rated_at FROM ratings WHERE id = ?", vec![V::Integer(id)])?.to_array()?,
            None => self.ratings()?,
        };
        let latest = rows.into_iter().next().ok_or(Error::RatingNotAsked)?;
        if latest.satisfaction.is_some() {
            return Err(Error::AlreadyRated);
        }
        let effort = input.effort.map_or(V::Null, |e| V::Integer(i64::from(e)));
        let comment = input.comment.clone().map_or(V::Null, V::from);
        self.sql.exec(
            "UPDATE ratings SET satisfaction = ?, effort = ?, comment = ?, rated_at = ? WHERE id = ?",
            vec![V::Integer(i64::from(input.satisfaction)), effort, comment, at.into(), V::Integer(latest.id)],
        )?;
        self.record("conversation.rated", at, serde_json::json!({ "satisfaction": input.satisfaction, "effort": input.effort, "comment": input.comment }))
    }

    /// Every rating given, oldest first (the shopper's export).
    pub fn ratings_given(&self) -> Result<Vec<Rating>> {
        let rows: Vec<Row> = self.sql.exec("SELECT id, satisfaction, effort, comment, rated_at FROM ratings WHERE satisfaction IS NOT NULL ORDER BY id", None)?.to_array()?;
        Ok(rows.into_iter().filter_map(Row::given).collect())
    }

    /// Whether an answer is awaited (asked at the last close), and the latest one given.
    pub fn rating_state(&self) -> Result<RatingState> {
        let rows = self.ratings()?;
        let asked = rows.first().is_some_and(|r| r.satisfaction.is_none());
        let rated = rows.into_iter().find_map(Row::given);
        Ok(RatingState { asked, rated, status: self.meta()?.map(|m| m.status) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_without_an_ask_says_so_in_the_shoppers_language() {
        assert_eq!(closed_note("Pigeon Outfitters", CloseKind::Plain, Some("en-US")), "Pigeon Outfitters closed this conversation; just write again to reopen it.");
        assert!(closed_note("Pigeon Outfitters", CloseKind::Plain, Some("de")).starts_with("Pigeon Outfitters hat diese Unterhaltung abgeschlossen;"));
        // The sweep's close does not name a teammate's decision.
        let idle = closed_note("Pigeon Outfitters", CloseKind::Auto, None);
        assert!(idle.starts_with("This conversation was closed after a quiet spell;") && !idle.contains("Pigeon Outfitters"), "{idle}");
        assert_ne!(closed_note_id(1), closed_note_id(2));
    }

    #[test]
    fn the_thread_note_speaks_the_shoppers_language_and_its_link_stands_alone() {
        let url = "https://relay.test/rate/abc.1.2.ff";
        let en = thread_note("Pigeon Outfitters", url, Some("en-GB"));
        assert!(en.starts_with("Pigeon Outfitters closed this conversation;"), "{en}");
        let de = thread_note("Pigeon Outfitters", url, Some("de-AT"));
        assert!(de.contains("abgeschlossen"), "{de}");
        assert_eq!(thread_note("S", url, None), thread_note("S", url, Some("fr")));
        // The link last, after a space, so the widget's link finder takes it whole.
        for note in [en, de] {
            assert!(note.ends_with(&format!(" {url}")), "{note}");
        }
    }
}
