//! Internal notes: written by a teammate in a conversation's thread, stored by its object
//! apart from the messages, seen live by the site's teammates only. `@Name` mentions email
//! that teammate.

use pigeon_protocol::{Note, Notes, PostAgentMessage, PostNote, TeammateInfo, validate};
use worker::{Request, Response};

use super::team;
use crate::conversation::op::{self, Op};
use crate::mail::{MailConfig, Mailbox, notice};
use crate::routes::{Asked, Ctx};
use crate::{Result, http, tokens};

/// `GET /v1/inbox/conversations/{id}/notes`: the internal notes, oldest first.
pub async fn list(cx: &Ctx, asked: Asked) -> Result<Response> {
    let notes = op::send(&cx.env, &asked.conversation, asked.caller, Op::Notes).await?.notes()?;
    http::json(200, &Notes { notes })
}

/// `POST /v1/inbox/conversations/{id}/notes` `{client_id, body}`: an internal note signed with
/// the teammate's name, stored once per `client_id` (`201`, then `200` with the stored note,
/// `409` for another body). Teammates it mentions get an email, once.
pub async fn add(mut req: Request, cx: &Ctx, asked: Asked) -> Result<Response> {
    let teammate = cx.teammate()?;
    let origin = req.url()?.origin().ascii_serialization();
    let input: PostNote = http::read_json(&mut req).await?;
    // A note follows a reply's rules for its client id and body.
    let msg = validate::agent_message(&PostAgentMessage { client_id: input.client_id, body: input.body, author_name: Some(teammate.name.clone()) })?;
    let note = Note {
        id: tokens::new_note_id()?,
        client_id: msg.client_id,
        author_email: teammate.email.clone(),
        author_name: teammate.name.clone(),
        body: msg.body,
        created_at: crate::conversation::now_iso(),
    };
    let (note, created) = op::send(&cx.env, &asked.conversation, asked.caller, Op::AddNote(note)).await?.note()?;
    if created {
        let team = team::list(&cx.env, &cx.site.id).await?.teammates;
        for mentioned in mentions(&note.body, &team).into_iter().filter(|t| t.email != note.author_email) {
            // The note is stored: a mail that fails is logged, not the note refused.
            if let Err(e) = tell(cx, mentioned, &note, &origin).await {
                worker::console_error!("mention mail: {e}");
            }
        }
    }
    http::json(if created { 201 } else { 200 }, &note)
}

/// The teammates `@mentioned` in `body`: `@` and a teammate's first name or whole name
/// without spaces, any case (`@sam`, `@OliviaMartin`). Each once, in the team's order.
pub fn mentions<'a>(body: &str, team: &'a [TeammateInfo]) -> Vec<&'a TeammateInfo> {
    let words: Vec<String> = body
        .split('@')
        .skip(1)
        .map(|rest| rest.chars().take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_').collect::<String>().to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    let handles = |t: &TeammateInfo| {
        let first = t.name.split_whitespace().next().unwrap_or_default().to_lowercase();
        let whole: String = t.name.split_whitespace().collect::<String>().to_lowercase();
        [first, whole]
    };
    team.iter().filter(|t| words.iter().any(|w| handles(t).contains(w))).collect()
}

async fn tell(cx: &Ctx, to: &TeammateInfo, note: &Note, origin: &str) -> Result<()> {
    let Some(config) = MailConfig::from_env(&cx.env) else { return Ok(()) };
    let words = notice::mention(&cx.site.name, &note.author_name, &note.body, &note.created_at, &format!("{origin}/inbox/"));
    crate::mail::send_notice(&cx.env, &config, Mailbox::new(&to.name, &to.email), words, &format!("mention.{}", note.id), "mention").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use pigeon_protocol::TeamRole;

    fn mate(name: &str, email: &str) -> TeammateInfo {
        TeammateInfo { email: email.into(), name: name.into(), role: TeamRole::Agent }
    }

    #[test]
    fn mentions_are_first_or_whole_names_any_case_each_once() {
        let team = [mate("Olivia Martin", "o@x.test"), mate("Sam", "s@x.test"), mate("Samantha", "sa@x.test")];
        let who = |body: &str| mentions(body, &team).iter().map(|t| t.email.as_str()).collect::<Vec<_>>();
        assert_eq!(who("@sam can you check? @SAM"), ["s@x.test"]);
        assert_eq!(who("ask @OliviaMartin, then @samantha."), ["o@x.test", "sa@x.test"]);
        assert_eq!(who("mail sam@x.test or @ nobody, @sa"), Vec::<&str>::new());
        assert_eq!(who("no mention"), Vec::<&str>::new());
    }
}
