//! The object keeps its row in the D1 index current, in batches: a burst of messages costs
//! one D1 write, not one per message, so D1's single writer never limits how fast
//! conversations can talk. The merchant's list lags by about `INDEX_DELAY`.

use std::time::Duration;

use worker::Env;

use super::jobs::Outcome;
use super::store::{IndexRow, Store};
use crate::Result;
use crate::conversations::nullable;

pub const INDEX_DELAY: Duration = Duration::from_millis(1000);
const RETRY_DELAY: Duration = Duration::from_secs(5);

async fn write(env: &Env, row: &IndexRow) -> Result<()> {
    let preview = row.last.as_ref().map(|m| super::store::preview(&m.body));
    env.d1("DB")?
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
        ])?
        .run()
        .await?;
    Ok(())
}

/// Writes the index now if it is behind; a failed write asks to be retried.
pub async fn flush(env: &Env, store: &Store) -> Result<Outcome> {
    let Some(row) = store.index_row()? else { return Ok(Outcome::Done) };
    if row.changes == 0 {
        return Ok(Outcome::Done);
    }
    match write(env, &row).await {
        Ok(()) => {
            store.mark_index_clean(row.changes)?;
            Ok(Outcome::Done)
        }
        Err(e) => {
            worker::console_error!("index write failed, retrying: {e}");
            Ok(Outcome::RetryIn(RETRY_DELAY))
        }
    }
}
