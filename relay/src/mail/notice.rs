//! The words of the two notifications, as plain text and HTML. Pure functions of the
//! conversation, so every escaping and link rule is tested on the host.
//!
//! Rules: every value is escaped in HTML; a link is only made to the site's own origins
//! (the page, cart items, the resume link); anything else is shown as text. Both hold by
//! construction: the texts are written through [`Body`], which writes each piece to both
//! halves and escapes and checks on the way.

use pigeon_protocol::{Attachment, Context, Message};

use super::quote::REPLY_MARKER;
use super::writer::{on_site, Body, Column, Inline::*};

/// The parts of an email the notifications fill in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Words {
    fn new(subject: String, body: Body) -> Self {
        let (text, html) = body.finish();
        Self { subject, text, html }
    }
}

pub struct MerchantNotice<'a> {
    pub site_name: &'a str,
    pub conversation: &'a str,
    /// The shopper's messages since the last notification, oldest first.
    pub messages: &'a [Message],
    pub context: Option<&'a Context>,
    pub shopper_email: Option<&'a str>,
    pub origins: &'a [String],
    /// A file's signed address, if the conversation knows this relay's origin.
    pub file_link: &'a dyn Fn(&Attachment) -> Option<String>,
}

pub struct ShopperNotice<'a> {
    pub site_name: &'a str,
    pub conversation: &'a str,
    /// The agent's replies the shopper has not read, oldest first.
    pub replies: &'a [Message],
    /// Opens the thread in any browser; `None` if the site has no origin to link to.
    pub resume_url: Option<&'a str>,
    pub file_link: &'a dyn Fn(&Attachment) -> Option<String>,
}

/// The subject stays the same for the whole conversation, so mail clients keep one thread.
fn short(conversation: &str) -> &str {
    &conversation[..conversation.len().min(6)]
}

