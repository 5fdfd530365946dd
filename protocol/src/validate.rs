//! Input rules shared by widget (to warn before sending) and relay (to refuse).

use crate::{Context, PostAgentMessage, PostMessage};

/// Longest message body, in Unicode scalar values.
pub const MAX_BODY_CHARS: usize = 4000;
/// Largest request body the relay reads.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;
pub const MAX_CLIENT_ID_LEN: usize = 64;
pub const MAX_AUTHOR_NAME_CHARS: usize = 80;
pub const MAX_CART_ITEMS: usize = 100;
pub const MAX_CONTEXT_TEXT_CHARS: usize = 2048;

/// Why an input was refused; `code` is the wire error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

pub type Checked<T> = Result<T, Invalid>;

/// The highest `seq` (and `after`) accepted: 2^53 - 1, the largest integer a JavaScript client
/// holds exactly. Larger numbers are refused, never wrapped or rounded.
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// A read position or `after` given by a client.
pub fn seq(n: u64) -> Checked<u64> {
    if n <= MAX_SEQ {
        Ok(n)
    } else {
        Err(Invalid::new("invalid_seq", format!("seq must be an integer from 0 to {MAX_SEQ}.")))
    }
}

/// A message body after trimming: 1..=4000 characters, no NUL.
pub fn body(raw: &str) -> Checked<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Invalid::new("empty_message", "The message is empty."));
    }
    let chars = trimmed.chars().count();
    if chars > MAX_BODY_CHARS {
        return Err(Invalid::new(
            "message_too_long",
            format!("The message has {chars} characters; at most {MAX_BODY_CHARS} are allowed."),
        ));
    }
    if trimmed.contains('\0') {
        return Err(Invalid::new("invalid_message", "The message contains a NUL character."));
    }
    Ok(trimmed.to_owned())
}

/// An idempotency key chosen by the sender: 1..=64 of `[A-Za-z0-9_-]`.
pub fn client_id(raw: &str) -> Checked<String> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_CLIENT_ID_LEN
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Invalid::new(
            "invalid_client_id",
            format!("client_id must be 1 to {MAX_CLIENT_ID_LEN} characters of A-Z, a-z, 0-9, '-' or '_'."),
        ))
    }
}

