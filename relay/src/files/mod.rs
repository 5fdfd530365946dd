//! Photos and files in a conversation: uploaded as a message of their own, kept in R2 under
//! `{conversation}/{file id}` (the id is 128 random bits), served only to the conversation's
//! token holder, its teammates and signed, expiring email links, and erased with it.
//!
//! An upload is `POST .../conversations/{id}/files?client_id=…&name=…` with the file's bytes
//! as the body. The bytes decide the type ([`sniff`]); the caller is checked before the body
//! is read; a `client_id` already stored answers the stored message without storing the
//! bytes again, so a retried upload is stored once.

pub mod sniff;

use pigeon_protocol::{Attachment, MAX_FILE_BYTES, Message, StoredMessage, validate};
use worker::{Env, Headers, HttpMetadata, Request, Response, Url};


use crate::conversation::op::{self, Assignee, NewMessage, Op, Via};
use crate::mail::{MailConfig, sign};
use crate::routes::{Asked, Ctx};
use crate::{Error, Result, http, limits, tokens};

/// The R2 binding.
const BUCKET: &str = "FILES";
/// How long a file link in an email works.
pub const LINK_DAYS: u64 = 14;

/// Who uploads: the author of the message the file makes.
pub enum Uploader {
    Shopper,
    /// The agent API: a script, or a teammate's personal token.
    Agent,
    /// A teammate in the inbox.
    Inbox,
}

/// A new file's key in the bucket.
fn key(conversation: &str, file: &str) -> String {
    format!("{conversation}/{file}")
}

/// File ids are 32 lowercase hex digits; anything else names no file.
fn file_id_ok(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What the query says: `client_id` (required), `name`, and on agent routes `author_name`;
/// on inbox routes `notify_shopper=false` stores the reply without emailing the shopper.
struct Query {
    client_id: String,
    name: String,
    author_name: Option<String>,
    notify_shopper: bool,
}

fn query(url: &Url) -> Result<Query> {
    let mut q = Query { client_id: String::new(), name: String::new(), author_name: None, notify_shopper: true };
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "client_id" => q.client_id = v.into_owned(),
            "name" => q.name = v.into_owned(),
            "author_name" => q.author_name = Some(v.into_owned()),
            "notify_shopper" => q.notify_shopper = v != "false",
            _ => {}
        }
    }
    q.client_id = validate::client_id(&q.client_id)?;
    Ok(q)
}

/// The body's length as announced, refused at once when over the limit.
/// A body without a length (chunked) is refused too: it could be any size.
fn announced_length(req: &Request) -> Result<()> {
    match req.headers().get("content-length")?.and_then(|v| v.parse::<u64>().ok()) {
        Some(n) if n <= MAX_FILE_BYTES => Ok(()),
        Some(_) => Err(Error::FileTooLarge),
        None => Err(Error::Invalid(validate::Invalid::new("length_required", "Send the file with a Content-Length (at most 10 MiB): nothing was stored."))),
    }
}

/// `POST …/conversations/{id}/files`: stores the file and the message that carries it.
/// `201` with the stored message, `200` for a `client_id` stored before.
pub async fn upload(mut req: Request, cx: &Ctx, asked: Asked, who: Uploader) -> Result<Response> {
    let q = query(&req.url()?)?;
    announced_length(&req)?;
    // The caller first (a shopper's token is checked by the object): nothing is read or
    // stored for a caller who may not write here.
    let found = op::send(&cx.env, &asked.conversation, asked.caller.clone(), Op::Sent { client_id: q.client_id.clone() }).await?.sent()?;
    if let Some(message) = found {
        // A text message's client_id carries no file.
        if message.attachments.is_empty() {
            return Err(Error::ClientIdConflict);
        }
        return http::json(200, &StoredMessage { message });
    }
    if matches!(who, Uploader::Shopper) {
        limits::check(&req, &cx.env, &cx.site.id, limits::Kind::Message).await?;
    }
    let bytes = req.bytes().await?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::FileTooLarge);
    }
    let sniffed = sniff::sniff(&bytes).map_err(|refused| match refused {
        sniff::Refused::Empty => Error::Invalid(validate::Invalid::new("empty_file", "The file is empty (0 bytes): nothing was stored.")),
        sniff::Refused::Type => Error::UnsupportedFileType,
        sniff::Refused::Pixels => Error::FileTooLarge,
    })?;
    // Everything checked before the file is stored.
    let (author_name, claim, via, quiet) = match who {
        Uploader::Shopper => (None, None, Via::Api, false),
        Uploader::Agent => {
            let named = q.author_name.filter(|n| !n.trim().is_empty()).or_else(|| cx.teammate.as_ref().map(|t| t.name.clone()));
            let claim = cx.teammate.as_ref().map(|t| Assignee { email: t.email.clone(), name: t.name.clone() });
            (named.map(|n| validate::author_name(&n)).transpose()?, claim, Via::Api, false)
        }
        Uploader::Inbox => {
            let t = cx.teammate()?;
            (Some(t.name.clone()), Some(Assignee { email: t.email.clone(), name: t.name.clone() }), Via::Inbox, !q.notify_shopper)
        }
    };
    let attachment = put(&cx.env, &asked.conversation, sniff::clean_name(&q.name, sniffed.kind), sniffed, bytes).await?;
    let message = NewMessage { client_id: q.client_id, body: String::new(), author_name, context: None, quiet, claim, via, attachments: vec![attachment.clone()] };
    let stored = op::send(&cx.env, &asked.conversation, asked.caller, Op::Post(message)).await.map_err(Error::from).and_then(op::Answer::stored);
    let (message, created) = kept(&cx.env, &asked.conversation, &[attachment], stored).await?;
    http::json(if created { 201 } else { 200 }, &StoredMessage { message })
}

