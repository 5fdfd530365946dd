//! Teammates: who answers for which site (D1 `teammates`, one row per site and address).

use pigeon_protocol::{Me, Membership, Team, TeamRole, TeammateInfo};
use worker::Env;

use super::session::Person;
use crate::{Error, Result};

/// A signed-in teammate acting on one site.
#[derive(Debug, Clone)]
pub struct Teammate {
    pub email: String,
    pub name: String,
    pub role: TeamRole,
}

impl Teammate {
    /// Managing the team (and, later, the site's settings) is for owners.
    pub fn must_own(&self) -> Result<()> {
        if self.role == TeamRole::Owner { Ok(()) } else { Err(Error::OwnerOnly) }
    }
}

#[derive(serde::Deserialize)]
struct Row {
    site_id: String,
    site_name: String,
    name: String,
    role: String,
    ratings: String,
}

/// Every site `person` is a teammate of, by site name.
pub async fn me(env: &Env, person: &Person) -> Result<Me> {
    let rows: Vec<Row> = env
        .d1("DB")?
        .prepare(
            "SELECT t.site_id, s.name AS site_name, t.name, t.role, s.ratings FROM teammates t JOIN sites s ON s.id = t.site_id \
             WHERE t.email = ?1 ORDER BY s.name, t.site_id",
        )
        .bind(&[person.email.as_str().into()])?
        .all()
        .await?
        .results()?;
    let sites = rows
        .into_iter()
        .filter_map(|r| {
            let ratings = pigeon_protocol::Ratings::parse(&r.ratings).unwrap_or_default();
            Some(Membership { site: r.site_id, site_name: r.site_name, name: r.name, role: TeamRole::parse(&r.role)?, ratings })
        })
        .collect();
    Ok(Me { email: person.email.clone(), sites })
}

/// `person` as a teammate of `site`, if they are one.
pub async fn on_site(env: &Env, person: &Person, site: &str) -> Result<Option<Teammate>> {
    #[derive(serde::Deserialize)]
    struct One {
        name: String,
        role: String,
    }
    let row: Option<One> = env
        .d1("DB")?
        .prepare("SELECT name, role FROM teammates WHERE site_id = ?1 AND email = ?2")
        .bind(&[site.into(), person.email.as_str().into()])?
        .first(None)
        .await?;
    Ok(row.and_then(|r| Some(Teammate { email: person.email.clone(), name: r.name, role: TeamRole::parse(&r.role)? })))
}

/// The teammate of `site` with this address (any case), if there is one.
pub async fn find(env: &Env, site: &str, email: &str) -> Result<Option<Teammate>> {
    #[derive(serde::Deserialize)]
    struct One {
        email: String,
        name: String,
        role: String,
    }
    let row: Option<One> = env
        .d1("DB")?
        .prepare("SELECT email, name, role FROM teammates WHERE site_id = ?1 AND email = ?2 COLLATE NOCASE")
        .bind(&[site.into(), email.trim().into()])?
        .first(None)
        .await?;
    Ok(row.and_then(|r| Some(Teammate { email: r.email, name: r.name, role: TeamRole::parse(&r.role)? })))
}

/// The site's teammates, owners first.
pub async fn list(env: &Env, site: &str) -> Result<Team> {
    #[derive(serde::Deserialize)]
    struct Row {
        email: String,
        name: String,
        role: String,
    }
    let rows: Vec<Row> = env
        .d1("DB")?
        .prepare("SELECT email, name, role FROM teammates WHERE site_id = ?1 ORDER BY role = 'agent', name, email")
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    let teammates = rows.into_iter().filter_map(|r| Some(TeammateInfo { email: r.email, name: r.name, role: TeamRole::parse(&r.role)? })).collect();
    Ok(Team { teammates })
}

/// Adds `email` to the site; `AlreadyTeammate` if they are one.
pub async fn add(env: &Env, site: &str, email: &str, name: &str, role: TeamRole) -> Result<()> {
    #[derive(serde::Deserialize)]
    struct Added {
        #[allow(dead_code)]
        email: String,
    }
    let added: Option<Added> = env
        .d1("DB")?
        .prepare("INSERT INTO teammates (site_id, email, name, role) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING RETURNING email")
        .bind(&[site.into(), email.into(), name.into(), role.as_str().into()])?
        .first(None)
        .await?;
    added.map(drop).ok_or(Error::AlreadyTeammate)
}

/// Would the site be left without an owner if `email` stopped being one?
async fn last_owner(env: &Env, site: &str, email: &str) -> Result<bool> {
    #[derive(serde::Deserialize)]
    struct N {
        n: u32,
    }
    let others: Option<N> = env
        .d1("DB")?
        .prepare("SELECT COUNT(*) AS n FROM teammates WHERE site_id = ?1 AND role = 'owner' AND email != ?2")
        .bind(&[site.into(), email.into()])?
        .first(None)
        .await?;
    Ok(others.is_none_or(|o| o.n == 0))
}

async fn role_of(env: &Env, site: &str, email: &str) -> Result<Option<TeamRole>> {
    #[derive(serde::Deserialize)]
    struct R {
        role: String,
    }
    let row: Option<R> = env.d1("DB")?.prepare("SELECT role FROM teammates WHERE site_id = ?1 AND email = ?2").bind(&[site.into(), email.into()])?.first(None).await?;
    Ok(row.and_then(|r| TeamRole::parse(&r.role)))
}

/// A new role; a site always keeps one owner.
pub async fn set_role(env: &Env, site: &str, email: &str, role: TeamRole) -> Result<()> {
    let current = role_of(env, site, email).await?.ok_or(Error::NotFound)?;
    if current == TeamRole::Owner && role != TeamRole::Owner && last_owner(env, site, email).await? {
        return Err(Error::LastOwner);
    }
    env.d1("DB")?
        .prepare("UPDATE teammates SET role = ?3 WHERE site_id = ?1 AND email = ?2")
        .bind(&[site.into(), email.into(), role.as_str().into()])?
        .run()
        .await?;
    Ok(())
}

/// Removes `email` from the site (never its last owner). Their access to the site ends with
/// the row (every inbox request checks it); someone left on no site loses every session.
pub async fn remove(env: &Env, site: &str, email: &str) -> Result<()> {
    let current = role_of(env, site, email).await?.ok_or(Error::NotFound)?;
    if current == TeamRole::Owner && last_owner(env, site, email).await? {
        return Err(Error::LastOwner);
    }
    let db = env.d1("DB")?;
    db.batch(vec![
        db.prepare("DELETE FROM teammates WHERE site_id = ?1 AND email = ?2").bind(&[site.into(), email.into()])?,
        db.prepare("DELETE FROM api_tokens WHERE site_id = ?1 AND email = ?2").bind(&[site.into(), email.into()])?,
        db.prepare(
            "UPDATE sessions SET revoked_ms = ?2 WHERE email = ?1 AND revoked_ms IS NULL \
             AND NOT EXISTS (SELECT 1 FROM teammates WHERE email = ?1)",
        )
        .bind(&[email.into(), js_sys::Date::now().into()])?,
    ])
    .await?;
    Ok(())
}
