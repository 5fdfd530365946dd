//! The object keeps its row in the D1 index current, in batches: a burst of messages costs
//! one D1 write, not one per message, so D1's single writer never limits how fast
//! conversations can talk. The merchant's list lags by about `INDEX_DELAY`. The same write
//! copies new messages into the site's search index (`migrations/0007_search.sql`).

use std::time::Duration;

use worker::Env;

use super::jobs::Outcome;
use pigeon_protocol::Message;

use super::store::{IndexRow, SEARCH_BATCH, Store};
use crate::Result;
use crate::conversations::nullable;

pub const INDEX_DELAY: Duration = Duration::from_millis(1000);
const RETRY_DELAY: Duration = Duration::from_secs(5);

/// The characters that mark a hit in search snippets, never in the indexed text.
pub const HIT_START: char = '\u{2}';
pub const HIT_END: char = '\u{3}';

/// Messages as the search index takes them: `[seq, author, created_at, body]`, the body
/// without the hit markers (a message that is only files: their names, "Photo: label.jpg").
fn search_rows(messages: &[Message]) -> String {
    let rows: Vec<(u64, &str, &str, String)> = messages
        .iter()
        .map(|m| (m.seq, m.author.as_str(), m.created_at.as_str(), super::rating::for_team(m.clone()).preview().replace([HIT_START, HIT_END], "")))
        .collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into())
}

/// The row and the new messages' search entries, in one D1 transaction. Entries are added
/// only while the conversation's row exists: a write racing the conversation's erasure
/// cannot leave its text behind. Written twice (a retry after a lost answer), an entry is
/// ignored the second time.
async fn write(env: &Env, row: &IndexRow, unsearched: &[Message]) -> Result<()> {
    let preview = row.last.as_ref().map(|m| super::store::preview(&m.preview()));
    let db = env.d1("DB")?;
    let update = db
        .prepare(
            "UPDATE conversations SET status = ?2, last_seq = ?3, last_message_at = ?4, \
             last_message_preview = ?5, last_author = ?6, unread_count = ?7, context = COALESCE(?8, context), \
             contact_email = ?9, assignee = ?10 WHERE id = ?1",
        )
        .bind(&[
            row.id.as_str().into(),
            row.status.as_str().into(),
            (row.last.as_ref().map_or(0, |m| m.seq) as f64).into(),
            nullable(row.last.as_ref().map(|m| m.created_at.clone())),
            nullable(preview),
            nullable(row.last.as_ref().map(|m| m.author.as_str())),
            (row.unread as f64).into(),
            nullable(row.context.clone()),
            nullable(row.contact_email.clone()),
            nullable(row.assignee.clone()),
        ])?;
    if unsearched.is_empty() {
        update.run().await?;
        return Ok(());
    }
    let insert = db
        .prepare(
            "INSERT OR IGNORE INTO search_messages (site_id, conversation_id, seq, author, created_at, body) \
             SELECT ?1, ?2, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3 FROM json_each(?3) AS j \
             WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?2)",
        )
        .bind(&[row.site.as_str().into(), row.id.as_str().into(), search_rows(unsearched).into()])?;
    db.batch(vec![update, insert]).await?;
    Ok(())
}

/// Writes the index now if it is behind; a failed write asks to be retried.
pub async fn flush(env: &Env, store: &Store) -> Result<Outcome> {
    let Some(row) = store.index_row()? else { return Ok(Outcome::Done) };
    if row.changes == 0 {
        return Ok(Outcome::Done);
    }
    let unsearched = store.after(row.search_seq, SEARCH_BATCH)?;
    match write(env, &row, &unsearched).await {
        Ok(()) => {
            if let Some(last) = unsearched.last() {
                store.mark_searched(last.seq)?;
            }
            // A backlog longer than one batch (messages from before search): again soon.
            if unsearched.len() == SEARCH_BATCH as usize {
                return Ok(Outcome::RetryIn(INDEX_DELAY));
            }
            store.mark_index_clean(row.changes)?;
            Ok(Outcome::Done)
        }
        Err(e) => {
            worker::console_error!("index write failed, retrying: {e}");
            Ok(Outcome::RetryIn(RETRY_DELAY))
        }
    }
}
