//! The relay's one error type, mapped to an HTTP status and the JSON error body in one place.

use pigeon_protocol::{ErrorBody, validate::Invalid};
use worker::Response;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not valid JSON for this route. Not retryable as is.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// Only `application/json` is accepted. Not retryable as is.
    #[error("unsupported content type")]
    UnsupportedMediaType,
    /// Over 16 KiB. Not retryable as is.
    #[error("request body too large")]
    TooLarge,
    /// Valid JSON, refused content (empty message, bad client_id ...). Not retryable as is.
    #[error("invalid input: {}", .0.code)]
    Invalid(Invalid),
    /// No such thing, or no right to see it: deliberately indistinguishable.
    #[error("not found")]
    NotFound,
    /// Agent routes without a valid agent key.
    #[error("unauthorized")]
    Unauthorized,
    /// Inbox routes without a live session.
    #[error("signed out")]
    SignedOut,
    /// Only a site's owners may do this (manage the team).
    #[error("owner only")]
    OwnerOnly,
    /// The change would leave a site without an owner.
    #[error("last owner")]
    LastOwner,
    /// Inviting someone who is a teammate already.
    #[error("already a teammate")]
    AlreadyTeammate,
    /// Another of the site's saved replies has this shortcut.
    #[error("shortcut taken")]
    ShortcutTaken,
    /// No saved reply with this id on this site.
    #[error("no such saved reply")]
    NoSuchSavedReply,
    /// A sign-in link that is not one of ours, used already or expired.
    #[error("sign-in link invalid")]
    SignInLinkInvalid,
    /// The page's origin is not among the site's allowed origins.
    #[error("origin not allowed")]
    OriginNotAllowed,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The client_id was already used with a different body. Not retryable.
    #[error("client_id conflict")]
    ClientIdConflict,
    /// A resume link past its expiry. Not retryable.
    #[error("resume link expired")]
    ResumeExpired,
    /// The site has no identity secret: signed identity is off.
    #[error("identity off")]
    IdentityOff,
    /// The customer's signature is not their id's under the site's identity secret.
    #[error("identity not verified")]
    IdentityNotVerified,
    /// A close asked for a rating on a site that never asks.
    #[error("ratings off")]
    RatingsOff,
    /// No rating is asked for the conversation (never closed asking, or never this one).
    #[error("rating not asked")]
    RatingNotAsked,
    /// This close's rating was given already.
    #[error("already rated")]
    AlreadyRated,
    /// A file over 10 MiB, or an image over 100 megapixels. Not retryable as is.
    #[error("file too large")]
    FileTooLarge,
    /// A file that is not a JPEG, PNG, GIF, WebP or PDF by its bytes. Not retryable as is.
    #[error("unsupported file type")]
    UnsupportedFileType,
    /// A file link from an email that is expired or forged.
    #[error("file link invalid")]
    LinkInvalid,
    /// Slow down; retryable after the given seconds.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u32 },
    /// Anything else. Retryable; the cause is logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<worker::Error> for Error {
    fn from(e: worker::Error) -> Self {
        Error::Internal(e.to_string())
    }
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        Error::Invalid(e)
    }
}

impl Error {
    pub fn status(&self) -> u16 {
        match self {
            Error::MalformedJson(_) => 400,
            Error::Unauthorized | Error::SignedOut | Error::SignInLinkInvalid => 401,
            Error::OriginNotAllowed | Error::OwnerOnly | Error::IdentityNotVerified | Error::LinkInvalid => 403,
            Error::NotFound | Error::NoSuchSavedReply => 404,
            Error::MethodNotAllowed => 405,
            Error::ClientIdConflict | Error::LastOwner | Error::AlreadyTeammate | Error::ShortcutTaken | Error::IdentityOff
            | Error::RatingsOff | Error::RatingNotAsked | Error::AlreadyRated => 409,
            Error::ResumeExpired => 410,
            Error::TooLarge | Error::FileTooLarge => 413,
            Error::UnsupportedMediaType | Error::UnsupportedFileType => 415,
            Error::Invalid(_) => 422,
            Error::RateLimited { .. } => 429,
            Error::Internal(_) => 500,
        }
    }

