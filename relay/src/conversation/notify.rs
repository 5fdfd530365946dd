//! The two notification jobs: the merchant hears about new shopper messages, the shopper
//! about replies they have not read. Each email covers everything since the last one; a
//! failed send is retried with the same Message-ID, and what it covered is recorded only
//! after the send succeeded, so a retry never sends a second email for the same messages.

use pigeon_protocol::{Author, Context};
use serde::Deserialize;
use worker::{Env, SqlStorageValue as V};

use super::jobs::{Due, Outcome};
use super::recipients;
use super::store::{Meta, Store};
use crate::mail::{self, CloudflareEmail, Email, MailConfig, Mailbox, Mailer, compose, notice, sign::Role};
use crate::{Result, sites};

/// How many Message-IDs a thread remembers for `References`.
const THREAD_IDS: usize = 20;

/// The `mail` table's key for the thread with the merchant or with the shopper.
fn key(to: Role) -> &'static str {
    match to {
        Role::Merchant => "merchant",
        Role::Shopper => "shopper",
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MailState {
    pub notified_seq: u64,
    pub sent: u64,
    thread: String,
}

impl MailState {
    pub fn thread(&self) -> Vec<String> {
        serde_json::from_str(&self.thread).unwrap_or_default()
    }
}

impl Store {
    pub fn mail_state(&self, to: Role) -> Result<MailState> {
        let rows: Vec<MailState> =
            self.sql.exec("SELECT notified_seq, sent, thread FROM mail WHERE role = ?", vec![key(to).into()])?.to_array()?;
        Ok(rows.into_iter().next().unwrap_or_default())
    }

    /// The last message the `mail` row `key` was told of, or `default` when it has no row.
    pub fn notified_or(&self, key: &str, default: u64) -> Result<u64> {
        #[derive(Deserialize)]
        struct Seq {
            notified_seq: u64,
        }
        let rows: Vec<Seq> = self.sql.exec("SELECT notified_seq FROM mail WHERE role = ?", vec![key.into()])?.to_array()?;
        Ok(rows.first().map_or(default, |r| r.notified_seq))
    }

    pub fn notified(&self, key: &str) -> Result<u64> {
        self.notified_or(key, 0)
    }

    /// Records that `key` (a recipient, or the push job) was told of everything up to `seq`.
    pub fn set_notified(&self, key: &str, seq: u64) -> Result<()> {
        self.sql.exec(
            "INSERT INTO mail (role, notified_seq) VALUES (?1, ?2) ON CONFLICT (role) DO UPDATE SET notified_seq = MAX(notified_seq, ?2)",
            vec![key.into(), V::Integer(seq as i64)],
        )?;
        Ok(())
    }

    /// After a send: what it covered, and its id in the thread.
    fn mail_sent(&self, to: Role, covered_seq: u64, message_id: &str) -> Result<()> {
        self.add_to_thread(to, message_id, Some(covered_seq))
    }

    /// A reply that came in by email joins the thread, so the next notification answers it.
    pub fn mail_received(&self, to: Role, message_id: &str) -> Result<()> {
        if !compose::message_id_ok(message_id) {
            return Ok(());
        }
        self.add_to_thread(to, message_id, None)
    }

    /// Appends `message_id` to the thread; a sent notification also counts and records the
    /// last `seq` it covered.
    fn add_to_thread(&self, to: Role, message_id: &str, covered_seq: Option<u64>) -> Result<()> {
        let mut thread = self.mail_state(to)?.thread();
        thread.push(message_id.to_owned());
        // Keep the first (the thread's root) and the latest.
        if thread.len() > THREAD_IDS {
            thread.drain(1..thread.len() - (THREAD_IDS - 1));
        }
        let thread = serde_json::to_string(&thread).map_err(|e| crate::Error::Internal(e.to_string()))?;
        let sent = if covered_seq.is_some() { 1 } else { 0 };
        self.sql.exec(
            "INSERT INTO mail (role, notified_seq, sent, thread) VALUES (?1, COALESCE(?2, 0), ?3, ?4) \
             ON CONFLICT (role) DO UPDATE SET notified_seq = MAX(notified_seq, COALESCE(?2, 0)), sent = sent + ?3, thread = ?4",
            vec![
                key(to).into(),
                covered_seq.map_or(V::Null, |s| V::Integer(s as i64)),
                V::Integer(sent),
                thread.into(),
            ],
        )?;
        Ok(())
    }
}

/// Someone an email goes to, and the `mail` row recording what they were last told of
/// (`None`: the role's own row, for the shopper).
struct Target {
    mailbox: Mailbox,
    key: Option<String>,
}

/// Who the merchant-side email goes to: the teammates who should hear and chose email (see
/// `recipients`), or the site's merchant address when the site has no team at all.
async fn merchant_targets(env: &Env, site: &sites::Site, meta: &Meta) -> Result<Vec<Target>> {
    let (team_size, members) = recipients::unseen_by(env, &site.id, &meta.id, meta.assignee.as_deref()).await?;
    if team_size == 0 {
        return Ok(vec![Target { mailbox: Mailbox::new(&site.name, &site.merchant_email), key: None }]);
    }
    Ok(members
        .into_iter()
        .filter(|m| m.wants_email())
        .map(|m| Target { key: Some(format!("to:{}", m.email)), mailbox: Mailbox::new(&m.name, &m.email) })
        .collect())
}

/// Runs one notification job: one email per recipient, each covering what they were not yet
/// told of. A recipient whose send failed is tried again on the retry; the others are not.
pub async fn run(env: &Env, config: &MailConfig, store: &Store, to: Role, due: &Due) -> Result<Outcome> {
    let Some(meta) = store.meta()? else { return Ok(Outcome::Done) };
    let Some(site) = sites::load(env, &meta.site).await? else { return Ok(Outcome::Done) };
    let targets = match to {
        Role::Merchant => merchant_targets(env, &site, &meta).await?,
        Role::Shopper => match &meta.contact_email {
            Some(email) => vec![Target { mailbox: Mailbox::bare(email), key: None }],
            None => return Ok(Outcome::Done),
        },
    };
    let mailer = match CloudflareEmail::from_env(env) {
        Ok(m) => m,
        Err(e) => {
            worker::console_error!("notify {}: {e}", key(to));
            return Ok(Outcome::Done);
        }
    };
    // What the team was told before this run: where a teammate without their own row starts.
    let told = store.mail_state(to)?.notified_seq;
    let mut failed = None;
    for target in targets {
        let since = match &target.key {
            Some(k) => store.notified_or(k, told)?,
            None => told,
        };
        let Some((email, covered)) = compose_for(config, store, &meta, &site, to, target.mailbox, since)? else { continue };
        let sent = mailer.send(&email).await;
        if let Err(e) = &sent {
            if !e.permanent {
                worker::console_error!("notify {}: send failed: {e}", key(to));
                // The retry starts where this send did, whatever the others were told.
                if let Some(k) = &target.key {
                    store.set_notified(k, since)?;
                }
                failed = Some(());
                continue;
            }
            // Nothing to gain from retrying; skip these messages so the next ones go out.
            worker::console_error!("notify {}: not sent, giving up: {e}", key(to));
        }
        store.mail_sent(to, covered, &email.message_id)?;
        if let Some(k) = &target.key {
            store.set_notified(k, covered)?;
        }
        worker::console_log!("notify {}: sent {} covering seq {covered}", key(to), email.message_id);
    }
    Ok(match failed.and_then(|()| mail::retry_delay(due.attempts + 1)) {
        Some(delay) => Outcome::RetryIn(delay),
        None => Outcome::Done,
    })
}

/// The email to send now to `recipient` and the last `seq` it covers, or `None` when there
/// is nothing new (already read, or already told of everything after `since`).
fn compose_for(config: &MailConfig, store: &Store, meta: &Meta, site: &sites::Site, to: Role, recipient: Mailbox, since: u64) -> Result<Option<(Email, u64)>> {
    let state = store.mail_state(to)?;
    let context: Option<Context> = meta.context.as_deref().and_then(|c| serde_json::from_str(c).ok());
    let origins = &site.origins;
    let (author, read_seq) = match to {
        Role::Merchant => (Author::Shopper, meta.agent_read_seq),
        Role::Shopper => (Author::Agent, meta.shopper_read_seq),
    };
    let pending = store.by_author_after(author, since.max(read_seq))?;
    let Some(covered) = pending.last().map(|m| m.seq) else { return Ok(None) };
    let file_link = |a: &pigeon_protocol::Attachment| meta.relay_origin.as_deref().map(|origin| crate::files::signed_link(config, origin, &meta.id, &a.id));
    let words = match to {
        Role::Merchant => notice::merchant(&notice::MerchantNotice {
            site_name: &site.name,
            conversation: &meta.id,
            messages: &pending,
            context: context.as_ref(),
            shopper_email: meta.contact_email.as_deref(),
            origins: &origins,
            file_link: &file_link,
        }),
        Role::Shopper => {
            let expires = (js_sys::Date::now() / 1000.0) as u64 + config.resume_valid.as_secs();
            let token = mail::sign::resume_token(&config.secret, &meta.id, expires);
            let url = notice::resume_url(context.as_ref().map(|c| c.page.url.as_str()), &origins, &token);
            notice::shopper(&notice::ShopperNotice {
                site_name: &site.name,
                conversation: &meta.id,
                replies: &pending,
                resume_url: url.as_deref(),
                file_link: &file_link,
            })
        }
    };
    let thread = state.thread();
    let message_id = config.message_id(&meta.id, &format!("{}{}", to.letter(), state.sent + 1));
    let email = Email {
        from: config.sender(&site.name),
        to: recipient,
        reply_to: Some(config.reply_to(&site.name, &meta.id, to)),
        subject: words.subject,
        message_id,
        in_reply_to: thread.last().cloned(),
        references: thread,
        date: String::from(js_sys::Date::new_0().to_utc_string()),
        text: words.text,
        html: words.html,
    };
    Ok(Some((email, covered)))
}