/// Stores a checked file under the conversation: its attachment, with a fresh id.
pub async fn put(env: &Env, conversation: &str, name: String, sniffed: sniff::Sniffed, bytes: Vec<u8>) -> Result<Attachment> {
    let attachment = Attachment {
        id: hex::encode(tokens::random_bytes::<16>()?),
        name,
        content_type: sniffed.kind.content_type().to_owned(),
        size: bytes.len() as u64,
        width: sniffed.size.map(|s| s.0),
        height: sniffed.size.map(|s| s.1),
    };
    env.bucket(BUCKET)?
        .put(key(conversation, &attachment.id), bytes)
        .http_metadata(HttpMetadata {
            content_type: Some(attachment.content_type.clone()),
            content_disposition: Some(disposition(&attachment.content_type, &attachment.name)),
            ..Default::default()
        })
        .execute()
        .await?;
    Ok(attachment)
}

/// After the message carrying `mine` was stored (or refused): the files it does not hold are
/// removed again (a definite refusal, or an earlier delivery of the same `client_id` won). An
/// internal failure keeps them: the message may have been stored before it (a retry then finds
/// it and its files); a file no message holds is erased with its conversation.
pub async fn kept(env: &Env, conversation: &str, mine: &[Attachment], stored: Result<(Message, bool)>) -> Result<(Message, bool)> {
    if matches!(stored, Err(Error::Internal(_))) {
        return stored;
    }
    let held = |a: &Attachment| stored.as_ref().is_ok_and(|(m, _)| m.attachments.iter().any(|b| b.id == a.id));
    let orphans: Vec<String> = mine.iter().filter(|a| !held(a)).map(|a| key(conversation, &a.id)).collect();
    if !orphans.is_empty() {
        if let Err(e) = env.bucket(BUCKET)?.delete_multiple(orphans).await {
            worker::console_error!("files: orphans not removed: {e}");
        }
    }
    stored
}

/// `GET …/conversations/{id}/files/{file}` for the token holder, an agent key or a teammate.
pub async fn download(cx: &Ctx, asked: Asked, file: &str) -> Result<Response> {
    if !file_id_ok(file) {
        return Err(Error::NotFound);
    }
    op::send(&cx.env, &asked.conversation, asked.caller, Op::Check).await?.done()?;
    serve(&cx.env, &asked.conversation, file).await
}

/// `GET /v1/files/{conversation}/{file}?expires=…&sig=…`: an email's link, no sign-in.
pub async fn signed(req: &Request, env: &Env, conversation: &str, file: &str) -> Result<Response> {
    let url = req.url()?;
    let (mut expires, mut sig) = (None, String::new());
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "expires" => expires = v.parse::<u64>().ok(),
            "sig" => sig = v.into_owned(),
            _ => {}
        }
    }
    let mail = MailConfig::from_env(env).ok_or(Error::NotFound)?;
    let expires = expires.ok_or(Error::LinkInvalid)?;
    if !validate::conversation_id(conversation) || !file_id_ok(file) {
        return Err(Error::NotFound);
    }
    let now = (js_sys::Date::now() / 1000.0) as u64;
    sign::check_file_signature(&mail.secret, conversation, file, expires, &sig, now).map_err(|_| Error::LinkInvalid)?;
    serve(env, conversation, file).await
}

