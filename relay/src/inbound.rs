//! The Worker's `email` handler: replies to our notifications. The recipient address must be
//! a genuine reply address (signed per conversation and role), the sender the site's merchant
//! address or the shopper's contact address; the text without quoted history lands in the
//! thread and goes live to any open widget. Anything else is refused with a reason the
//! sender sees in the bounce.

use pigeon_protocol::validate;
use worker::{Env, ForwardableEmailMessage};

use crate::conversation::op::{self, Caller, EmailReply, NewMessage, Op, Refusal};
use crate::mail::inbound::{self, MAX_RAW_BYTES, Rejection};
use crate::mail::{MailConfig, sign};
use crate::sites;

pub async fn receive(message: ForwardableEmailMessage, env: Env) {
    match handle(&message, &env).await {
        Ok(seq) => worker::console_log!("inbound mail: stored as seq {seq}"),
        Err(Failure::Rejected(reason)) => {
            worker::console_log!("inbound mail rejected: {reason}");
            message.set_reject(&reason.to_string());
        }
        Err(Failure::Internal(e)) => {
            // The sender gets their text back in the bounce and can simply send it again.
            worker::console_error!("inbound mail failed: {e}");
            message.set_reject("A temporary problem kept your reply from the conversation. Please send it again.");
        }
    }
}

enum Failure {
    Rejected(Rejection),
    Internal(crate::Error),
}

impl From<Rejection> for Failure {
    fn from(r: Rejection) -> Self {
        Failure::Rejected(r)
    }
}

impl From<crate::Error> for Failure {
    fn from(e: crate::Error) -> Self {
        Failure::Internal(e)
    }
}

impl From<worker::Error> for Failure {
    fn from(e: worker::Error) -> Self {
        Failure::Internal(e.into())
    }
}

async fn handle(message: &ForwardableEmailMessage, env: &Env) -> Result<u64, Failure> {
    let config = MailConfig::from_env(env).ok_or(Rejection::NotConfigured)?;
    let (conversation, role) =
        sign::check_reply_address(&config.secret, &message.to(), &config.domain).map_err(|_| Rejection::UnknownAddress)?;
    if message.raw_size() > MAX_RAW_BYTES as f64 {
        return Err(Rejection::TooLarge.into());
    }
    let reply = inbound::parse(&message.raw_bytes().await?)?;
    let site_id = sites::site_of_conversation(env, &conversation).await?.ok_or(Rejection::GoneConversation)?;
    let site = sites::load(env, &site_id).await?.ok_or(Rejection::GoneConversation)?;
    let author_name = match role {
        sign::Role::Merchant => {
            // The header From is what DMARC (checked by Email Routing) aligns with: the
            // merchant address, or a teammate's (the assignee gets the notices), signed with
            // the teammate's name.
            let name = if reply.from.eq_ignore_ascii_case(site.merchant_email.trim()) {
                reply.name.clone().unwrap_or_else(|| site.name.clone())
            } else {
                crate::inbox::team::find(env, &site_id, &reply.from).await?.ok_or(Rejection::WrongSender)?.name
            };
            Some(name.chars().take(validate::MAX_AUTHOR_NAME_CHARS).collect())
        }
        sign::Role::Shopper => None,
    };
    // The files go to R2 first; those the stored message does not hold are removed again.
    let mut attachments = Vec::with_capacity(reply.files.len());
    for file in reply.files {
        attachments.push(crate::files::put(env, &conversation, file.name, file.kind, file.bytes).await?);
    }
    let message = NewMessage { client_id: reply.client_id, body: reply.body, author_name, context: None, quiet: false, claim: None, via: crate::conversation::op::Via::Email, attachments: attachments.clone() };
    let email = EmailReply { role, message, from: reply.from, message_id: reply.message_id };
    let (stored, refusal) = match op::send(env, &conversation, Caller::Worker, Op::EmailReply(email)).await {
        Ok(answer) => (answer.stored(), None),
        Err(refusal) => (Err(crate::Error::NotFound), Some(refusal)),
    };
    let stored = crate::files::kept(env, &conversation, &attachments, stored).await;
    match (stored, refusal) {
        (Ok((message, _)), _) => Ok(message.seq),
        (Err(_), Some(Refusal::NotFound)) => Err(Rejection::GoneConversation.into()),
        (Err(_), Some(Refusal::WrongSender)) => Err(Rejection::WrongSender.into()),
        (Err(_), Some(Refusal::RateLimited { .. })) => Err(Rejection::RateLimited.into()),
        (Err(_), Some(refusal)) => Err(crate::Error::from(refusal).into()),
        (Err(e), None) => Err(e.into()),
    }
}
