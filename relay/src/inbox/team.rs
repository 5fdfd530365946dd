//! Teammates: who answers for which site (D1 `teammates`, one row per site and address).

use pigeon_protocol::{Me, Membership, TeamRole};
use worker::Env;

use super::session::Person;
use crate::Result;

/// A signed-in teammate acting on one site.
#[derive(Debug, Clone)]
pub struct Teammate {
    pub email: String,
    pub name: String,
}

#[derive(serde::Deserialize)]
struct Row {
    site_id: String,
    site_name: String,
    name: String,
    role: String,
}

/// Every site `person` is a teammate of, by site name.
pub async fn me(env: &Env, person: &Person) -> Result<Me> {
    let rows: Vec<Row> = env
        .d1("DB")?
        .prepare(
            "SELECT t.site_id, s.name AS site_name, t.name, t.role FROM teammates t JOIN sites s ON s.id = t.site_id \
             WHERE t.email = ?1 ORDER BY s.name, t.site_id",
        )
        .bind(&[person.email.as_str().into()])?
        .all()
        .await?
        .results()?;
    let sites = rows
        .into_iter()
        .filter_map(|r| Some(Membership { site: r.site_id, site_name: r.site_name, name: r.name, role: TeamRole::parse(&r.role)? }))
        .collect();
    Ok(Me { email: person.email.clone(), sites })
}

/// `person` as a teammate of `site`, if they are one.
pub async fn on_site(env: &Env, person: &Person, site: &str) -> Result<Option<Teammate>> {
    #[derive(serde::Deserialize)]
    struct One {
        name: String,
    }
    let row: Option<One> = env
        .d1("DB")?
        .prepare("SELECT name FROM teammates WHERE site_id = ?1 AND email = ?2")
        .bind(&[site.into(), person.email.as_str().into()])?
        .first(None)
        .await?;
    Ok(row.map(|r| Teammate { email: person.email.clone(), name: r.name }))
}
