//! The words of the two notifications, as plain text and HTML. Pure functions of the
//! conversation, so every escaping and link rule is tested on the host.
//!
//! Rules: every value is escaped in HTML; a link is only made to the site's own origins
//! (the page, cart items, the resume link); anything else is shown as text.

use std::fmt::Write;

use pigeon_protocol::{Context, Message};

use super::quote::REPLY_MARKER;

/// The parts of an email the notifications fill in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct MerchantNotice<'a> {
    pub site_name: &'a str,
    pub conversation: &'a str,
    /// The shopper's messages since the last notification, oldest first.
    pub messages: &'a [Message],
    pub context: Option<&'a Context>,
    pub shopper_email: Option<&'a str>,
    pub origins: &'a [String],
}

pub struct ShopperNotice<'a> {
    pub site_name: &'a str,
    pub conversation: &'a str,
    /// The agent's replies the shopper has not read, oldest first.
    pub replies: &'a [Message],
    /// Opens the thread in any browser; `None` if the site has no origin to link to.
    pub resume_url: Option<&'a str>,
}

/// The subject stays the same for the whole conversation, so mail clients keep one thread.
fn short(conversation: &str) -> &str {
    &conversation[..conversation.len().min(6)]
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text with line breaks kept, escaped.
fn escape_lines(s: &str) -> String {
    escape(s).replace("\r\n", "\n").replace('\n', "<br>")
}

/// The normalised origin of an http(s) URL (see [`crate::origin`]).
pub fn origin_of(url: &str) -> Option<String> {
    crate::origin::of_url(url)
}

/// Is `url` on one of the site's origins (so we may link to it)?
pub fn on_site(url: &str, origins: &[String]) -> bool {
    origin_of(url).is_some_and(|o| origins.iter().any(|allowed| origin_of(allowed).as_deref() == Some(o.as_str())))
}

/// The page to reopen the thread on: where the shopper was, if that is on the site,
/// otherwise the site's first origin. The token rides in the fragment, which browsers never
/// send to a server or in a Referer.
pub fn resume_url(page: Option<&str>, origins: &[String], token: &str) -> Option<String> {
    let base = match page.filter(|p| on_site(p, origins)) {
        Some(page) => page.split('#').next().unwrap_or(page).to_owned(),
        None => format!("{}/", origins.iter().find_map(|o| origin_of(o))?),
    };
    Some(format!("{base}#pigeon-resume={token}"))
}

fn link_or_text(url: &str, label: &str, origins: &[String]) -> String {
    if on_site(url, origins) {
        format!("<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>", escape(url), escape(label))
    } else {
        escape(label)
    }
}

/// Digits after the decimal point (ISO 4217) for the currencies that differ from 2.
fn minor_digits(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" | "RWF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
        _ => 2,
    }
}

pub fn money(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let currency = currency.to_ascii_uppercase();
    if digits == 0 {
        return format!("{sign}{abs} {currency}");
    }
    let unit = 10u64.pow(digits);
    format!("{sign}{}.{:0width$} {currency}", abs / unit, abs % unit, width = digits as usize)
}

/// `2026-11-21 10:42 UTC` from an RFC 3339 UTC timestamp.
fn when(created_at: &str) -> String {
    match (created_at.get(..10), created_at.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => created_at.to_owned(),
    }
}

const HTML_HEAD: &str = "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.45;color:#1d2330\">";
const HTML_TAIL: &str = "</body></html>";

fn marker_text() -> String {
    format!("--- {REPLY_MARKER} to answer ---\n\n")
}

fn marker_html() -> String {
    format!("<p style=\"color:#8a93a6;font-size:12px\">--- {REPLY_MARKER} to answer ---</p>")
}

