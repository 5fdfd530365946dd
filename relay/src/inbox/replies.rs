//! Saved replies (D1 `saved_replies`): every teammate reads the site's list; owners add,
//! change and delete. Templates are checked by the protocol's rules (`replies::saved_reply`):
//! a variable the inbox could not fill is refused when saved, not found out when used.

use pigeon_protocol::replies::{self, MAX_SAVED_REPLIES};
use pigeon_protocol::{PutSavedReply, SavedReplies, SavedReply};
use worker::{Request, Response};

use crate::routes::Ctx;
use crate::{Error, Result, http, tokens};

async fn list(cx: &Ctx) -> Result<SavedReplies> {
    let replies: Vec<SavedReply> = cx
        .env
        .d1("DB")?
        .prepare("SELECT id, shortcut, body, updated_by, updated_at FROM saved_replies WHERE site_id = ?1 ORDER BY shortcut")
        .bind(&[cx.site.id.as_str().into()])?
        .all()
        .await?
        .results()?;
    Ok(SavedReplies { replies })
}

/// `GET /v1/inbox/sites/{site}/replies`: any teammate.
pub async fn get(cx: &Ctx) -> Result<Response> {
    http::json(200, &list(cx).await?)
}

/// The body, checked, from an owner.
async fn input(req: &mut Request, cx: &Ctx) -> Result<PutSavedReply> {
    cx.teammate()?.must_own()?;
    let body: PutSavedReply = http::read_json(req).await?;
    Ok(replies::saved_reply(&body)?)
}

/// A shortcut used by another of the site's replies.
async fn taken(cx: &Ctx, shortcut: &str, except: Option<&str>) -> Result<bool> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    let found: Option<Id> = cx
        .env
        .d1("DB")?
        .prepare("SELECT id FROM saved_replies WHERE site_id = ?1 AND shortcut = ?2")
        .bind(&[cx.site.id.as_str().into(), shortcut.into()])?
        .first(None)
        .await?;
    Ok(found.is_some_and(|f| Some(f.id.as_str()) != except))
}

/// `POST /v1/inbox/sites/{site}/replies` `{shortcut, body}` (owners) → `201` and the list.
pub async fn add(mut req: Request, cx: &Ctx) -> Result<Response> {
    let reply = input(&mut req, cx).await?;
    if taken(cx, &reply.shortcut, None).await? {
        return Err(Error::ShortcutTaken);
    }
    if list(cx).await?.replies.len() >= MAX_SAVED_REPLIES {
        return Err(Error::Invalid(pigeon_protocol::validate::Invalid::new("too_many_replies", format!("A site keeps at most {MAX_SAVED_REPLIES} saved replies."))));
    }
    let id = tokens::new_saved_reply_id()?;
    let db = cx.env.d1("DB")?;
    let insert = db
        .prepare(
            "INSERT INTO saved_replies (id, site_id, shortcut, body, updated_by, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        )
        .bind(&[id.into(), cx.site.id.as_str().into(), reply.shortcut.as_str().into(), reply.body.into(), cx.teammate()?.email.as_str().into()])?;
    // Two owners saving the same shortcut at once: the second meets the unique index.
    if let Err(e) = insert.run().await {
        return Err(if taken(cx, &reply.shortcut, None).await? { Error::ShortcutTaken } else { e.into() });
    }
    http::json(201, &list(cx).await?)
}

/// `PUT /v1/inbox/sites/{site}/replies/{id}` `{shortcut, body}` (owners) → `200` and the list.
pub async fn change(mut req: Request, cx: &Ctx, id: &str) -> Result<Response> {
    let reply = input(&mut req, cx).await?;
    if taken(cx, &reply.shortcut, Some(id)).await? {
        return Err(Error::ShortcutTaken);
    }
    let changed = cx
        .env
        .d1("DB")?
        .prepare(
            "UPDATE saved_replies SET shortcut = ?3, body = ?4, updated_by = ?5, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             WHERE site_id = ?1 AND id = ?2",
        )
        .bind(&[cx.site.id.as_str().into(), id.into(), reply.shortcut.into(), reply.body.into(), cx.teammate()?.email.as_str().into()])?
        .run()
        .await?;
    if changed.meta()?.and_then(|m| m.changes).unwrap_or(0) == 0 {
        return Err(Error::NoSuchSavedReply);
    }
    http::json(200, &list(cx).await?)
}

/// `DELETE /v1/inbox/sites/{site}/replies/{id}` (owners) → `200` and the list.
pub async fn delete(cx: &Ctx, id: &str) -> Result<Response> {
    cx.teammate()?.must_own()?;
    let deleted = cx
        .env
        .d1("DB")?
        .prepare("DELETE FROM saved_replies WHERE site_id = ?1 AND id = ?2")
        .bind(&[cx.site.id.as_str().into(), id.into()])?
        .run()
        .await?;
    if deleted.meta()?.and_then(|m| m.changes).unwrap_or(0) == 0 {
        return Err(Error::NoSuchSavedReply);
    }
    http::json(200, &list(cx).await?)
}
