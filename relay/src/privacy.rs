//! The shopper's data rights and the retention job: contact address, export, erase.

use pigeon_protocol::{SetContact, validate};
use serde::Deserialize;
use worker::{Env, Response};

use crate::conversation::op::{self, Caller, Op, Refusal};
use crate::routes::{Asked, Ctx};
use crate::{Result, http};

/// `PUT /v1/conversations/{id}/contact` `{email}`: where to send the answer when the shopper
/// has left. Kept only in the conversation's object, never in the index or logs.
pub async fn set_contact(mut req: worker::Request, cx: &Ctx, asked: Asked) -> Result<Response> {
    let body: SetContact = http::read_json(&mut req).await?;
    let email = validate::email(&body.email)?;
    op::send(&cx.env, &asked.conversation, asked.caller, Op::SetContact { email }).await?.done()?;
    http::no_content()
}

/// `GET /v1/conversations/{id}/export`: everything stored about the conversation.
pub async fn export(cx: &Ctx, asked: Asked) -> Result<Response> {
    let export = op::send(&cx.env, &asked.conversation, asked.caller, Op::Export).await?.export()?;
    http::json(200, &export)
}

/// `DELETE /v1/conversations/{id}`: erased from the object (messages, contact, pending
/// notifications, live sockets) and from the D1 index; a tombstone keeps only its site.
/// The conversations it follows (earlier ones this browser held, "Start a new conversation")
/// are erased with it: the token is checked first, then the earlier ones go oldest first and
/// the one asked about last, so a failure part way leaves it to be asked again.
pub async fn delete(cx: &Ctx, asked: Asked) -> Result<Response> {
    op::send(&cx.env, &asked.conversation, asked.caller.clone(), Op::Check).await?.done()?;
    for id in followed_by(&cx.env, &asked.conversation, &cx.site.id).await? {
        match op::send(&cx.env, &id, Caller::Worker, Op::Erase).await {
            Ok(_) | Err(Refusal::NotFound) => remove_from_index(&cx.env, &id, &cx.site.id).await?,
            Err(refusal) => return Err(refusal.into()),
        }
    }
    op::send(&cx.env, &asked.conversation, asked.caller, Op::Erase).await?.done()?;
    remove_from_index(&cx.env, &asked.conversation, &cx.site.id).await?;
    http::no_content()
}

/// The chain of this site's conversations `id` follows, oldest first, in one query (at most
/// [`MAX_FOLLOWED`]; older ones go with retention).
async fn followed_by(env: &Env, id: &str, site: &str) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let rows: Vec<Row> = env
        .d1("DB")?
        .prepare(
            "WITH RECURSIVE chain(id, depth) AS ( \
               SELECT follows, 1 FROM conversations WHERE site_id = ?1 AND id = ?2 AND follows IS NOT NULL \
               UNION \
               SELECT c.follows, chain.depth + 1 FROM conversations c JOIN chain ON c.id = chain.id \
               WHERE c.site_id = ?1 AND c.follows IS NOT NULL AND chain.depth < ?3) \
             SELECT id, max(depth) AS depth FROM chain WHERE id <> ?2 GROUP BY id ORDER BY depth DESC",
        )
        .bind(&[site.into(), id.into(), MAX_FOLLOWED.into()])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// How many earlier conversations one erase reaches (each is an object call and two D1
/// round trips).
const MAX_FOLLOWED: u32 = 40;

/// Replaces the index row by a tombstone (id, site, when) and deletes its search entries and
/// webhook deliveries (their bodies hold its messages), in one D1 transaction: the widget's
/// next request about it gets a 404 its page can read (CORS for the site's origins), and
/// nothing else about it is kept.
async fn remove_from_index(env: &Env, conversation: &str, site: &str) -> Result<()> {
    let db = env.d1("DB")?;
    db.batch(vec![
        db.prepare(
            "INSERT OR IGNORE INTO conversation_tombstones (id, site_id, erased_at) \
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        )
        .bind(&[conversation.into(), site.into()])?,
        db.prepare("DELETE FROM conversations WHERE id = ?1").bind(&[conversation.into()])?,
        db.prepare("DELETE FROM search_messages WHERE conversation_id = ?1").bind(&[conversation.into()])?,
        db.prepare("DELETE FROM conversation_events WHERE conversation_id = ?1").bind(&[conversation.into()])?,
        db.prepare("DELETE FROM webhook_deliveries WHERE conversation_id = ?1").bind(&[conversation.into()])?,
    ])
    .await?;
    crate::sites::forget_conversation(conversation);
    Ok(())
}

/// The scheduled job: erases conversations idle longer than their site's retention.
/// Returns how many were erased. Bounded per run; the next run continues.
pub async fn enforce_retention(env: &Env) -> Result<usize> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        site_id: String,
    }
    let rows: Vec<Row> = env
        .d1("DB")?
        .prepare(
            "SELECT c.id, c.site_id FROM conversations c JOIN sites s ON s.id = c.site_id \
             WHERE julianday('now') - julianday(COALESCE(c.last_message_at, c.created_at)) > s.retention_days \
             LIMIT 500",
        )
        .all()
        .await?
        .results()?;
    let mut erased = 0;
    for row in rows {
        match op::send(env, &row.id, Caller::Worker, Op::Erase).await {
            // Not found: the object is already empty (erased earlier); the index row still goes.
            Ok(_) | Err(Refusal::NotFound) => {
                remove_from_index(env, &row.id, &row.site_id).await?;
                erased += 1;
            }
            // The next run tries again.
            Err(refusal) => worker::console_error!("retention: {} not erased: {refusal:?}", row.id),
        }
    }
    Ok(erased)
}
