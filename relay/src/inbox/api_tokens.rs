//! Personal API tokens (D1 `api_tokens`): each teammate makes, lists and revokes their own
//! for a site in the inbox; scripts send one as `Authorization: Bearer pgn_pat_...` on the
//! agent routes instead of the site's agent key (`routes::agent_context`), acting as that
//! teammate. Only the token's SHA-256 is stored; a token stops working when its teammate
//! leaves the site's team (the lookup joins `teammates`, and leaving deletes it).

use pigeon_protocol::api_tokens::{self, MAX_TOKENS, TOKEN_PREFIX};
use pigeon_protocol::validate::Invalid;
use pigeon_protocol::{ApiToken, ApiTokenMade, ApiTokens, PostApiToken, TeamRole};
use worker::{Env, Request, Response};

use super::team::Teammate;
use crate::routes::Ctx;
use crate::{Error, Result, http, tokens};

async fn list(cx: &Ctx) -> Result<Vec<ApiToken>> {
    let me = cx.teammate()?;
    Ok(cx
        .env
        .d1("DB")?
        .prepare("SELECT id, name, created_at, last_used_at FROM api_tokens WHERE site_id = ?1 AND email = ?2 ORDER BY created_at DESC, id")
        .bind(&[cx.site.id.as_str().into(), me.email.as_str().into()])?
        .all()
        .await?
        .results()?)
}

/// `GET /v1/inbox/sites/{site}/tokens`: the signed-in teammate's own.
pub async fn get(cx: &Ctx) -> Result<Response> {
    http::json(200, &ApiTokens { tokens: list(cx).await? })
}

/// `POST /v1/inbox/sites/{site}/tokens` `{name}` → `201` with the secret, shown this once.
pub async fn add(mut req: Request, cx: &Ctx) -> Result<Response> {
    let me = cx.teammate()?;
    let body: PostApiToken = http::read_json(&mut req).await?;
    let name = api_tokens::token_name(&body.name)?;
    if list(cx).await?.len() >= MAX_TOKENS {
        return Err(Error::Invalid(Invalid::new("too_many_tokens", format!("A teammate has at most {MAX_TOKENS} tokens per site: revoke one you no longer use."))));
    }
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(tokens::random_bytes::<32>()?));
    let token = ApiToken { id: format!("tok_{}", hex::encode(tokens::random_bytes::<12>()?)), name, created_at: crate::conversation::now_iso(), last_used_at: None };
    cx.env
        .d1("DB")?
        .prepare("INSERT INTO api_tokens (id, token_hash, site_id, email, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(&[
            token.id.as_str().into(),
            tokens::hash(&secret).into(),
            cx.site.id.as_str().into(),
            me.email.as_str().into(),
            token.name.as_str().into(),
            token.created_at.as_str().into(),
        ])?
        .run()
        .await?;
    http::json(201, &ApiTokenMade { token, secret })
}

/// `DELETE /v1/inbox/sites/{site}/tokens/{id}`: one of the teammate's own, at once.
pub async fn revoke(cx: &Ctx, id: &str) -> Result<Response> {
    let me = cx.teammate()?;
    if !list(cx).await?.iter().any(|t| t.id == id) {
        return Err(Error::NotFound);
    }
    cx.env
        .d1("DB")?
        .prepare("DELETE FROM api_tokens WHERE site_id = ?1 AND email = ?2 AND id = ?3")
        .bind(&[cx.site.id.as_str().into(), me.email.as_str().into(), id.into()])?
        .run()
        .await?;
    http::no_content()
}

/// The hour a use is recorded as (`2026-12-03T20:00:00Z`): the list says when to the hour,
/// so a busy token writes at most once an hour.
fn hour_of(iso: &str) -> String {
    format!("{}:00:00Z", iso.get(..13).unwrap_or(iso))
}

/// Who holds a personal token: the site it opens and the teammate it acts as.
#[derive(Debug, Clone)]
pub struct Holder {
    pub id: String,
    pub site: String,
    pub teammate: Teammate,
    last_used_at: Option<String>,
}

/// The holder of a personal token while its teammate is on that site's team; `None` for any
/// other bearer.
pub async fn holder(env: &Env, bearer: &str) -> Result<Option<Holder>> {
    #[derive(serde::Deserialize)]
    struct Row {
        id: String,
        site_id: String,
        email: String,
        name: String,
        role: String,
        last_used_at: Option<String>,
    }
    if !api_tokens::is_token(bearer) {
        return Ok(None);
    }
    let row: Option<Row> = env
        .d1("DB")?
        .prepare(
            "SELECT k.id, k.site_id, k.email, m.name, m.role, k.last_used_at FROM api_tokens k \
             JOIN teammates m ON m.site_id = k.site_id AND m.email = k.email WHERE k.token_hash = ?1",
        )
        .bind(&[tokens::hash(bearer).into()])?
        .first(None)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let Some(role) = TeamRole::parse(&row.role) else { return Ok(None) };
    Ok(Some(Holder { id: row.id, site: row.site_id, teammate: Teammate { email: row.email, name: row.name, role }, last_used_at: row.last_used_at }))
}

/// Records that the token opened its site (to the hour, so at most one write an hour). A
/// failure to record never fails the request.
pub async fn used(env: &Env, holder: &Holder) {
    let hour = hour_of(&crate::conversation::now_iso());
    if holder.last_used_at.as_deref() == Some(hour.as_str()) {
        return;
    }
    let write = async { env.d1("DB")?.prepare("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1").bind(&[holder.id.as_str().into(), hour.into()])?.run().await };
    if let Err(e) = write.await {
        worker::console_error!("api token use not recorded: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_are_recorded_to_the_hour() {
        assert_eq!(hour_of("2026-12-03T20:41:07.123Z"), "2026-12-03T20:00:00Z");
        assert_eq!(hour_of("2026-12-03T20:00:00Z"), "2026-12-03T20:00:00Z");
    }
}