pub fn merchant(n: &MerchantNotice) -> Words {
    let subject = format!("{}: chat {}", n.site_name, short(n.conversation));
    let mut text = marker_text();
    let mut html = format!("{HTML_HEAD}{}", marker_html());
    let _ = writeln!(text, "A shopper wrote on {}:\n", n.site_name);
    let _ = write!(html, "<p>A shopper wrote on <b>{}</b>:</p>", escape(n.site_name));
    for m in n.messages {
        let _ = writeln!(text, "[{}]\n{}\n", when(&m.created_at), m.body);
        let _ = write!(
            html,
            "<p style=\"margin:0 0 12px\"><span style=\"color:#8a93a6;font-size:12px\">{}</span><br>{}</p>",
            escape(&when(&m.created_at)),
            escape_lines(&m.body)
        );
    }
    match n.shopper_email {
        Some(email) => {
            let _ = writeln!(text, "Shopper's email: {email}");
            let _ = write!(html, "<p>Shopper's email: {}</p>", escape(email));
        }
        None => {
            let note = "The shopper left no email address: your reply reaches them in the chat on the site.";
            let _ = writeln!(text, "{note}");
            let _ = write!(html, "<p>{note}</p>");
        }
    }
    if let Some(ctx) = n.context {
        context_section(ctx, n.origins, &mut text, &mut html);
    }
    let footer = "Reply to this email to answer in the chat. Quoted text and your signature are left out.";
    let _ = write!(text, "\n{footer}\n");
    let _ = write!(html, "<p style=\"color:#8a93a6;font-size:12px\">{footer}</p>{HTML_TAIL}");
    Words { subject, text, html }
}

/// The page and the cart as a readable table.
fn context_section(ctx: &Context, origins: &[String], text: &mut String, html: &mut String) {
    let cell = "style=\"padding:4px 12px 4px 0;vertical-align:top;text-align:left\"";
    let _ = writeln!(text, "\nPage: {}\n      {}", ctx.page.title, ctx.page.url);
    let _ = write!(
        html,
        "<table style=\"border-collapse:collapse;margin:12px 0\"><tr><th {cell}>Page</th><td {cell}>{}<br><span style=\"color:#8a93a6\">{}</span></td></tr>",
        link_or_text(&ctx.page.url, &ctx.page.title, origins),
        escape(&ctx.page.url)
    );
    if let Some(locale) = &ctx.locale {
        let _ = writeln!(text, "Language: {locale}");
        let _ = write!(html, "<tr><th {cell}>Language</th><td {cell}>{}</td></tr>", escape(locale));
    }
    html.push_str("</table>");
    let Some(cart) = &ctx.cart else { return };
    let count: u64 = cart.items.iter().map(|i| u64::from(i.quantity)).sum();
    let total = money(cart.total, &cart.currency);
    let items = if count == 1 { "item" } else { "items" };
    let _ = writeln!(text, "\nCart ({count} {items}, {total}):");
    let _ = write!(
        html,
        "<table style=\"border-collapse:collapse;margin:12px 0\"><caption style=\"text-align:left;font-weight:bold\">Cart: {count} {items}, {}</caption>\
         <tr><th {cell}>Qty</th><th {cell}>Item</th><th {cell}>Price</th></tr>",
        escape(&total)
    );
    for item in &cart.items {
        let price = money(item.unit_price, &cart.currency);
        let _ = writeln!(text, "  {} x {}  {}", item.quantity, item.name, price);
        let name = match &item.url {
            Some(url) => link_or_text(url, &item.name, origins),
            None => escape(&item.name),
        };
        let _ = write!(html, "<tr><td {cell}>{}</td><td {cell}>{name}</td><td {cell}>{}</td></tr>", item.quantity, escape(&price));
    }
    html.push_str("</table>");
}

