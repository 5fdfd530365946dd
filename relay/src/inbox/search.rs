//! Search across a site's conversations: message text through SQLite's full-text index in
//! D1 (`migrations/0007_search.sql`, kept current by the conversation objects with their
//! index row, see `conversation::index`) and the shopper's address in the index rows.
//!
//! What the teammate types never reaches FTS5 as syntax: each word becomes a quoted phrase
//! (all required, the last also as a prefix, so results follow the typing), under a filter
//! to the site's own entries.

use pigeon_protocol::{Author, SearchHit, SearchResults, Span, Status, validate};
use serde::Deserialize;
use worker::Request;

use crate::conversation::index::{HIT_END, HIT_START};
use crate::routes::Ctx;
use crate::{Error, Result};

pub const MAX_QUERY_CHARS: usize = 200;
const MAX_TERMS: usize = 8;
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;
/// Words around a hit in a message's snippet.
const SNIPPET_WORDS: u32 = 14;

/// The FTS5 expression for `q` on `site`'s entries; `None` when `q` has no word to look for.
pub fn fts_query(site: &str, q: &str) -> Option<String> {
    let phrase = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
    let terms: Vec<String> = q.split_whitespace().filter(|t| t.chars().any(char::is_alphanumeric)).take(MAX_TERMS).map(phrase).collect();
    if terms.is_empty() {
        return None;
    }
    let prefix = if q.ends_with(char::is_whitespace) { "" } else { "*" };
    Some(format!("site_id : {} AND body : ({}{prefix})", phrase(site), terms.join(" ")))
}

/// A snippet as FTS5 marks it (`HIT_START` … `HIT_END` around each hit) as spans.
pub fn spans(marked: &str) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut hit = false;
    let mut text = String::new();
    let mut push = |text: &mut String, hit: bool| {
        if !text.is_empty() {
            out.push(Span { text: std::mem::take(text), hit });
        }
    };
    for c in marked.chars() {
        match c {
            HIT_START | HIT_END => {
                push(&mut text, hit);
                hit = c == HIT_START;
            }
            c => text.push(c),
        }
    }
    push(&mut text, hit);
    out
}

/// An address with each occurrence of `q` (ASCII case ignored) marked.
pub fn email_spans(email: &str, q: &str) -> Vec<Span> {
    let (hay, needle) = (email.to_ascii_lowercase(), q.to_ascii_lowercase());
    let mut out = Vec::new();
    let mut rest = 0;
    if !needle.is_empty() {
        while let Some(at) = hay[rest..].find(&needle) {
            let (start, end) = (rest + at, rest + at + needle.len());
            if start > rest {
                out.push(Span { text: email[rest..start].to_owned(), hit: false });
            }
            out.push(Span { text: email[start..end].to_owned(), hit: true });
            rest = end;
        }
    }
    if rest < email.len() {
        out.push(Span { text: email[rest..].to_owned(), hit: false });
    }
    out
}

/// `q` as a `LIKE` pattern matching it anywhere, its wildcards taken literally (`ESCAPE '\'`).
pub fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

fn bad_query(message: &str) -> Error {
    Error::Invalid(validate::Invalid::new("invalid_query", message))
}

/// What `?q=` and `?limit=` ask for, checked.
fn asked(req: &Request) -> Result<(String, u32)> {
    let url = req.url()?;
    let query = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let q = query("q").unwrap_or_default();
    if q.chars().count() > MAX_QUERY_CHARS || q.contains('\0') {
        return Err(bad_query("`q` is at most 200 characters."));
    }
    if q.trim().chars().count() < 2 {
        return Err(bad_query("Search for at least two characters."));
    }
    let limit = match query("limit") {
        None => DEFAULT_LIMIT,
        Some(n) => n.parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| bad_query("`limit` is an integer from 1 to 100."))?,
    };
    Ok((q, limit))
}

/// `GET /v1/inbox/sites/{site}/search?q=&limit=`: messages whose text has every word (the
/// last as a prefix) and conversations whose shopper address contains `q`, newest first.
pub async fn search(req: &Request, cx: &Ctx) -> Result<worker::Response> {
    let (q, limit) = asked(req)?;
    // An address hit first when it ties with a message (its time is the last message's).
    let mut hits = in_addresses(cx, q.trim(), limit).await?;
    hits.extend(in_messages(cx, &q, limit).await?);
    hits.sort_by(|a, b| b.at.cmp(&a.at));
    hits.truncate(limit as usize);
    crate::http::json(200, &SearchResults { hits })
}

