//! Reading a reply that arrived by email: who sent it, which message it is (for exactly-once),
//! and what the person wrote. Pure, so the parser is tested and fuzzed on the host.

use mail_parser::{MessageParser, MimeHeaders};
use pigeon_protocol::validate::MAX_BODY_CHARS;
use pigeon_protocol::MAX_FILE_BYTES;
use sha2::{Digest, Sha256};

use super::quote;
use crate::files::sniff::{self, Sniffed};

/// Larger mails are refused before parsing: Email Routing's own limit (25 MiB), room for a
/// few photos in base64.
pub const MAX_RAW_BYTES: usize = 25 * 1024 * 1024;
/// Most files one reply carries into the chat.
pub const MAX_FILES: usize = 10;

/// A file attached to the reply, typed by its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFile {
    /// Cleaned ([`sniff::clean_name`]).
    pub name: String,
    pub kind: Sniffed,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The `From:` address, lowercased.
    pub from: String,
    /// The `From:` display name, if any.
    pub name: Option<String>,
    /// Derived from the Message-ID: the same mail delivered twice is stored once.
    pub client_id: String,
    pub message_id: Option<String>,
    /// Without quoted history and signature; empty when the reply is only files.
    pub body: String,
    pub files: Vec<InFile>,
}

/// Why a mail is not added to a conversation; the text goes back to the sender in the bounce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("This address does not accept mail: it is not a valid Pigeon reply address.")]
    UnknownAddress,
    #[error("This conversation no longer exists.")]
    GoneConversation,
    #[error("Your address may not reply to this conversation.")]
    WrongSender,
    #[error("Automatic replies are not added to the conversation.")]
    AutoReply,
    #[error("The message could not be read as an email.")]
    Unreadable,
    #[error("The reply is empty once the quoted text is removed. Write your answer above the quoted message.")]
    Empty,
    #[error("The reply is longer than {MAX_BODY_CHARS} characters. Please shorten it.")]
    TooLong,
    #[error("The message is larger than 25 MB. Send fewer or smaller files.")]
    TooLarge,
    #[error("Nothing from this email was added: \"{0}\" is {1}. Only photos (JPEG, PNG, GIF, WebP) and PDF documents up to 10 MB each can be sent; send your reply again without it.")]
    FileRefused(String, &'static str),
    #[error("Nothing from this email was added: it has more than {MAX_FILES} files. Send them in a few replies.")]
    TooManyFiles,
    #[error("Replies by email are not set up on this relay.")]
    NotConfigured,
    #[error("Too many messages; please try again in a minute.")]
    RateLimited,
}

/// Parses and checks one raw message.
pub fn parse(raw: &[u8]) -> Result<Reply, Rejection> {
    if raw.len() > MAX_RAW_BYTES {
        return Err(Rejection::TooLarge);
    }
    let message = MessageParser::default().parse(raw).ok_or(Rejection::Unreadable)?;
    if is_automatic(&message) {
        return Err(Rejection::AutoReply);
    }
    let from = message.from().and_then(|a| a.first()).ok_or(Rejection::Unreadable)?;
    let address = from.address().map(|a| a.trim().to_ascii_lowercase()).filter(|a| a.contains('@')).ok_or(Rejection::Unreadable)?;
    let name = from.name().map(|n| n.trim().chars().filter(|c| !c.is_control()).take(80).collect::<String>()).filter(|n| !n.is_empty());
    // Same Message-ID, same client_id; without one, the same bytes.
    let identity = match message.message_id() {
        Some(id) => Sha256::digest(id.trim().as_bytes()),
        None => Sha256::digest(raw),
    };
    let client_id = format!("email-{}", &hex::encode(identity)[..40]);
    // HTML-only mail: the quote is a container we can cut before turning it into text.
    let html_only = message.text_part(0).is_some_and(|p| p.is_text_html());
    let text = match html_only {
        true => message.body_html(0).map(|h| html_reply(&h)).unwrap_or_default(),
        false => message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
    };
    let files = files(&message)?;
    let body = quote::strip(&text);
    if body.is_empty() && files.is_empty() {
        return Err(Rejection::Empty);
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(Rejection::TooLong);
    }
    let message_id = message.message_id().map(|id| id.trim().to_owned());
    Ok(Reply { from: address, name, client_id, message_id, body, files })
}