pub fn shopper(n: &ShopperNotice) -> Words {
    let subject = format!("Your conversation with {}", n.site_name);
    let mut text = marker_text();
    let mut html = format!("{HTML_HEAD}{}", marker_html());
    let _ = writeln!(text, "{} replied:\n", n.site_name);
    let _ = write!(html, "<p><b>{}</b> replied:</p>", escape(n.site_name));
    for m in n.replies {
        let who = m.author_name.as_deref().unwrap_or(n.site_name);
        let _ = writeln!(text, "{who} [{}]:\n{}\n", when(&m.created_at), m.body);
        let _ = write!(
            html,
            "<p style=\"margin:0 0 12px\"><b>{}</b> <span style=\"color:#8a93a6;font-size:12px\">{}</span><br>{}</p>",
            escape(who),
            escape(&when(&m.created_at)),
            escape_lines(&m.body)
        );
    }
    if let Some(url) = n.resume_url {
        let _ = writeln!(text, "Continue the conversation: {url}\nOr simply reply to this email.");
        let _ = write!(
            html,
            "<p><a href=\"{}\" rel=\"noopener noreferrer\" style=\"display:inline-block;padding:10px 16px;background:#2f6fed;color:#fff;border-radius:6px;text-decoration:none\">Continue the conversation</a></p><p>Or simply reply to this email.</p>",
            escape(url)
        );
    } else {
        let _ = writeln!(text, "Reply to this email to answer.");
        html.push_str("<p>Reply to this email to answer.</p>");
    }
    let footer = format!(
        "You get this email because you asked {} to email you when they reply (chat {}).",
        n.site_name,
        short(n.conversation)
    );
    let _ = write!(text, "\n{footer}\n");
    let _ = write!(html, "<p style=\"color:#8a93a6;font-size:12px\">{}</p>{HTML_TAIL}", escape(&footer));
    Words { subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pigeon_protocol::{Author, Cart, CartItem, Page};

    fn msg(author: Author, body: &str, name: Option<&str>) -> Message {
        Message {
            id: "m_1".into(),
            seq: 1,
            client_id: "c1".into(),
            author,
            author_name: name.map(Into::into),
            body: body.into(),
            created_at: "2026-11-21T10:42:13.000Z".into(),
            context: None,
        }
    }

    fn origins() -> Vec<String> {
        vec!["https://shop.test".into()]
    }

    const XSS: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";

    #[test]
    fn merchant_notice_shows_messages_page_and_cart() {
        let ctx = Context {
            page: Page { url: "https://shop.test/jacket".into(), title: "Blue Jacket".into(), referrer: None },
            cart: Some(Cart {
                currency: "EUR".into(),
                total: 12900,
                items: vec![
                    CartItem { id: None, name: "Blue Jacket".into(), quantity: 1, unit_price: 9900, url: Some("https://shop.test/jacket".into()), image_url: None },
                    CartItem { id: None, name: "Socks".into(), quantity: 2, unit_price: 1500, url: Some("https://evil.test/x".into()), image_url: None },
                ],
            }),
            locale: Some("de-DE".into()),
            time_zone: None,
        };
        let messages = [msg(Author::Shopper, "Is it in stock?", None)];
        let w = merchant(&MerchantNotice {
            site_name: "Pigeon Outfitters",
            conversation: "a1b2c3d4e5",
            messages: &messages,
            context: Some(&ctx),
            shopper_email: Some("anna@example.com"),
            origins: &origins(),
        });
        assert_eq!(w.subject, "Pigeon Outfitters: chat a1b2c3");
        assert!(w.text.starts_with(&format!("--- {REPLY_MARKER}")));
        for needle in ["Is it in stock?", "2026-11-21 10:42 UTC", "anna@example.com", "Cart (3 items, 129.00 EUR)", "1 x Blue Jacket  99.00 EUR", "2 x Socks  15.00 EUR"] {
            assert!(w.text.contains(needle), "text lacks {needle}: {}", w.text);
        }
        assert!(w.html.contains("<a href=\"https://shop.test/jacket\" rel=\"noopener noreferrer\">Blue Jacket</a>"));
        // A cart item pointing off the site is shown, not linked.
        assert!(!w.html.contains("evil.test/x\""));
        assert!(w.html.contains(">Socks<"));
    }

    #[test]
    fn everything_is_escaped_in_html() {
        let ctx = Context {
            page: Page { url: format!("javascript:alert(1)//{XSS}"), title: XSS.into(), referrer: None },
            cart: Some(Cart {
                currency: "EUR".into(),
                total: 1,
                items: vec![CartItem { id: None, name: XSS.into(), quantity: 1, unit_price: 1, url: Some("JaVaScRiPt:alert(1)".into()), image_url: None }],
            }),
            locale: Some(XSS.into()),
            time_zone: None,
        };
        let messages = [msg(Author::Shopper, XSS, None)];
        let m = merchant(&MerchantNotice {
            site_name: XSS,
            conversation: "abcdef",
            messages: &messages,
            context: Some(&ctx),
            shopper_email: Some(XSS),
            origins: &origins(),
        });
        let replies = [msg(Author::Agent, XSS, Some(XSS))];
        let s = shopper(&ShopperNotice { site_name: XSS, conversation: "abcdef", replies: &replies, resume_url: None });
        for html in [&m.html, &s.html] {
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.contains("<img"), "{html}");
            assert!(!html.to_lowercase().contains("href=\"javascript"), "{html}");
            assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        }
    }

    #[test]
    fn links_only_to_the_site() {
        let o = origins();
        assert!(on_site("https://shop.test/a?b#c", &o));
        assert!(on_site("HTTPS://SHOP.TEST/", &o));
        for off in ["https://shop.test.evil.test/", "https://evil.test@shop.test/", "https://user@shop.test/", "javascript:alert(1)", "//shop.test/", "https://shop.test:444/", "data:text/html,x", "https://shop.test/\n"] {
            assert!(!on_site(off, &o), "{off}");
        }
    }

    #[test]
    fn resume_links_stay_on_the_site() {
        let o = origins();
        assert_eq!(resume_url(Some("https://shop.test/jacket#x"), &o, "tok").as_deref(), Some("https://shop.test/jacket#pigeon-resume=tok"));
        assert_eq!(resume_url(Some("https://evil.test/"), &o, "tok").as_deref(), Some("https://shop.test/#pigeon-resume=tok"));
        assert_eq!(resume_url(None, &[], "tok"), None);
        let replies = [msg(Author::Agent, "Ships tomorrow", Some("Anna"))];
        let url = "https://shop.test/#pigeon-resume=tok";
        let w = shopper(&ShopperNotice { site_name: "Pigeon Outfitters", conversation: "abcdef", replies: &replies, resume_url: Some(url) });
        assert_eq!(w.subject, "Your conversation with Pigeon Outfitters");
        assert!(w.text.contains("Anna [2026-11-21 10:42 UTC]:\nShips tomorrow"));
        assert!(w.text.contains(&format!("Continue the conversation: {url}")));
        assert!(w.html.contains(&format!("href=\"{url}\"")));
    }

    /// Every string of the hostile corpus, in every field the two emails show, appears in the
    /// HTML exactly as `escape` renders it and nowhere else: the same email with a harmless
    /// placeholder, placeholder replaced by the escaped string, is byte for byte the same.
    #[test]
    fn the_hostile_corpus_is_escaped_in_every_field() {
        let corpus: Vec<String> = serde_json::from_str(include_str!("../../../tests/corpus/hostile.json")).unwrap();
        assert!(corpus.len() >= 100);
        const P: &str = "PLACEHOLDER";
        let merchant_html = |s: &str| {
            let ctx = Context {
                page: Page { url: s.into(), title: s.into(), referrer: None },
                cart: Some(Cart {
                    currency: "EUR".into(),
                    total: 100,
                    items: vec![CartItem { id: None, name: s.into(), quantity: 1, unit_price: 100, url: Some(s.into()), image_url: None }],
                }),
                locale: Some(s.into()),
                time_zone: None,
            };
            let messages = [msg(Author::Shopper, s, None)];
            merchant(&MerchantNotice { site_name: s, conversation: "abcdef", messages: &messages, context: Some(&ctx), shopper_email: Some(s), origins: &origins() }).html
        };
        let shopper_html = |s: &str| {
            let replies = [msg(Author::Agent, s, Some(s))];
            shopper(&ShopperNotice { site_name: s, conversation: "abcdef", replies: &replies, resume_url: None }).html
        };
        for s in &corpus {
            // Message bodies keep their line breaks as <br>; everything else is escaped as is.
            let escaped = escape(s).replace("\r\n", "\n").replace('\n', "<br>");
            for (with, placeholder) in [(merchant_html(s), merchant_html(P)), (shopper_html(s), shopper_html(P))] {
                let expected = placeholder.replace(P, &escaped);
                assert_eq!(with.replace(&escape(s), &escaped), expected, "{s:?}");
            }
        }
    }

    #[test]
    fn money_uses_the_currency_minor_unit() {
        assert_eq!(money(12900, "EUR"), "129.00 EUR");
        assert_eq!(money(5, "usd"), "0.05 USD");
        assert_eq!(money(1200, "JPY"), "1200 JPY");
        assert_eq!(money(1234, "KWD"), "1.234 KWD");
        assert_eq!(money(-250, "EUR"), "-2.50 EUR");
    }
}