async fn in_messages(cx: &Ctx, q: &str, limit: u32) -> Result<Vec<SearchHit>> {
    #[derive(Deserialize)]
    struct Row {
        conversation: String,
        seq: u64,
        author: Author,
        at: String,
        snippet: String,
        status: Status,
        contact_email: Option<String>,
    }
    let Some(expr) = fts_query(&cx.site.id, q) else { return Ok(vec![]) };
    let rows: Vec<Row> = cx
        .env
        .d1("DB")?
        .prepare(format!(
            "SELECT m.conversation_id AS conversation, m.seq, m.author, m.created_at AS at, \
             snippet(message_search, 0, char(2), char(3), '…', {SNIPPET_WORDS}) AS snippet, c.status, c.contact_email \
             FROM message_search JOIN search_messages m ON m.rowid = message_search.rowid \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE message_search MATCH ?1 ORDER BY message_search.rowid DESC LIMIT ?2"
        ))
        .bind(&[expr.into(), f64::from(limit).into()])?
        .all()
        .await?
        .results()?;
    Ok(rows
        .into_iter()
        .map(|r| SearchHit {
            conversation: r.conversation,
            status: r.status,
            contact_email: r.contact_email,
            seq: Some(r.seq),
            author: Some(r.author),
            at: r.at,
            snippet: spans(&r.snippet),
        })
        .collect())
}

async fn in_addresses(cx: &Ctx, q: &str, limit: u32) -> Result<Vec<SearchHit>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        status: Status,
        contact_email: String,
        at: String,
    }
    let rows: Vec<Row> = cx
        .env
        .d1("DB")?
        .prepare(
            "SELECT id, status, contact_email, COALESCE(last_message_at, created_at) AS at FROM conversations \
             WHERE site_id = ?1 AND contact_email LIKE ?2 ESCAPE '\\' ORDER BY at DESC LIMIT ?3",
        )
        .bind(&[cx.site.id.as_str().into(), like_pattern(q).into(), f64::from(limit).into()])?
        .all()
        .await?
        .results()?;
    Ok(rows
        .into_iter()
        .map(|r| SearchHit {
            conversation: r.id,
            status: r.status,
            snippet: email_spans(&r.contact_email, q),
            contact_email: Some(r.contact_email),
            seq: None,
            author: None,
            at: r.at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_quoted_phrases_under_the_site() {
        assert_eq!(fts_query("demo", "parcel dam").unwrap(), r#"site_id : "demo" AND body : ("parcel" "dam"*)"#);
        assert_eq!(fts_query("demo", "parcel ").unwrap(), r#"site_id : "demo" AND body : ("parcel")"#);
        // FTS5 syntax is only ever text inside a phrase.
        assert_eq!(
            fts_query("demo", r#"x" OR site_id : "other NEAR(a b) -c ^d"#).unwrap(),
            r#"site_id : "demo" AND body : ("x""" "OR" "site_id" """other" "NEAR(a" "b)" "-c" "^d"*)"#
        );
        assert_eq!(fts_query("demo", "  ... !! "), None);
        assert_eq!(fts_query("demo", "a b c d e f g h i j").unwrap().matches('"').count(), 2 + 8 * 2);
    }

    #[test]
    fn snippets_become_spans() {
        let marked = format!("Where is my {HIT_START}parcel{HIT_END}? It {HIT_START}arrived{HIT_END}");
        let got = spans(&marked);
        let texts: Vec<(&str, bool)> = got.iter().map(|s| (s.text.as_str(), s.hit)).collect();
        assert_eq!(texts, [("Where is my ", false), ("parcel", true), ("? It ", false), ("arrived", true)]);
        assert!(spans("").is_empty());
    }

    #[test]
    fn addresses_are_marked_ignoring_case() {
        let got = email_spans("Ana.Lima@Example.com", "lima@ex");
        let texts: Vec<(&str, bool)> = got.iter().map(|s| (s.text.as_str(), s.hit)).collect();
        assert_eq!(texts, [("Ana.", false), ("Lima@Ex", true), ("ample.com", false)]);
        assert_eq!(email_spans("a@b.c", "zz"), [Span { text: "a@b.c".into(), hit: false }]);
    }

    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