/// Parts mail programs add that are not the sender's files: signatures (S/MIME, PGP),
/// Outlook's TNEF, calendar invitations, contact cards, forwarded mails.
const NOT_FILES: [&str; 9] = [
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
    "application/pgp-keys",
    "application/ms-tnef",
    "text/calendar",
    "text/vcard",
    "text/x-vcard",
    "text/directory",
];
/// Inline pictures smaller than this are taken for a signature's logo or icons, not sent.
const SMALL_INLINE: usize = 16 * 1024;

/// The mail's files: its attachments, and inline pictures (a screenshot pasted into the
/// reply), each checked like an upload. An attached file that cannot be stored refuses the
/// whole mail, named in the bounce, so nothing the sender meant to send is silently left
/// out; what mail programs add on their own (signatures, a logo, an invitation) is passed over.
fn files(message: &mail_parser::Message) -> Result<Vec<InFile>, Rejection> {
    let mut files = Vec::new();
    for part in message.attachments() {
        let kind = part.content_type().map(|t| format!("{}/{}", t.ctype(), t.subtype().unwrap_or_default()).to_ascii_lowercase()).unwrap_or_default();
        if part.is_message() || kind.starts_with("message/") || NOT_FILES.contains(&kind.as_str()) {
            continue;
        }
        let attached = part.content_disposition().is_some_and(|d| d.is_attachment());
        let given = part.attachment_name().unwrap_or_default();
        let bytes = part.contents();
        let sniffed = sniff::sniff(bytes);
        if !attached && (sniffed.is_err() || bytes.len() < SMALL_INLINE) {
            continue;
        }
        if files.len() == MAX_FILES {
            return Err(Rejection::TooManyFiles);
        }
        // The bounce is a line of SMTP: the name in plain ASCII.
        let shown: String = given.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(80).collect();
        let shown = if shown.trim().is_empty() { "an attachment".to_owned() } else { shown };
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(Rejection::FileRefused(shown, "larger than 10 MB"));
        }
        let kind = match sniffed {
            Ok(kind) => kind,
            Err(sniff::Refused::Empty) => return Err(Rejection::FileRefused(shown, "empty")),
            Err(sniff::Refused::Type) => return Err(Rejection::FileRefused(shown, "not a photo or a PDF")),
            Err(sniff::Refused::Pixels) => return Err(Rejection::FileRefused(shown, "an image over 100 megapixels")),
        };
        files.push(InFile { name: sniff::clean_name(given, kind.kind), kind, bytes: bytes.to_vec() });
    }
    Ok(files)
}

/// Where clients put the quoted message in HTML mail (lowercase).
const HTML_QUOTES: [&str; 7] = [
    "class=\"gmail_quote",
    "<blockquote",
    "id=\"divrplyfwdmsg\"",
    "id=\"appendonsend\"",
    "class=\"moz-cite-prefix\"",
    "id=\"mail-editor-reference-message-container\"",
    "class=\"yahoo_quoted\"",
];

/// The text of an HTML reply above its quoted part, with block elements on their own lines.
fn html_reply(html: &str) -> String {
    // ASCII lowercasing keeps byte offsets, so positions found in `lower` apply to `html`.
    let lower = html.to_ascii_lowercase();
    let cut = HTML_QUOTES
        .iter()
        .filter_map(|q| lower.find(q))
        .min()
        .map(|at| if lower.as_bytes()[at] == b'<' { at } else { lower[..at].rfind('<').unwrap_or(at) })
        .unwrap_or(html.len());
    let (html, lower) = (&html[..cut], &lower[..cut]);
    let mut spaced = String::with_capacity(html.len() + 64);
    let mut last = 0;
    for (at, _) in lower.match_indices("<div").chain(lower.match_indices("</div")).chain(lower.match_indices("<li")) {
        if at >= last {
            spaced.push_str(&html[last..at]);
            spaced.push_str("<br>");
            last = at;
        }
    }
    spaced.push_str(&html[last..]);
    mail_parser::decoders::html::html_to_text(&spaced)
}