/// A shopper's email address for reply notifications: one plain `local@domain.tld`, no
/// display name, nothing that could smuggle a second address or a header into an email.
pub fn email(raw: &str) -> Checked<String> {
    let e = raw.trim();
    let bad = || Invalid::new("invalid_email", "Enter one email address, like name@example.com.");
    if e.len() > 254 || e.chars().any(|c| c.is_control() || c.is_whitespace() || "<>()[],;:\\\"".contains(c)) {
        return Err(bad());
    }
    let (local, domain) = e.split_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if local.is_empty() || local.len() > 64 || domain.contains('@') || !domain_ok {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// A site id: 1..=32 of `[a-z0-9-]`.
pub fn site_id(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 32
        && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A conversation id as the relay mints them: 32 lowercase hex digits.
pub fn conversation_id(raw: &str) -> bool {
    raw.len() == 32 && raw.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn short_text(field: &str, value: &str, max: usize) -> Checked<()> {
    if value.chars().count() > max {
        return Err(Invalid::new(
            "invalid_context",
            format!("{field} is longer than {max} characters."),
        ));
    }
    Ok(())
}

/// Context is shown to people, so it is bounded; amounts must be sane.
pub fn context(ctx: &Context) -> Checked<()> {
    short_text("page.url", &ctx.page.url, MAX_CONTEXT_TEXT_CHARS)?;
    short_text("page.title", &ctx.page.title, MAX_CONTEXT_TEXT_CHARS)?;
    if let Some(r) = &ctx.page.referrer {
        short_text("page.referrer", r, MAX_CONTEXT_TEXT_CHARS)?;
    }
    for (name, v) in [("locale", &ctx.locale), ("time_zone", &ctx.time_zone)] {
        if let Some(v) = v {
            short_text(name, v, 64)?;
        }
    }
    if let Some(cart) = &ctx.cart {
        let currency_ok = cart.currency.len() == 3 && cart.currency.bytes().all(|b| b.is_ascii_uppercase());
        if !currency_ok {
            return Err(Invalid::new("invalid_context", "cart.currency must be an ISO 4217 code such as EUR."));
        }
        if cart.items.len() > MAX_CART_ITEMS {
            return Err(Invalid::new("invalid_context", format!("A cart may list at most {MAX_CART_ITEMS} items.")));
        }
        if cart.total < 0 {
            return Err(Invalid::new("invalid_context", "cart.total must not be negative."));
        }
        for item in &cart.items {
            short_text("cart item name", &item.name, 200)?;
            if item.unit_price < 0 {
                return Err(Invalid::new("invalid_context", "A cart item's unit_price must not be negative."));
            }
            for v in [&item.id, &item.url, &item.image_url].into_iter().flatten() {
                short_text("cart item field", v, MAX_CONTEXT_TEXT_CHARS)?;
            }
        }
    }
    Ok(())
}

/// A shopper's message, normalised: the relay stores what this returns, never the raw input.
pub fn shopper_message(msg: &PostMessage) -> Checked<PostMessage> {
    let client_id = client_id(&msg.client_id)?;
    let body = body(&msg.body)?;
    if let Some(ctx) = &msg.context {
        context(ctx)?;
    }
    Ok(PostMessage { client_id, body, context: msg.context.clone() })
}

/// An agent's reply, normalised.
pub fn agent_message(msg: &PostAgentMessage) -> Checked<PostAgentMessage> {
    let client_id = client_id(&msg.client_id)?;
    let body = body(&msg.body)?;
    let author_name = match msg.author_name.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) => Some(author_name(name)?),
    };
    Ok(PostAgentMessage { client_id, body, author_name })
}

/// A name that signs replies (an agent's `author_name`, a teammate's name): trimmed, not
/// empty, at most 80 characters, no control characters.
pub fn author_name(raw: &str) -> Checked<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Invalid::new("invalid_author_name", "The name is empty."));
    }
    if name.chars().count() > MAX_AUTHOR_NAME_CHARS {
        return Err(Invalid::new("invalid_author_name", format!("author_name is longer than {MAX_AUTHOR_NAME_CHARS} characters.")));
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid::new("invalid_author_name", "author_name contains control characters."));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cart, CartItem, Page};

    #[test]
    fn body_is_trimmed_and_bounded() {
        assert_eq!(body("  hi \n").unwrap(), "hi");
        assert_eq!(body(" \n\t ").unwrap_err().code, "empty_message");
        assert!(body(&"é".repeat(MAX_BODY_CHARS)).is_ok(), "limit counts characters, not bytes");
        assert_eq!(body(&"a".repeat(MAX_BODY_CHARS + 1)).unwrap_err().code, "message_too_long");
        assert_eq!(body("a\0b").unwrap_err().code, "invalid_message");
    }

    #[test]
    fn client_ids_are_plain_tokens() {
        assert!(client_id("m-01HX_abc").is_ok());
        for bad in ["", "has space", "ü", &"a".repeat(65), "a/b"] {
            assert_eq!(client_id(bad).unwrap_err().code, "invalid_client_id", "{bad:?}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(email(" Ana@Example.COM ").unwrap(), "Ana@example.com");
        for bad in ["", "ana", "ana@", "@x.com", "ana@x", "a b@x.com", "ana@x.com\r\nBcc: y@z.com", "a@b@c.com",
            "Ana <ana@x.com>", "ana@x.com,b@y.com", "ana@.x.com", "ana@x..com"] {
            assert_eq!(email(bad).unwrap_err().code, "invalid_email", "{bad:?}");
        }
    }

    #[test]
    fn ids() {
        assert!(site_id("demo") && site_id("shop-42"));
        assert!(!site_id("") && !site_id("Demo") && !site_id("a_b") && !site_id(&"a".repeat(33)));
        assert!(conversation_id(&"0123456789abcdef".repeat(2)));
        assert!(!conversation_id("0123") && !conversation_id(&"0123456789ABCDEF".repeat(2)));
    }

    fn ctx_with_cart(currency: &str, total: i64) -> Context {
        Context {
            page: Page { url: "https://shop.example/p/1".into(), title: "Boots".into(), referrer: None },
            cart: Some(Cart {
                currency: currency.into(),
                total,
                items: vec![CartItem {
                    id: None,
                    name: "Boot".into(),
                    quantity: 2,
                    unit_price: 2999,
                    url: None,
                    image_url: None,
                }],
            }),
            locale: Some("de-DE".into()),
            time_zone: None,
        }
    }

    #[test]
    fn context_rules() {
        assert!(context(&ctx_with_cart("EUR", 5998)).is_ok());
        assert_eq!(context(&ctx_with_cart("eur", 5998)).unwrap_err().code, "invalid_context");
        assert_eq!(context(&ctx_with_cart("EUR", -1)).unwrap_err().code, "invalid_context");
        let mut long = ctx_with_cart("EUR", 1);
        long.page.title = "x".repeat(MAX_CONTEXT_TEXT_CHARS + 1);
        assert!(context(&long).is_err());
    }

    #[test]
    fn agent_names_are_cleaned() {
        let msg = |name: Option<&str>| PostAgentMessage {
            client_id: "c1".into(),
            body: "hello".into(),
            author_name: name.map(Into::into),
        };
        assert_eq!(agent_message(&msg(Some("  Ana "))).unwrap().author_name.as_deref(), Some("Ana"));
        assert_eq!(agent_message(&msg(Some("   "))).unwrap().author_name, None);
        assert!(agent_message(&msg(Some("Ana\r\nBcc: x"))).is_err());
    }

    #[test]
    fn wire_shapes_match_the_contract() {
        let m = crate::Message {
            id: "m1".into(),
            seq: 1,
            client_id: "c1".into(),
            author: crate::Author::Shopper,
            author_name: None,
            body: "hi".into(),
            created_at: "2026-11-21T09:00:00.000Z".into(),
            context: None,
            attachments: vec![],
        };
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["author"], "shopper");
        assert!(json.get("author_name").is_none(), "absent optional fields are omitted");
        let hello: crate::ClientFrame =
            serde_json::from_str(r#"{"type":"hello","token":"t","after":3}"#).unwrap();
        assert_eq!(hello, crate::ClientFrame::Hello { token: "t".into(), after: 3 });
        let err = serde_json::to_string(&crate::ErrorBody::new("not_found", "No such conversation.")).unwrap();
        assert_eq!(err, r#"{"error":{"code":"not_found","message":"No such conversation."}}"#);
    }
}