/// A link to `file` that works without signing in for [`LINK_DAYS`].
pub fn signed_link(mail: &MailConfig, origin: &str, conversation: &str, file: &str) -> String {
    let expires = (js_sys::Date::now() / 1000.0) as u64 + LINK_DAYS * 86_400;
    let sig = sign::file_signature(&mail.secret, conversation, file, expires);
    format!("{origin}/v1/files/{conversation}/{file}?expires={expires}&sig={sig}")
}

/// The file's bytes with headers that keep it inert: its sniffed type (never sniffed again),
/// a sandbox with nothing allowed, and a download for anything that is not a picture.
async fn serve(env: &Env, conversation: &str, file: &str) -> Result<Response> {
    let object = env.bucket(BUCKET)?.get(key(conversation, file)).execute().await?.ok_or(Error::NotFound)?;
    let meta = object.http_metadata();
    let content_type = meta.content_type.unwrap_or_else(|| "application/octet-stream".into());
    let size = object.size();
    let body = object.body().ok_or(Error::NotFound)?.response_body()?;
    let headers = Headers::new();
    for (name, value) in file_headers(&content_type, size, meta.content_disposition.as_deref()) {
        headers.set(name, &value)?;
    }
    Ok(Response::from_body(body)?.with_headers(headers))
}

fn is_picture(content_type: &str) -> bool {
    matches!(content_type, "image/jpeg" | "image/png" | "image/gif" | "image/webp")
}

/// `inline` for a picture, `attachment` for anything else, with the file's name (RFC 6266,
/// the name percent-encoded as UTF-8 per RFC 8187).
fn disposition(content_type: &str, name: &str) -> String {
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{}; filename*=UTF-8''{encoded}", if is_picture(content_type) { "inline" } else { "attachment" })
}

/// The headers a stored file is served with (see [`serve`]). The stored disposition is used
/// only if it keeps a non-picture a download.
fn file_headers(content_type: &str, size: u64, stored: Option<&str>) -> Vec<(&'static str, String)> {
    let picture = is_picture(content_type);
    let disposition = match stored {
        Some(d) if picture || d.starts_with("attachment;") => d.to_owned(),
        _ => (if picture { "inline" } else { "attachment" }).into(),
    };
    vec![
        ("content-type", if picture || content_type == "application/pdf" { content_type.to_owned() } else { "application/octet-stream".into() }),
        ("content-length", size.to_string()),
        ("content-disposition", disposition),
        ("content-security-policy", "default-src 'none'; sandbox".into()),
        ("x-content-type-options", "nosniff".into()),
        ("cross-origin-resource-policy", "cross-origin".into()),
    ]
}

/// Removes every file of the conversation (before the conversation itself is erased).
pub async fn erase(env: &Env, conversation: &str) -> Result<()> {
    let bucket = env.bucket(BUCKET)?;
    loop {
        let listed = bucket.list().prefix(format!("{conversation}/")).limit(1000).execute().await?;
        let keys: Vec<String> = listed.objects().iter().map(|o| o.key()).collect();
        if keys.is_empty() {
            return Ok(());
        }
        bucket.delete_multiple(keys).await?;
        if !listed.truncated() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ids_are_exactly_ours() {
        assert!(file_id_ok("0123456789abcdef0123456789abcdef"));
        for bad in ["", "0123456789ABCDEF0123456789abcdef", "../../0123456789abcdef0123456789", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0"] {
            assert!(!file_id_ok(bad), "{bad}");
        }
    }

    #[test]
    fn only_pictures_show_inline_and_nothing_runs() {
        let h = |t: &str| file_headers(t, 9, None).into_iter().collect::<std::collections::HashMap<_, _>>();
        assert_eq!(h("image/png")["content-disposition"], "inline");
        assert_eq!(h("application/pdf")["content-disposition"], "attachment");
        assert_eq!(h("text/html")["content-type"], "application/octet-stream");
        assert_eq!(h("image/svg+xml")["content-disposition"], "attachment");
        for t in ["image/png", "application/pdf"] {
            assert_eq!(h(t)["x-content-type-options"], "nosniff");
            assert!(h(t)["content-security-policy"].contains("sandbox"));
        }
        let pdf = disposition("application/pdf", "Rechnung März \"1\".pdf");
        assert_eq!(pdf, "attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz%20%221%22.pdf");
        assert_eq!(file_headers("application/pdf", 9, Some("inline; x")).into_iter().find(|h| h.0 == "content-disposition").unwrap().1, "attachment");
        assert!(disposition("image/png", "a.png").starts_with("inline;"));
    }
}
