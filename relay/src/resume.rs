//! `POST /v1/resume` `{resume_token}`: the link in the shopper's email opens the thread in any
//! browser. The token is signed and expires; each browser that uses it gets its own
//! conversation token, so the link can be opened on a phone and a laptop alike.

use pigeon_protocol::{CreatedConversation, Resume};
use worker::{Env, Request, Response};

use crate::conversation::op::{self, Caller, Op};
use crate::mail::{MailConfig, sign};
use crate::{Error, Result, http, sites, tokens};

/// The body names the conversation, so the origin check happens here, after reading it and
/// before anything is written.
pub async fn resume(mut req: Request, env: &Env, origin: Option<&str>) -> Result<Response> {
    let body: Resume = http::read_json(&mut req).await?;
    let conversation = sign::resume_conversation(&body.resume_token).ok_or(Error::NotFound)?.to_owned();
    let site = sites::site_of_conversation(env, &conversation).await?;
    // No such conversation: nothing to protect, and the page (on some site's origin, as the
    // preflight checked) learns only that the link does not work.
    let site = site.ok_or(Error::NotFound)?;
    if let Some(origin) = origin
        && !sites::origin_allowed(env, &site, origin).await?
    {
        return Err(Error::OriginNotAllowed);
    }
    let config = MailConfig::from_env(env).ok_or(Error::NotFound)?;
    let now = (js_sys::Date::now() / 1000.0) as u64;
    sign::check_resume_token(&config.secret, &body.resume_token, now).map_err(|refused| match refused {
        sign::Refused::Forged => Error::NotFound,
        sign::Refused::Expired => Error::ResumeExpired,
    })?;
    let token = tokens::new_token()?;
    let device = Op::AddDevice { token_hash: tokens::hash(&token) };
    let conversation = op::send(env, &conversation, Caller::Worker, device).await?.conversation()?;
    http::json(200, &CreatedConversation { conversation, token })
}