    /// The body a client sees: a stable code and a sentence for a human, never internals.
    pub fn body(&self) -> ErrorBody {
        match self {
            Error::MalformedJson(_) => ErrorBody::new("malformed_json", "The request body is not valid JSON for this endpoint."),
            Error::UnsupportedMediaType => ErrorBody::new("unsupported_media_type", "Send the body as application/json."),
            Error::TooLarge => ErrorBody::new("payload_too_large", "The request body is larger than 16 KiB."),
            Error::Invalid(i) => ErrorBody::new(i.code, i.message.clone()),
            Error::NotFound => ErrorBody::new("not_found", "No such conversation, or the token does not open it."),
            Error::Unauthorized => ErrorBody::new("unauthorized", "A valid agent key or personal API token is required."),
            Error::SignedOut => ErrorBody::new("signed_out", "Sign in to the inbox."),
            Error::OwnerOnly => ErrorBody::new("owner_only", "Only the site's owners can do this."),
            Error::LastOwner => ErrorBody::new("last_owner", "A site needs an owner: make someone else an owner first."),
            Error::AlreadyTeammate => ErrorBody::new("already_teammate", "This address is a teammate already."),
            Error::ShortcutTaken => ErrorBody::new("shortcut_taken", "Another saved reply has this shortcut."),
            Error::NoSuchSavedReply => ErrorBody::new("not_found", "No such saved reply (deleted meanwhile?)."),
            Error::SignInLinkInvalid => ErrorBody::new(
                "link_invalid",
                "This sign-in link does not work any more: each link works once, for 15 minutes. Ask for a new one.",
            ),
            Error::FileTooLarge => ErrorBody::new(
                "file_too_large",
                "The file is larger than 10 MB (or an image larger than 100 megapixels): nothing was stored. Send a smaller one.",
            ),
            Error::UnsupportedFileType => ErrorBody::new(
                "unsupported_file_type",
                "Only photos (JPEG, PNG, GIF, WebP) and PDF documents can be sent; this file is none of these by its content: nothing was stored.",
            ),
            Error::LinkInvalid => ErrorBody::new(
                "link_invalid",
                "This link to a file has expired or is not valid. Open the conversation to see the file.",
            ),
            Error::OriginNotAllowed => ErrorBody::new("origin_not_allowed", "This page's origin may not use this site."),
            Error::MethodNotAllowed => ErrorBody::new("method_not_allowed", "This method is not supported here."),
            Error::ClientIdConflict => ErrorBody::new("client_id_conflict", "This client_id was already used for a different message."),
            Error::ResumeExpired => ErrorBody::new(
                "resume_expired",
                "This link has expired. Reply to the email instead, or start a new conversation.",
            ),
            Error::IdentityOff => ErrorBody::new(
                "identity_off",
                "This site does not check signed identities: an owner turns them on in the inbox (Settings, Signed identity).",
            ),
            Error::IdentityNotVerified => ErrorBody::new(
                "identity_not_verified",
                "The customer's signature is not the HMAC-SHA256 of their id under this site's identity secret; nothing was attached to them.",
            ),
            Error::RatingsOff => ErrorBody::new(
                "ratings_off",
                "This site does not ask for ratings: an owner turns them on in the inbox (Settings, Ratings).",
            ),
            Error::RatingNotAsked => ErrorBody::new("rating_not_asked", "No rating is asked for this conversation."),
            Error::AlreadyRated => ErrorBody::new("already_rated", "This conversation was rated already: a rating is given once per close."),
            Error::RateLimited { .. } => ErrorBody::new("rate_limited", "Too many requests; retry later."),
            Error::Internal(_) => ErrorBody::new("internal", "Something went wrong on our side; please retry."),
        }
    }

    pub fn into_response(self) -> Response {
        if let Error::Internal(cause) = &self {
            // The cause can name internals; it goes to the log only. It never holds message
            // bodies, tokens or addresses because none are formatted into errors.
            worker::console_error!("internal error: {cause}");
        }
        let status = self.status();
        let mut resp = match Response::from_json(&self.body()) {
            Ok(r) => r.with_status(status),
            Err(_) => Response::empty().expect("empty response").with_status(status),
        };
        if let Error::RateLimited { retry_after_secs } = self {
            let _ = resp.headers_mut().set("retry-after", &retry_after_secs.to_string());
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_causes_never_reach_the_body() {
        let e = Error::Internal("D1_ERROR: no such table: secret_stuff".into());
        assert_eq!(e.status(), 500);
        let body = e.body();
        assert!(!body.error.message.contains("secret_stuff"));
        assert_eq!(body.error.code, "internal");
    }

    /// Every error code the relay or the protocol's validation can send (HTTP bodies and
    /// socket error frames), found in the sources, is listed in `API.md`.
    #[test]
    fn every_error_code_is_documented() {
        fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sources(&root.join("src"), &mut files);
        sources(&root.join("../protocol/src"), &mut files);
        let api = std::fs::read_to_string(root.join("API.md")).unwrap();
        let mut codes = std::collections::BTreeSet::new();
        for text in &files {
            for marker in ["Invalid::new(", "ErrorBody::new(", "code: ", "refuse("] {
                for (at, _) in text.match_indices(marker) {
                    let mut rest = text[at + marker.len()..].trim_start();
                    // A socket refusal names its close code first, then the error code.
                    if marker == "refuse(" {
                        let line = rest.split('\n').next().unwrap_or_default();
                        let Some(quote) = line.find('"') else { continue };
                        rest = &rest[quote..];
                    }
                    let Some(rest) = rest.strip_prefix('"') else { continue };
                    let code: String = rest.chars().take_while(|c| *c != '"').collect();
                    if !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                        codes.insert(code);
                    }
                }
            }
        }
        assert!(codes.len() >= 20, "the scan found the codes: {codes:?}");
        let missing: Vec<_> = codes.iter().filter(|c| !api.contains(&format!("`{c}`"))).collect();
        assert!(missing.is_empty(), "codes the relay sends but API.md does not list: {missing:?}");
    }

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(Error::MalformedJson("x".into()).status(), 400);
        assert_eq!(Error::UnsupportedMediaType.status(), 415);
        assert_eq!(Error::TooLarge.status(), 413);
        assert_eq!(Error::ClientIdConflict.status(), 409);
        assert_eq!(Error::RateLimited { retry_after_secs: 1 }.status(), 429);
    }
}
