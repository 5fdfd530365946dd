//! Ratings (issue 17), the Worker's side: whether a close asks for one (the site's setting),
//! the email asking the shopper, the shopper's answer with their token (the widget) or a
//! signed link ([`page`]), and whether one is asked.

pub mod page;

use pigeon_protocol::{Ratings, RatingInput, rating};
use worker::{Env, Request, Response};

use crate::conversation::op::{self, Op};
use crate::mail::{CloudflareEmail, Email, MailConfig, Mailbox, Mailer, notice, sign};
use crate::routes::{Asked, Ctx};
use crate::sites::Site;
use crate::{Error, Result, http};

/// How long the rating links work (the email's and the thread's).
pub const LINK_DAYS: u64 = 30;

/// The rating page's address for ask `ask` of `conversation` on this relay (`origin`): signed,
/// valid for [`LINK_DAYS`].
pub fn link(config: &MailConfig, origin: &str, conversation: &str, ask: i64) -> String {
    let expires = (js_sys::Date::now() / 1000.0) as u64 + LINK_DAYS * 86_400;
    format!("{origin}/rate/{}", sign::rating_token(&config.secret, conversation, ask, expires))
}

/// Emails the shopper the five rating links of ask `ask` (a close that asked). `relay` is this
/// relay's origin, where the links open. A failure is logged: the rating can still be given
/// in the widget or by the API.
pub async fn ask_by_email(env: &Env, site: &Site, conversation: &str, ask: i64, to: &str, relay: &str) {
    let Some(config) = MailConfig::from_env(env) else { return };
    let page = link(&config, relay, conversation, ask);
    let links: [String; 5] = std::array::from_fn(|i| format!("{page}?s={}", i + 1));
    let words = notice::rating(&site.name, &links, LINK_DAYS as u32);
    let mail = Email {
        from: config.sender(&site.name),
        to: Mailbox::bare(to),
        reply_to: Some(config.reply_to(&site.name, conversation, sign::Role::Shopper)),
        subject: words.subject,
        message_id: config.message_id(conversation, &format!("rating{ask}")),
        in_reply_to: None,
        references: vec![],
        date: String::from(js_sys::Date::new_0().to_utc_string()),
        text: words.text,
        html: words.html,
    };
    let sent = match CloudflareEmail::from_env(env) {
        Ok(mailer) => mailer.send(&mail).await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(()) => worker::console_log!("rating: asked by email in {conversation}"),
        Err(e) => worker::console_error!("rating: email not sent in {conversation}: {e}"),
    }
}

/// Whether a close asks for a rating: always with `on`, when asked with `ask`; asking on a
/// site with ratings `off` is refused.
pub fn asks(setting: Ratings, asked: bool) -> Result<bool> {
    match (setting, asked) {
        (Ratings::Off, true) => Err(Error::RatingsOff),
        (Ratings::Off, false) => Ok(false),
        (Ratings::On, _) => Ok(true),
        (Ratings::Ask, asked) => Ok(asked),
    }
}

/// `GET /v1/conversations/{id}/rating` (the shopper's token): `{asked, rated}`.
pub async fn state(cx: &Ctx, asked: Asked) -> Result<Response> {
    http::json(200, &op::send(&cx.env, &asked.conversation, asked.caller, Op::RatingState).await?.rating()?)
}

/// `POST /v1/conversations/{id}/rating` (the shopper's token): the answer to the close that
/// asked, once (`409 already_rated` after; `409 rating_not_asked` when none asked).
pub async fn rate(mut req: Request, cx: &Ctx, asked: Asked) -> Result<Response> {
    let input: RatingInput = http::read_json(&mut req).await?;
    let input = rating::rating(&input)?;
    op::send(&cx.env, &asked.conversation, asked.caller, Op::Rate { input, ask: None }).await?.done()?;
    http::no_content()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_decides_whether_a_close_asks() {
        assert!(matches!(asks(Ratings::Off, true), Err(Error::RatingsOff)));
        assert!(!asks(Ratings::Off, false).unwrap());
        assert!(asks(Ratings::On, false).unwrap() && asks(Ratings::On, true).unwrap());
        assert!(asks(Ratings::Ask, true).unwrap() && !asks(Ratings::Ask, false).unwrap());
    }
}