/// The normalised origin of an http(s) URL (see [`crate::origin`]).
pub fn origin_of(url: &str) -> Option<String> {
    crate::origin::of_url(url)
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

/// Digits after the decimal point (ISO 4217).
fn minor_digits(currency: &str) -> u32 {
    pigeon_protocol::currency_digits(&currency.to_ascii_uppercase())
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

/// Both notifications open with the marker that [`super::quote`] cuts the history at.
fn with_marker() -> Body {
    let mut body = Body::new();
    body.note(&[Fixed("--- "), Fixed(REPLY_MARKER), Fixed(" to answer ---")]);
    body
}

pub fn merchant(n: &MerchantNotice) -> Words {
    let mut body = with_marker();
    body.paragraph(&[Fixed("A shopper wrote on "), Bold(n.site_name), Fixed(":")]);
    for m in n.messages {
        body.message(None, &when(&m.created_at), &m.body);
        body.files(&m.attachments, n.file_link);
    }
    match n.shopper_email {
        Some(email) => body.paragraph(&[Fixed("Shopper's email: "), Value(email)]),
        None => body.paragraph(&[Fixed("The shopper left no email address: your reply reaches them in the chat on the site.")]),
    }
    if let Some(ctx) = n.context {
        context_section(ctx, n.origins, &mut body);
    }
    body.note(&[Fixed("Reply to this email to answer in the chat. Quoted text and your signature are left out.")]);
    Words::new(format!("{}: chat {}", n.site_name, short(n.conversation)), body)
}

const CART: [Column; 3] = [
    Column { head: "Qty", text_before: "  " },
    Column { head: "Item", text_before: " x " },
    Column { head: "Price", text_before: "  " },
];

/// The page and the cart as a readable table.
fn context_section(ctx: &Context, origins: &[String], body: &mut Body) {
    let page = &ctx.page;
    body.facts(|facts| {
        facts.row("Page", &[Link { url: &page.url, label: &page.title, origins }, Break, Muted(&page.url)]);
        if let Some(locale) = &ctx.locale {
            facts.row("Language", &[Value(locale)]);
        }
    });
    let Some(cart) = &ctx.cart else { return };
    let count: u64 = cart.items.iter().map(|i| u64::from(i.quantity)).sum();
    let items = if count == 1 { "item" } else { "items" };
    let summary = format!("{count} {items}, {}", money(cart.total, &cart.currency));
    body.table("Cart", &[Value(&summary)], &CART, |rows| {
        for item in &cart.items {
            let name = match &item.url {
                Some(url) => Link { url, label: &item.name, origins },
                None => Value(&item.name),
            };
            rows.row(&[Value(&item.quantity.to_string()), name, Value(&money(item.unit_price, &cart.currency))]);
        }
    });
}

pub fn shopper(n: &ShopperNotice) -> Words {
    let mut body = with_marker();
    body.paragraph(&[Bold(n.site_name), Fixed(" replied:")]);
    for m in n.replies {
        body.message(Some(m.author_name.as_deref().unwrap_or(n.site_name)), &when(&m.created_at), &m.body);
        body.files(&m.attachments, n.file_link);
    }
    match n.resume_url {
        Some(url) => {
            body.button("Continue the conversation", url);
            body.line(&[Fixed("Or simply reply to this email.")]);
        }
        None => body.paragraph(&[Fixed("Reply to this email to answer.")]),
    }
    body.note(&[
        Fixed("You get this email because you asked "),
        Value(n.site_name),
        Fixed(" to email you when they reply (chat "),
        Value(short(n.conversation)),
        Fixed(")."),
    ]);
    Words::new(format!("Your conversation with {}", n.site_name), body)
}

/// The inbox's sign-in link (see `inbox::session`).
/// `invite`: (site name, who invited) when the link comes with an invitation.
pub fn signin(url: &str, minutes: u32, invite: Option<(&str, &str)>) -> Words {
    let mut body = Body::new();
    if let Some((site, by)) = invite {
        body.paragraph(&[Value(by), Fixed(" invited you to answer "), Bold(site), Fixed("'s customer chats in Pigeon.")]);
    }
    let valid = if minutes == 1 { "1 minute".to_owned() } else { format!("{minutes} minutes") };
    body.paragraph(&[Fixed("Sign in to your Pigeon inbox with this link. It works once, for "), Value(&valid), Fixed(".")]);
    body.button("Sign in", url);
    body.note(&[Fixed("If you did not ask to sign in, ignore this email: nobody can sign in without the link.")]);
    let subject = match invite {
        Some((site, _)) => format!("Join {site} on Pigeon"),
        None => "Your Pigeon sign-in link".to_owned(),
    };
    Words::new(subject, body)
}

/// The five answers of a rating email, worst first.
pub const RATING_CHOICES: [&str; 5] = ["1 – very unhappy", "2 – unhappy", "3 – neither", "4 – happy", "5 – very happy"];

/// To the shopper when a teammate closed their conversation asking for a rating: one link per
/// answer (`links[0]` answers 1), each opening a page where the choice is made and a comment
/// may be added.
pub fn rating(site_name: &str, links: &[String; 5], days: u32) -> Words {
    let mut body = Body::new();
    body.paragraph(&[Bold(site_name), Fixed(" closed your conversation. How happy are you with the help you got?")]);
    for (label, url) in RATING_CHOICES.iter().zip(links) {
        body.button(label, url);
    }
    let valid = if days == 1 { "1 day".to_owned() } else { format!("{days} days") };
    body.note(&[Fixed("One answer per conversation; the links work for "), Value(&valid), Fixed(". Writing to the shop again reopens the conversation.")]);
    Words::new(format!("How did we do? — {site_name}"), body)
}

/// To a teammate someone `@mentioned` in an internal note.
pub fn mention(site_name: &str, by: &str, note: &str, created_at: &str, inbox_url: &str) -> Words {
    let mut body = Body::new();
    body.paragraph(&[Value(by), Fixed(" mentioned you in an internal note on a conversation at "), Bold(site_name), Fixed(":")]);
    body.message(Some(by), &when(created_at), note);
    body.button("Open the inbox", inbox_url);
    body.note(&[Fixed("Internal notes are seen by the site's teammates only, never by the shopper.")]);
    Words::new(format!("{by} mentioned you in a note — {site_name}"), body)
}

/// To a site's owner: a webhook endpoint kept failing and was switched off.
pub fn webhook_off(site_name: &str, url: &str, why: &str) -> Words {
    let mut body = Body::new();
    body.paragraph(&[Fixed("A webhook endpoint of "), Bold(site_name), Fixed(" kept failing for over a day, so Pigeon switched it off:")]);
    body.paragraph(&[Value(url)]);
    body.paragraph(&[Fixed("The last attempt: "), Value(why)]);
    body.note(&[Fixed(
        "Events are not sent to it while it is off. Once it works again, switch it on in your Pigeon inbox (Settings, Webhooks), where the log can send failed deliveries again.",
    )]);
    Words::new(format!("Webhook switched off — {site_name}"), body)
}

#[cfg(test)]
mod tests {
    use super::super::writer::escape;
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
            attachments: vec![],
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
            file_link: &|_| None,
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
    fn files_show_as_thumbnails_and_links_escaped() {
        let mut photo = msg(Author::Agent, "", Some("Ana"));
        photo.attachments = vec![
            Attachment { id: "f1".into(), name: format!("{XSS}.png"), content_type: "image/png".into(), size: 2_400_000, width: Some(1200), height: Some(600) },
            Attachment { id: "f2".into(), name: "Rechnung.pdf".into(), content_type: "application/pdf".into(), size: 51_200, width: None, height: None },
        ];
        let link = |a: &Attachment| Some(format!("https://relay.test/v1/files/c/{}?expires=9&sig=\"x", a.id));
        let s = shopper(&ShopperNotice { site_name: "Shop", conversation: "abcdef", replies: std::slice::from_ref(&photo), resume_url: None, file_link: &link });
        assert!(s.html.contains("width=\"240\" height=\"120\""), "{}", s.html);
        assert!(s.html.contains("<img src=\"https://relay.test/v1/files/c/f1?expires=9&amp;sig=&quot;x\""), "{}", s.html);
        assert!(!s.html.contains("<script"), "{}", s.html);
        assert!(s.html.contains(">Rechnung.pdf</a> <span style=\"color:#8a93a6;font-size:12px\">51 KB</span>"), "{}", s.html);
        assert!(s.text.contains("[Rechnung.pdf (51 KB)]: https://relay.test/v1/files/c/f2"), "{}", s.text);
        assert!(s.text.contains("(2.4 MB)"), "{}", s.text);
        // No link (a conversation from before files, or a link that is not http): names only.
        let bad = |_: &Attachment| Some("javascript:alert(1)".to_owned());
        let s = shopper(&ShopperNotice { site_name: "Shop", conversation: "abcdef", replies: std::slice::from_ref(&photo), resume_url: None, file_link: &bad });
        assert!(!s.html.contains("<img") && !s.html.contains("javascript"), "{}", s.html);
        assert!(s.text.contains("[Rechnung.pdf (51 KB)]\n"), "{}", s.text);
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
            file_link: &|_| None,
        });
        let replies = [msg(Author::Agent, XSS, Some(XSS))];
        let s = shopper(&ShopperNotice { site_name: XSS, conversation: "abcdef", replies: &replies, resume_url: None, file_link: &|_| None });
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
        let w = shopper(&ShopperNotice { site_name: "Pigeon Outfitters", conversation: "abcdef", replies: &replies, resume_url: Some(url), file_link: &|_| None });
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
            merchant(&MerchantNotice { site_name: s, conversation: "abcdef", messages: &messages, context: Some(&ctx), shopper_email: Some(s), origins: &origins(), file_link: &|_| None }).html
        };
        let shopper_html = |s: &str| {
            let replies = [msg(Author::Agent, s, Some(s))];
            shopper(&ShopperNotice { site_name: s, conversation: "abcdef", replies: &replies, resume_url: None, file_link: &|_| None }).html
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

    #[test]
    fn a_mention_mail_escapes_the_note_and_names() {
        let w = mention("<b>Shop</b>", "Ol<i>via", "@sam <script>alert(1)</script>", "2026-11-24T10:00:00.000Z", "https://relay.test/inbox/");
        assert!(!w.html.contains("<script>") && !w.html.contains("<i>") && !w.html.contains("<b>Shop"), "{}", w.html);
        assert!(w.text.contains("@sam <script>alert(1)</script>"), "the text half keeps the note as written");
        assert!(w.html.contains("https://relay.test/inbox/"));
        assert_eq!(w.subject, "Ol<i>via mentioned you in a note — <b>Shop</b>");
    }

    #[test]
    fn the_rating_email_has_one_link_per_answer_worst_first() {
        let links: [String; 5] = std::array::from_fn(|i| format!("https://relay.test/rate/tok?s={}", i + 1));
        let w = rating("<b>Shop</b>", &links, 30);
        assert_eq!(w.subject, "How did we do? — <b>Shop</b>");
        assert!(w.html.contains("&lt;b&gt;Shop&lt;/b&gt;") && !w.html.contains("<b>Shop</b>"));
        for (i, label) in RATING_CHOICES.iter().enumerate() {
            let line = format!("{label}: https://relay.test/rate/tok?s={}", i + 1);
            assert!(w.text.contains(&line), "{line} in {}", w.text);
            assert!(w.html.contains(&format!("href=\"https://relay.test/rate/tok?s={}\"", i + 1)));
        }
        assert!(w.text.contains("30 days"));
    }
}
