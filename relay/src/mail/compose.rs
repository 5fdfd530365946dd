//! Outgoing mail as RFC 5322 / MIME text. Nothing a shopper or merchant typed reaches a header
//! raw: names and subjects become RFC 2047 encoded words (base64), addresses and message ids
//! must pass strict checks, bodies are base64 parts. So no input can end a header line, add a
//! header or a MIME part.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// `Name <address>`; the name is free text, the address is checked when composed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    pub fn new(name: impl Into<String>, address: impl Into<String>) -> Self {
        Self { name: Some(name.into()), address: address.into() }
    }

    pub fn bare(address: impl Into<String>) -> Self {
        Self { name: None, address: address.into() }
    }
}

/// One email with a plain-text and an HTML alternative.
#[derive(Debug, Clone)]
pub struct Email {
    pub from: Mailbox,
    pub to: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub subject: String,
    /// Without angle brackets, e.g. `pigeon.<id>.m3@mail.example`.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// Oldest first.
    pub references: Vec<String>,
    /// RFC 5322 date, e.g. `Sat, 21 Nov 2026 10:00:00 GMT`.
    pub date: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("not a deliverable address: {0:?}")]
    Address(String),
    #[error("not a message id: {0:?}")]
    MessageId(String),
    #[error("not a date: {0:?}")]
    Date(String),
}

/// An ASCII `local@domain` with nothing that could end or extend a header.
pub fn address_ok(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else { return false };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
    let domain_ok = !domain.is_empty()
        && domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    local_ok && domain_ok
}

/// `left@right` of visible ASCII without brackets, quotes or spaces.
pub fn message_id_ok(id: &str) -> bool {
    id.len() <= 250
        && id.split_once('@').is_some_and(|(l, r)| !l.is_empty() && !r.is_empty())
        && id.bytes().all(|b| b.is_ascii_graphic() && !b"<>()[]\\\",;:".contains(&b))
        && id.matches('@').count() == 1
}

