//! The push job: a shopper's messages nobody has seen `push_delay_seconds` (10) after they
//! came are pushed to the devices of the teammates who should hear (see `recipients`). What a
//! push covered is recorded, so the next push tells only of newer messages; a device the push
//! service says is gone (404, 410) is forgotten. A push is a nudge: one that fails is not
//! retried, the email follows if the message stays unseen.

use pigeon_protocol::{Message, PushPayload};
use worker::Env;

use super::jobs::Outcome;
use super::recipients;
use super::store::Store;
use crate::push::{self, PushConfig, Sent};
use crate::{Result, sites};

/// The `mail` table's row that records the last message pushed.
pub const PUSHED: &str = "push";
/// Longest message text in a push (lock screens show two lines).
const PREVIEW_CHARS: usize = 140;
/// A push older than this is not worth showing.
const TTL_SECONDS: u32 = 3600;

/// What the device shows. The text only when the teammate asked for it.
pub fn payload(site_name: &str, site: &str, conversation: &str, pending: &[Message], preview: bool) -> PushPayload {
    let count = pending.len() as u32;
    let body = match pending.last() {
        Some(last) if preview => {
            let line = last.preview();
            let text: String = line.chars().take(PREVIEW_CHARS).collect();
            let more = if line.chars().count() > PREVIEW_CHARS { "…" } else { "" };
            if count > 1 { format!("({count}) {text}{more}") } else { format!("{text}{more}") }
        }
        _ if count > 1 => format!("{count} new messages from a shopper"),
        _ => "New message from a shopper".to_owned(),
    };
    PushPayload {
        title: site_name.to_owned(),
        body,
        site: site.to_owned(),
        conversation: conversation.to_owned(),
        url: format!("/inbox/#conversation={conversation}"),
        count,
    }
}

/// Runs the push job once.
pub async fn run(env: &Env, config: &PushConfig, store: &Store) -> Result<Outcome> {
    let Some(meta) = store.meta()? else { return Ok(Outcome::Done) };
    let after = meta.agent_read_seq.max(store.notified(PUSHED)?);
    let pending = store.by_author_after(pigeon_protocol::Author::Shopper, after)?;
    let Some(covered) = pending.last().map(|m| m.seq) else { return Ok(Outcome::Done) };
    let Some(site) = sites::load(env, &meta.site).await? else { return Ok(Outcome::Done) };
    let (_, members) = recipients::unseen_by(env, &meta.site, &meta.id, meta.assignee.as_deref()).await?;
    let (mut delivered, mut gone) = (0, Vec::new());
    for member in members.iter().filter(|m| m.wants_push()) {
        let body = payload(&site.name, &site.id, &meta.id, &pending, member.profile.push_preview);
        let bytes = serde_json::to_vec(&body).map_err(|e| crate::Error::Internal(e.to_string()))?;
        for device in &member.devices {
            match push::send(config, device, &bytes, TTL_SECONDS).await {
                Sent::Delivered => delivered += 1,
                Sent::Gone => gone.push(device.endpoint.clone()),
                Sent::Failed(why) => worker::console_error!("push: not delivered: {why}"),
            }
        }
    }
    store.set_notified(PUSHED, covered)?;
    if !gone.is_empty() {
        push::forget_devices(env, &gone).await?;
    }
    worker::console_log!("push: {delivered} delivered covering seq {covered}, {} devices gone", gone.len());
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pigeon_protocol::Author;

    fn msg(seq: u64, body: &str) -> Message {
        Message { id: format!("m{seq}"), seq, client_id: format!("c{seq}"), author: Author::Shopper, author_name: None, body: body.into(), created_at: String::new(), context: None, attachments: vec![] }
    }

    #[test]
    fn no_text_unless_asked_for() {
        let one = [msg(1, "My parcel arrived broken")];
        let p = payload("Shop", "demo", "abc", &one, false);
        assert_eq!(p.body, "New message from a shopper");
        assert!(!serde_json::to_string(&p).unwrap().contains("parcel"));
        assert_eq!(p.url, "/inbox/#conversation=abc");
        assert_eq!(payload("Shop", "demo", "abc", &one, true).body, "My parcel arrived broken");
        let two = [msg(1, "Hi"), msg(2, &"x".repeat(200))];
        assert_eq!(payload("Shop", "demo", "abc", &two, false).body, "2 new messages from a shopper");
        let long = payload("Shop", "demo", "abc", &two, true).body;
        assert!(long.starts_with("(2) xxx") && long.ends_with('…') && long.chars().count() == 4 + 140 + 1);
    }
}
