//! The page the closing email's rating links open (`/rate/<signed token>?s=<1-5>`): the
//! choice made already, the effort question and a comment, then one "Send" (`POST` to the same
//! address). A `GET` never records anything, so mail scanners that follow links cannot rate.
//! The token is checked as signed and unexpired; the conversation's object takes the answer
//! once. The page has no script; its own headers keep it from being framed or leaking the
//! token in a Referer.

use pigeon_protocol::{RatingInput, rating};
use worker::{Env, Method, Request, Response};

use crate::conversation::op::{self, Caller, Op};
use crate::mail::notice::RATING_CHOICES;
use crate::mail::writer::escape;
use crate::mail::{MailConfig, sign};
use crate::{Error, sites};

const EFFORT_CHOICES: [&str; 5] = ["1 – very easy", "2 – easy", "3 – neither", "4 – hard", "5 – very hard"];

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1e23}\
main{max-width:34rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px}\
fieldset{border:0;padding:0;margin:0 0 1.25rem}legend,label.comment{font-weight:600;margin-bottom:.5rem;display:block}\
label.choice{display:block;padding:.4rem .6rem;margin:.25rem 0;border:1px solid #c9ced6;border-radius:8px}\
textarea{width:100%;box-sizing:border-box;font:inherit;min-height:5rem}\
button{font:inherit;font-weight:600;padding:.6rem 1.4rem;border:0;border-radius:8px;background:#1f5fd6;color:#fff}\
.error{color:#a3151b;font-weight:600}\
@media (prefers-color-scheme:dark){body{background:#111418;color:#e8eaed}main{background:#1b1f24}label.choice{border-color:#4a515b}\
textarea{background:#111418;color:#e8eaed}button{background:#8ab4f8;color:#0b1a33}.error{color:#ff8a8f}}";

/// A whole page around `body`.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

fn choices(name: &str, labels: &[&str; 5], chosen: Option<u8>) -> String {
    labels
        .iter()
        .zip(1u8..)
        .map(|(label, n)| {
            let checked = if chosen == Some(n) { " checked" } else { "" };
            format!("<label class=\"choice\"><input type=\"radio\" name=\"{name}\" value=\"{n}\"{checked}> {}</label>", escape(label))
        })
        .collect()
}

/// What the form shows chosen and typed: the email link's choice, or what a refused send had.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filled {
    pub satisfaction: Option<u8>,
    pub effort: Option<u8>,
    pub comment: String,
}

/// The form, filled, and after a refused send, why.
pub fn form(site_name: &str, filled: &Filled, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    page(
        &format!("How did we do? — {site_name}"),
        &format!(
            "<h1>How did we do?</h1><p>{} closed your conversation.</p>{error}<form method=\"post\">\
             <fieldset><legend>How happy are you with the help you got?</legend>{}</fieldset>\
             <fieldset><legend>How easy was it to get help? (optional)</legend>{}</fieldset>\
             <label class=\"comment\" for=\"c\">Anything to add? (optional)</label><textarea id=\"c\" name=\"c\" maxlength=\"1000\">{}</textarea>\
             <p><button type=\"submit\">Send</button></p></form>",
            escape(site_name),
            choices("s", &RATING_CHOICES, filled.satisfaction),
            choices("e", &EFFORT_CHOICES, filled.effort),
            escape(&filled.comment),
        ),
    )
}

/// A page that only says something.
pub fn said(title: &str, text: &str) -> String {
    page(title, &format!("<h1>{}</h1><p>{}</p>", escape(title), escape(text)))
}

/// What the form sent: `s` (required), `e` and `c` (optional); `None` for a score that is not
/// a number. No choice reads as 0, which the rules refuse with their sentence. Line breaks
/// come as CRLF from browsers, whose `maxlength` counts them as one character: so do we.
pub fn read_form(fields: &[(String, String)]) -> Option<RatingInput> {
    let get = |k: &str| fields.iter().find(|(name, _)| name == k).map(|(_, v)| v.trim());
    let satisfaction = get("s").map_or(Some(0), |s| s.parse().ok())?;
    let effort = match get("e") {
        None | Some("") => None,
        Some(e) => Some(e.parse().ok()?),
    };
    Some(RatingInput { satisfaction, effort, comment: get("c").map(|c| c.replace("\r\n", "\n")) })
}

fn html(status: u16, body: String) -> Response {
    let resp = Response::from_html(body).map(|r| r.with_status(status)).unwrap_or_else(|_| Response::error("internal", 500).expect("a plain response"));
    let headers = resp.headers();
    for (k, v) in [
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    ] {
        let _ = headers.set(k, v);
    }
    resp
}

fn gone() -> Response {
    html(404, said("This conversation is gone", "It was deleted, so it can no longer be rated."))
}

/// `GET` and `POST /rate/<token>`.
pub async fn answer(mut req: Request, env: &Env) -> Response {
    let path = req.path();
    let token = path.trim_start_matches("/rate/");
    let Some(config) = MailConfig::from_env(env) else {
        return html(404, said("This link does not work", "Ratings by email are not set up on this relay."));
    };
    let now = (js_sys::Date::now() / 1000.0) as u64;
    let (conversation, ask) = match sign::check_rating_token(&config.secret, token, now) {
        Ok(found) => found,
        Err(sign::Refused::Expired) => {
            return html(410, said("This link has expired", &format!("Rating links work for {} days after the conversation was closed.", super::LINK_DAYS)));
        }
        Err(sign::Refused::Forged) => return html(404, said("This link does not work", "It may have been cut short: open it from the email again.")),
    };
    let site = match sites::site_of_conversation(env, &conversation).await {
        Ok(Some(id)) => sites::load(env, &id).await.ok().flatten(),
        _ => None,
    };
    let Some(site) = site else { return gone() };
    if req.method() != Method::Post {
        let chosen = req.url().ok().and_then(|u| u.query_pairs().find(|(k, _)| k == "s").and_then(|(_, v)| v.parse().ok())).filter(|n| (1..=5).contains(n));
        return html(200, form(&site.name, &Filled { satisfaction: chosen, ..Filled::default() }, None));
    }
    // A form body is a query string without its `?`.
    let fields: Vec<(String, String)> = match req.bytes().await {
        Ok(bytes) if bytes.len() <= 16 * 1024 => worker::Url::parse(&format!("http://form/?{}", String::from_utf8_lossy(&bytes)))
            .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
            .unwrap_or_default(),
        _ => vec![],
    };
    let sent = read_form(&fields);
    let filled = sent.as_ref().map_or_else(Filled::default, |r| Filled {
        satisfaction: Some(r.satisfaction).filter(|n| (1..=5).contains(n)),
        effort: r.effort.filter(|n| (1..=5).contains(n)),
        comment: r.comment.clone().unwrap_or_default(),
    });
    let checked = sent.ok_or_else(|| "Choose one answer from 1 to 5.".to_owned()).and_then(|r| rating::rating(&r).map_err(|e| e.message));
    let input = match checked {
        Ok(input) => input,
        Err(why) => return html(422, form(&site.name, &filled, Some(&why))),
    };
    match op::send(env, &conversation, Caller::Worker, Op::Rate { input, ask: Some(ask) }).await.map_err(Error::from) {
        Ok(_) => html(200, said("Thank you!", &format!("Your answer reached {}.", site.name))),
        Err(Error::AlreadyRated) => html(409, said("You answered already", "Each closed conversation is rated once. Thank you!")),
        Err(Error::RatingNotAsked) => html(409, said("This rating is no longer asked", "The conversation was closed again since; the newer email asks again.")),
        Err(Error::NotFound) => gone(),
        Err(e) => {
            worker::console_error!("rating by email: {e}");
            html(500, form(&site.name, &filled, Some("Something went wrong on our side; please send again.")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_keeps_the_emails_choice_and_escapes_the_shop() {
        let page = form("<Bob's & Co>", &Filled { satisfaction: Some(4), ..Filled::default() }, Some("Choose <one>"));
        assert!(!page.contains("<Bob"), "{page}");
        assert!(page.contains("&lt;Bob"));
        assert!(page.contains("name=\"s\" value=\"4\" checked"));
        assert_eq!(page.matches(" checked").count(), 1, "only the email's choice");
        assert!(page.contains("Choose &lt;one&gt;"));
        assert!(!page.contains("<script"));
        // A refused send keeps what was chosen and typed, escaped.
        let again = form("Shop", &Filled { satisfaction: Some(2), effort: Some(5), comment: "</textarea><b>x".into() }, Some("Too long"));
        assert!(again.contains("name=\"s\" value=\"2\" checked") && again.contains("name=\"e\" value=\"5\" checked"));
        assert!(again.contains("&lt;/textarea&gt;&lt;b&gt;x</textarea>"), "{again}");
    }

    #[test]
    fn the_forms_fields_are_read_and_bad_ones_refused_by_the_rules() {
        let f = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>();
        assert_eq!(read_form(&f(&[("s", "4"), ("e", "2"), ("c", " Fast ")])), Some(RatingInput { satisfaction: 4, effort: Some(2), comment: Some("Fast".into()) }));
        assert_eq!(read_form(&f(&[("s", "5"), ("e", ""), ("c", "")])).map(|r| r.effort), Some(None));
        assert_eq!(read_form(&f(&[("s", "5"), ("c", "a\r\nb")])).and_then(|r| r.comment), Some("a\nb".into()));
        assert_eq!(read_form(&f(&[("s", "five")])), None);
        let none = read_form(&f(&[("c", "hi")])).unwrap();
        assert!(rating::rating(&none).is_err());
    }
}