/// Out-of-office and other machine replies (RFC 3834 and common practice).
fn is_automatic(message: &mail_parser::Message) -> bool {
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    header("Auto-Submitted").is_some_and(|v| v != "no")
        || header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
        || header("Precedence").is_some_and(|v| ["bulk", "junk", "list", "auto_reply"].contains(&v.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mail(headers: &str, body: &str) -> Vec<u8> {
        format!(
            "From: Jo Merchant <Owner@Shop.test>\r\nTo: reply+x@mail.pigeon.test\r\nSubject: Re: chat\r\n\
             Message-ID: <CAF1@mail.gmail.com>\r\n{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
        )
        .into_bytes()
    }

    #[test]
    fn reads_sender_body_and_identity() {
        let reply = parse(&mail("", "It ships today.\r\n\r\nOn Sat, Nov 21, 2026 at 10:02 Pigeon <n@m.test> wrote:\r\n> When?\r\n")).unwrap();
        assert_eq!(reply.from, "owner@shop.test");
        assert_eq!(reply.name.as_deref(), Some("Jo Merchant"));
        assert_eq!(reply.body, "It ships today.");
        assert!(reply.client_id.starts_with("email-") && reply.client_id.len() <= 64);
        // Delivered twice: same id.
        assert_eq!(parse(&mail("", "Other text")).unwrap().client_id, reply.client_id);
    }

    #[test]
    fn multipart_prefers_text_and_decodes_transfer_encodings() {
        let raw = "From: owner@shop.test\r\nMessage-ID: <a@b>\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\n\
            Content-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
            Gr=C3=BC=C3=9Fe, ist unterwegs.\r\n\r\nAm Sa., 21. Nov. 2026 um 10:02 schrieb Pigeon <n@m.test>:\r\n> Wo?\r\n\
            --b1\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n\r\n<div>ignored</div>\r\n--b1--\r\n";
        assert_eq!(parse(raw.as_bytes()).unwrap().body, "Grüße, ist unterwegs.");
    }

    #[test]
    fn html_only_mail_is_read_as_text() {
        let raw = "From: owner@shop.test\r\nMessage-ID: <h@b>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
            <div>Yes &amp; no<br>two lines</div><div class=\"gmail_quote\">On Sat, Nov 21, 2026 Pigeon &lt;n@m.test&gt; wrote:<blockquote>old</blockquote></div>";
        let body = parse(raw.as_bytes()).unwrap().body;
        assert!(body.starts_with("Yes & no"), "{body}");
        assert!(!body.contains("old"), "{body}");
    }

    #[test]
    fn refuses_what_is_not_a_reply() {
        assert_eq!(parse(&mail("Auto-Submitted: auto-replied\r\n", "I'm out of office")), Err(Rejection::AutoReply));
        assert_eq!(parse(&mail("Precedence: bulk\r\n", "newsletter")), Err(Rejection::AutoReply));
        assert_eq!(parse(&mail("", "\r\n> only a quote\r\n")), Err(Rejection::Empty));
        assert_eq!(parse(&mail("", &"a".repeat(MAX_BODY_CHARS + 1))), Err(Rejection::TooLong));
        assert_eq!(parse(&vec![b'a'; MAX_RAW_BYTES + 1]), Err(Rejection::TooLarge));
        assert_eq!(parse(b"no headers, no from"), Err(Rejection::Unreadable));
        assert!(parse(&mail("Auto-Submitted: no\r\n", "hi")).is_ok());
    }

    const PNG_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

    fn with_files(text: &str, files: &[(&str, &str, &str)]) -> Vec<u8> {
        let mut raw = "From: owner@shop.test\r\nMessage-ID: <f@b>\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n".to_owned();
        if !text.is_empty() {
            raw.push_str(&format!("--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"));
        }
        for (name, ctype, b64) in files {
            raw.push_str(&format!(
                "--m\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n"
            ));
        }
        raw.push_str("--m--\r\n");
        raw.into_bytes()
    }

    #[test]
    fn attachments_come_with_the_text_typed_by_their_bytes() {
        let reply = parse(&with_files("Here is the label.", &[("label.png", "image/png", PNG_B64), ("Rechnung.pdf", "application/pdf", "JVBERi0xLjQKJSVFT0YK")])).unwrap();
        assert_eq!(reply.body, "Here is the label.");
        let names: Vec<_> = reply.files.iter().map(|f| (f.name.as_str(), f.kind.kind)).collect();
        assert_eq!(names, [("label.png", pigeon_protocol::FileType::Png), ("Rechnung.pdf", pigeon_protocol::FileType::Pdf)]);
        assert_eq!(reply.files[0].kind.size, Some((1, 1)));
        // Only a photo, no words: still a reply.
        let only = parse(&with_files("", &[("IMG_1.png", "image/png", PNG_B64)])).unwrap();
        assert_eq!((only.body.as_str(), only.files.len()), ("", 1));
    }

    #[test]
    fn a_file_that_cannot_be_stored_bounces_the_mail_by_name() {
        // "MZ..." (a Windows program) sent as a picture.
        let exe = parse(&with_files("See attached", &[("photo.jpg", "image/jpeg", "TVqQAAMAAAAEAAAA//8AAA==")]));
        assert_eq!(exe, Err(Rejection::FileRefused("photo.jpg".into(), "not a photo or a PDF")));
        let said = exe.unwrap_err().to_string();
        assert!(said.contains("\"photo.jpg\" is not a photo or a PDF") && said.contains("Nothing from this email was added"), "{said}");
        assert!(said.is_ascii(), "{said}");
        let svg = parse(&with_files("x", &[("logo.svg", "image/svg+xml", "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+")]));
        assert!(matches!(svg, Err(Rejection::FileRefused(..))));
        // What mail programs add on their own is passed over: a PGP signature, a calendar
        // invitation, Outlook's winmail.dat.
        let signed = parse(&with_files("Signed reply", &[("signature.asc", "application/pgp-signature", "LS0tLS1CRUdJTiBQR1AgU0lHTkFUVVJFLS0tLS0="), ("invite.ics", "text/calendar", "QkVHSU46VkNBTEVOREFS"), ("winmail.dat", "application/ms-tnef", "eJ8+IgAA")])).unwrap();
        assert_eq!((signed.body.as_str(), signed.files.len()), ("Signed reply", 0));
        // A signature's logo, inline: passed over too.
        let logo = format!(
            "From: owner@shop.test\r\nMessage-ID: <i@b>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n\
             --r\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThanks!\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\n\
             Content-Disposition: inline; filename=\"image001.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{PNG_B64}\r\n--r--\r\n"
        );
        let logo = parse(logo.as_bytes()).unwrap();
        assert_eq!((logo.body.as_str(), logo.files.len()), ("Thanks!", 0));
        let eleven: Vec<_> = (0..11).map(|_| ("a.png", "image/png", PNG_B64)).collect();
        assert_eq!(parse(&with_files("x", &eleven)), Err(Rejection::TooManyFiles));
    }

    proptest! {
        /// Any bytes: a reply or a clean rejection, never a panic.
        #[test]
        fn never_panics_on_bytes(raw in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = parse(&raw);
        }

        /// Mail-shaped input with hostile headers and bodies: same.
        #[test]
        fn never_panics_on_mail_shapes(headers in "([A-Za-z-]{1,12}: [^\\r\\n]{0,40}\\r\\n){0,6}",
                                       body in "(\\PC|\\r\\n|>|=[0-9A-F]{2}){0,400}",
                                       ctype in "text/plain|text/html|multipart/mixed; boundary=x|message/rfc822") {
            let raw = format!("From: a@b.test\r\n{headers}Content-Type: {ctype}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{body}");
            if let Ok(reply) = parse(raw.as_bytes()) {
                prop_assert!(!reply.body.is_empty() || !reply.files.is_empty());
                prop_assert!(reply.body.chars().count() <= MAX_BODY_CHARS);
            }
        }
    }
}