/// Free text for a header: kept as is when it is plain printable ASCII that cannot be
/// mistaken for syntax, otherwise encoded words; control characters (CR, LF, tabs, C1,
/// line and paragraph separators) never survive either way.
fn encode_text(s: &str, allow_plain: impl Fn(u8) -> bool) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() || c == '\u{2028}' || c == '\u{2029}' { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    let plain = clean.len() <= 60 && clean.bytes().all(&allow_plain) && !clean.contains("=?");
    if plain {
        return clean.to_owned();
    }
    // At most 39 bytes of UTF-8 per word (52 base64 characters, 64 with the wrapper), split
    // only between characters; words are folded onto continuation lines.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in clean.chars() {
        if chunk.len() + c.len_utf8() > 39 {
            words.push(format!("=?UTF-8?B?{}?=", B64.encode(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || words.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", B64.encode(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

fn phrase(name: &str) -> String {
    // A display name may be plain only if it is letters, digits and spaces.
    encode_text(name, |b| b.is_ascii_alphanumeric() || b == b' ')
}

fn subject(s: &str) -> String {
    encode_text(s, |b| b.is_ascii_alphanumeric() || b" .,!?'#-:/()&".contains(&b))
}

fn mailbox(m: &Mailbox) -> Result<String, ComposeError> {
    if !address_ok(&m.address) {
        return Err(ComposeError::Address(m.address.clone()));
    }
    Ok(match m.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => format!("{} <{}>", phrase(name), m.address),
        None => m.address.clone(),
    })
}

fn msg_id(id: &str) -> Result<String, ComposeError> {
    if message_id_ok(id) { Ok(format!("<{id}>")) } else { Err(ComposeError::MessageId(id.to_owned())) }
}

/// Base64 in lines of 76, CRLF-terminated.
fn base64_lines(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n").replace('\n', "\r\n");
    let encoded = B64.encode(normalized.as_bytes());
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for line in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push_str("\r\n");
    }
    out
}

/// The whole message, CRLF line endings.
pub fn to_mime(email: &Email) -> Result<String, ComposeError> {
    let date_ok = !email.date.is_empty() && email.date.bytes().all(|b| b.is_ascii_alphanumeric() || b" ,:+-".contains(&b));
    if !date_ok {
        return Err(ComposeError::Date(email.date.clone()));
    }
    let mut headers = vec![
        format!("From: {}", mailbox(&email.from)?),
        format!("To: {}", mailbox(&email.to)?),
    ];
    if let Some(reply_to) = &email.reply_to {
        headers.push(format!("Reply-To: {}", mailbox(reply_to)?));
    }
    headers.push(format!("Subject: {}", subject(&email.subject)));
    headers.push(format!("Date: {}", email.date));
    headers.push(format!("Message-ID: {}", msg_id(&email.message_id)?));
    if let Some(parent) = &email.in_reply_to {
        headers.push(format!("In-Reply-To: {}", msg_id(parent)?));
    }
    if !email.references.is_empty() {
        let refs = email.references.iter().map(|r| msg_id(r)).collect::<Result<Vec<_>, _>>()?;
        headers.push(format!("References: {}", refs.join("\r\n ")));
    }
    // Tells mail servers and out-of-office responders this is automatic (RFC 3834).
    headers.push("Auto-Submitted: auto-generated".into());
    headers.push("MIME-Version: 1.0".into());
    // `=_` cannot occur in base64, so the boundary never collides with a body.
    let boundary = format!("=_pigeon_{}", hex::encode(&email.message_id.as_bytes()[..email.message_id.len().min(12)]));
    headers.push(format!("Content-Type: multipart/alternative; boundary=\"{boundary}\""));

    let mut out = headers.join("\r\n");
    out.push_str("\r\n\r\n");
    for (kind, body) in [("text/plain", &email.text), ("text/html", &email.html)] {
        out.push_str(&format!(
            "--{boundary}\r\nContent-Type: {kind}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
            base64_lines(body)
        ));
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn email(name: &str, subject: &str, body: &str) -> Email {
        Email {
            from: Mailbox::new(name, "notify@mail.pigeon.test"),
            to: Mailbox::bare("owner@shop.test"),
            reply_to: Some(Mailbox::new(name, "reply+abc.m123@mail.pigeon.test")),
            subject: subject.into(),
            message_id: "pigeon.abc.m1@mail.pigeon.test".into(),
            in_reply_to: Some("pigeon.abc.m0@mail.pigeon.test".into()),
            references: vec!["pigeon.abc.m0@mail.pigeon.test".into()],
            date: "Sat, 21 Nov 2026 10:00:00 GMT".into(),
            text: body.into(),
            html: format!("<p>{body}</p>"),
        }
    }

    /// The header block: everything before the first blank line.
    fn header_names(mime: &str) -> Vec<String> {
        let head = mime.split("\r\n\r\n").next().unwrap();
        head.split("\r\n").filter(|l| !l.starts_with(' ')).map(|l| l.split(':').next().unwrap().to_owned()).collect()
    }

    const EXPECTED: [&str; 12] = [
        "From", "To", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Auto-Submitted",
        "MIME-Version", "Content-Type", // and nothing else
        "",
    ];

    #[test]
    fn plain_values_stay_readable() {
        let mime = to_mime(&email("Pigeon Outfitters", "New message #a1b2c3", "Hello")).unwrap();
        assert!(mime.contains("From: Pigeon Outfitters <notify@mail.pigeon.test>\r\n"), "{mime}");
        assert!(mime.contains("Subject: New message #a1b2c3\r\n"));
        assert!(mime.contains("In-Reply-To: <pigeon.abc.m0@mail.pigeon.test>\r\n"));
        assert!(mime.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(mime.contains("Content-Type: text/html; charset=utf-8"));
        assert_eq!(header_names(&mime), EXPECTED[..11].to_vec());
    }

    #[test]
    fn hostile_names_and_subjects_are_encoded() {
        let name = "Eve\r\nBcc: victim@example.com";
        let mime = to_mime(&email(name, "Hi\r\nX-Injected: yes\n\nbody", "x")).unwrap();
        assert_eq!(header_names(&mime), EXPECTED[..11].to_vec(), "{mime}");
        assert!(!mime.contains("\r\nBcc:"), "{mime}");
        assert!(!mime.contains("\r\nX-Injected:"), "{mime}");
        let utf8 = to_mime(&email("Jörg \"the\" <boss>", "Grüße", "x")).unwrap();
        assert!(utf8.contains("=?UTF-8?B?"), "{utf8}");
        assert!(!utf8.contains("<boss>"));
    }

    #[test]
    fn bad_addresses_and_ids_are_refused() {
        let mut e = email("a", "b", "c");
        e.to = Mailbox::bare("owner@shop.test\r\nBcc: x@y.z");
        assert!(matches!(to_mime(&e), Err(ComposeError::Address(_))));
        e.to = Mailbox::bare("a@b.test, c@d.test");
        assert!(matches!(to_mime(&e), Err(ComposeError::Address(_))));
        e.to = Mailbox::bare("jörg@shop.test");
        assert!(matches!(to_mime(&e), Err(ComposeError::Address(_))));
        let mut e = email("a", "b", "c");
        e.in_reply_to = Some("x@y>\r\nBcc: a@b.c".into());
        assert!(matches!(to_mime(&e), Err(ComposeError::MessageId(_))));
    }

    #[test]
    fn bodies_are_base64_with_short_lines() {
        let body = "line one\n.\nFrom: not a header\r\n--=_pigeon_ no boundary\n".repeat(50);
        let mime = to_mime(&email("a", "b", &body)).unwrap();
        let body_part = mime.split_once("\r\n\r\n").unwrap().1;
        assert!(body_part.split("\r\n").all(|l| l.len() <= 78), "a body line is longer than 78");
        assert!(!mime.contains("From: not a header"));
        assert_eq!(mime.matches("--=_pigeon_").count(), 3, "two parts and the end, no forged boundary");
    }

    #[test]
    fn the_hostile_corpus_never_adds_a_header() {
        let corpus: Vec<String> = serde_json::from_str(include_str!("../../../tests/corpus/hostile.json")).unwrap();
        for s in &corpus {
            let mime = to_mime(&email(s, s, s)).unwrap();
            assert_eq!(header_names(&mime), EXPECTED[..11].to_vec(), "{s:?}");
            let (head, _) = mime.split_once("\r\n\r\n").unwrap();
            assert!(head.is_ascii(), "headers stay ASCII: {s:?}");
        }
    }

    proptest! {
        /// Whatever the name, subject and body, the header block has exactly our headers,
        /// every line is short, and there is no bare CR or LF.
        #[test]
        fn never_an_extra_header(name in "\\PC{0,120}|[\\r\\n:<>\"a-zA-Z ]{0,60}",
                                 subject_text in "(\\PC|\\r|\\n|\\t|\u{2028}){0,200}",
                                 body in "(\\PC|\\r|\\n){0,300}") {
            let mime = to_mime(&email(&name, &subject_text, &body)).unwrap();
            prop_assert_eq!(header_names(&mime), EXPECTED[..11].to_vec());
            // Header lines within the hard limit, body lines within the soft one.
            let (head, body) = mime.split_once("\r\n\r\n").unwrap();
            prop_assert!(head.split("\r\n").all(|l| l.len() <= 998));
            prop_assert!(body.split("\r\n").all(|l| l.len() <= 78));
            prop_assert!(!mime.replace("\r\n", "").contains('\n') && !mime.replace("\r\n", "").contains('\r'));
        }
    }
}
