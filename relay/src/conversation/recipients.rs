//! Who hears about a shopper's message nobody has seen: the assignee, else everyone on the
//! site; never a teammate whose visible inbox tab shows the conversation; each by the channels
//! they chose in their profile (push to their devices, email, or both).

use pigeon_protocol::{NotifyBy, Profile};
use serde::Deserialize;
use worker::Env;

use crate::Result;
use crate::push::Device;

/// A teammate of the conversation's site, with their profile and push devices.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub email: String,
    pub name: String,
    pub profile: Profile,
    pub devices: Vec<Device>,
}

impl Member {
    pub fn wants_push(&self) -> bool {
        self.profile.notify.push() && !self.devices.is_empty()
    }

    pub fn wants_email(&self) -> bool {
        self.profile.notify.email(!self.devices.is_empty())
    }
}

/// The assignee alone when they are still on the team, else everyone; minus the viewers.
pub fn choose(team: Vec<Member>, assignee: Option<&str>, viewers: &[String]) -> Vec<Member> {
    let assigned = assignee.filter(|a| team.iter().any(|m| m.email.eq_ignore_ascii_case(a)));
    team.into_iter()
        .filter(|m| assigned.is_none_or(|a| m.email.eq_ignore_ascii_case(a)))
        .filter(|m| !viewers.iter().any(|v| v.eq_ignore_ascii_case(&m.email)))
        .collect()
}

/// The site's team with profiles and devices, in two queries.
pub async fn team(env: &Env, site: &str) -> Result<Vec<Member>> {
    #[derive(Deserialize)]
    struct Row {
        email: String,
        name: String,
        notify: Option<String>,
        push_preview: Option<u32>,
    }
    #[derive(Deserialize)]
    struct DeviceRow {
        email: String,
        endpoint: String,
        p256dh: String,
        auth: String,
    }
    let db = env.d1("DB")?;
    let rows: Vec<Row> = db
        .prepare(
            "SELECT t.email, t.name, p.notify, p.push_preview FROM teammates t LEFT JOIN profiles p ON p.email = t.email \
             WHERE t.site_id = ?1 ORDER BY t.email",
        )
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    let devices: Vec<DeviceRow> = db
        .prepare("SELECT d.email, d.endpoint, d.p256dh, d.auth FROM push_subscriptions d JOIN teammates t ON t.email = d.email WHERE t.site_id = ?1")
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    Ok(rows
        .into_iter()
        .map(|r| Member {
            devices: devices
                .iter()
                .filter(|d| d.email == r.email)
                .map(|d| Device { endpoint: d.endpoint.clone(), p256dh: d.p256dh.clone(), auth: d.auth.clone() })
                .collect(),
            profile: Profile {
                notify: r.notify.as_deref().and_then(NotifyBy::parse).unwrap_or_default(),
                push_preview: r.push_preview == Some(1),
            },
            email: r.email,
            name: r.name,
        })
        .collect())
}

/// Who should hear about `conversation` now (see the module comment), and how many teammates
/// the site has. The hub not answering means nobody is known to be looking.
pub async fn unseen_by(env: &Env, site: &str, conversation: &str, assignee: Option<&str>) -> Result<(usize, Vec<Member>)> {
    let team = team(env, site).await?;
    let size = team.len();
    let viewers = crate::hub::viewers(env, site, conversation).await.unwrap_or_else(|e| {
        worker::console_error!("notify: viewers unknown: {e}");
        vec![]
    });
    Ok((size, choose(team, assignee, &viewers)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(email: &str, notify: NotifyBy, devices: usize) -> Member {
        Member {
            email: email.into(),
            name: email.into(),
            profile: Profile { notify, push_preview: false },
            devices: (0..devices).map(|i| Device { endpoint: format!("https://push.example/{email}/{i}"), p256dh: String::new(), auth: String::new() }).collect(),
        }
    }

    fn emails(m: &[Member]) -> Vec<&str> {
        m.iter().map(|m| m.email.as_str()).collect()
    }

    #[test]
    fn the_assignee_else_everyone_never_the_viewer() {
        let team = || vec![member("olivia@shop", NotifyBy::Both, 1), member("sam@shop", NotifyBy::Push, 1), member("kim@shop", NotifyBy::Email, 0)];
        assert_eq!(emails(&choose(team(), None, &[])), ["olivia@shop", "sam@shop", "kim@shop"]);
        assert_eq!(emails(&choose(team(), Some("SAM@shop"), &[])), ["sam@shop"]);
        assert_eq!(emails(&choose(team(), None, &["olivia@shop".into()])), ["sam@shop", "kim@shop"]);
        // The assignee looking at it: nobody else is told either.
        assert!(choose(team(), Some("sam@shop"), &["sam@shop".into()]).is_empty());
        // An assignee who left the team: everyone again.
        assert_eq!(choose(team(), Some("gone@shop"), &[]).len(), 3);
    }

    #[test]
    fn channels_follow_the_profile_and_the_devices() {
        assert!(member("a", NotifyBy::Both, 1).wants_push() && member("a", NotifyBy::Both, 1).wants_email());
        assert!(!member("a", NotifyBy::Both, 0).wants_push());
        assert!(member("a", NotifyBy::Push, 1).wants_push() && !member("a", NotifyBy::Push, 1).wants_email());
        assert!(member("a", NotifyBy::Push, 0).wants_email());
        assert!(!member("a", NotifyBy::Email, 2).wants_push() && member("a", NotifyBy::Email, 2).wants_email());
    }
}
