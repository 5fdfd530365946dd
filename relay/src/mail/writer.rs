//! An email body written once and read twice: as plain text and as HTML.
//!
//! The notifications used to write every line twice, a `writeln!` for the text and a
//! `write!` for the HTML, with `escape` around each value by hand: correct, but kept correct
//! by review. Here each call writes both halves, and nothing reaches the HTML but through
//! this module: values come in as [`Inline`] pieces and are escaped on the way; tags and
//! styles are this module's constants; the only words written unescaped are
//! [`Inline::Fixed`] and table headings, which take `&'static str`, wording from the source,
//! never a value.
//!
//! Layout: in HTML each block is an element; in text, blocks are separated by one blank line
//! (except [`Body::line`], which continues the block above) and every line ends with `\n`.

use pigeon_protocol::{Attachment, human_size};

use crate::origin;

const HEAD: &str = "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.45;color:#1d2330\">";
const TAIL: &str = "</body></html>";
/// URLs under their title.
const GREY: &str = "color:#8a93a6";
/// Dates, notes and the small print.
const SMALL: &str = "color:#8a93a6;font-size:12px";
const TABLE: &str = "<table style=\"border-collapse:collapse;margin:12px 0\">";
const CELL: &str = "style=\"padding:4px 12px 4px 0;vertical-align:top;text-align:left\"";
const BUTTON: &str = "display:inline-block;padding:10px 16px;background:#2f6fed;color:#fff;border-radius:6px;text-decoration:none";
/// A picture in a message.
const THUMB: &str = "border:1px solid #d5d9e2;border-radius:6px;max-width:240px;height:auto";
/// Links never tell the site where the mail was read.
const REL: &str = "rel=\"noopener noreferrer\"";

/// Escapes the characters that could end a text or an attribute value in HTML.
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

/// Is `url` on one of the site's origins (so we may link to it)?
pub fn on_site(url: &str, origins: &[String]) -> bool {
    origin::of_url(url).is_some_and(|o| origins.iter().any(|allowed| origin::of_url(allowed).as_deref() == Some(o.as_str())))
}

/// Wording from the source, written as is: words, never markup.
fn fixed(s: &'static str) -> &'static str {
    debug_assert!(!s.contains(['<', '>', '&', '"']), "markup in fixed wording: {s}");
    s
}

/// A piece of a line, and how it shows in each half.
#[derive(Debug, Clone, Copy)]
pub enum Inline<'a> {
    /// Our own wording (a string literal), the same in both halves.
    Fixed(&'static str),
    /// A value: as is in text, escaped in HTML.
    Value(&'a str),
    /// A value in bold in HTML.
    Bold(&'a str),
    /// A value in grey in HTML (a URL under its title).
    Muted(&'a str),
    /// `label`, linked to `url` in HTML only when `url` is on one of `origins`.
    Link { url: &'a str, label: &'a str, origins: &'a [String] },
    /// A new line (in a [`Facts::row`], indented under the value) in text, `<br>` in HTML.
    Break,
}

impl Inline<'_> {
    fn write(&self, body: &mut Body, indent: &str) {
        let (text, html) = (&mut body.text, &mut body.html);
        match *self {
            Inline::Fixed(s) => {
                text.push_str(s);
                html.push_str(fixed(s));
            }
            Inline::Value(s) => {
                text.push_str(s);
                html.push_str(&escape(s));
            }
            Inline::Bold(s) => {
                text.push_str(s);
                html.push_str(&format!("<b>{}</b>", escape(s)));
            }
            Inline::Muted(s) => {
                text.push_str(s);
                html.push_str(&format!("<span style=\"{GREY}\">{}</span>", escape(s)));
            }
            Inline::Link { url, label, origins } => {
                text.push_str(label);
                if on_site(url, origins) {
                    html.push_str(&format!("<a href=\"{}\" {REL}>{}</a>", escape(url), escape(label)));
                } else {
                    html.push_str(&escape(label));
                }
            }
            Inline::Break => {
                text.push('\n');
                text.push_str(indent);
                html.push_str("<br>");
            }
        }
    }
}

/// A column of a [`Body::table`]. Text has no columns to align, so each cell is written after
/// its column's `text_before` (`"  2 x Socks  15.00 EUR"`).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub head: &'static str,
    pub text_before: &'static str,
}

/// Both halves of an email body; see the module comment.
#[derive(Debug)]
pub struct Body {
    text: String,
    html: String,
}

impl Default for Body {
    fn default() -> Self {
        Self::new()
    }
}

impl Body {
    pub fn new() -> Self {
        Self { text: String::new(), html: HEAD.to_owned() }
    }

    /// `(text, html)`.
    pub fn finish(mut self) -> (String, String) {
        self.html.push_str(TAIL);
        (self.text, self.html)
    }

    /// Starts a text block: a blank line after the one before.
    fn block(&mut self) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
    }

    fn inline(&mut self, pieces: &[Inline], indent: &str) {
        for piece in pieces {
            piece.write(self, indent);
        }
    }

    fn p(&mut self, style: Option<&str>, pieces: &[Inline]) {
        match style {
            Some(style) => self.html.push_str(&format!("<p style=\"{style}\">")),
            None => self.html.push_str("<p>"),
        }
        self.inline(pieces, "");
        self.text.push('\n');
        self.html.push_str("</p>");
    }

    pub fn paragraph(&mut self, pieces: &[Inline]) {
        self.block();
        self.p(None, pieces);
    }

    /// A paragraph in HTML that stays in the text block above, with no blank line before it.
    pub fn line(&mut self, pieces: &[Inline]) {
        self.p(None, pieces);
    }

    /// Small print: the reply marker, the footer.
    pub fn note(&mut self, pieces: &[Inline]) {
        self.block();
        self.p(Some(SMALL), pieces);
    }

    /// A chat message, its line breaks kept: `who [when]:` (or `[when]`) over the body.
    pub fn message(&mut self, who: Option<&str>, when: &str, body: &str) {
        self.block();
        self.html.push_str("<p style=\"margin:0 0 12px\">");
        match who {
            Some(who) => {
                self.text.push_str(&format!("{who} [{when}]:"));
                self.html.push_str(&format!("<b>{}</b> ", escape(who)));
            }
            None => self.text.push_str(&format!("[{when}]")),
        }
        // A message that is only files has no text line (its files follow).
        if body.is_empty() {
            self.text.push('\n');
            self.html.push_str(&format!("<span style=\"{SMALL}\">{}</span></p>", escape(when)));
            return;
        }
        self.text.push_str(&format!("\n{body}\n"));
        self.html.push_str(&format!("<span style=\"{SMALL}\">{}</span><br>{}</p>", escape(when), escape_lines(body)));
    }

    /// A message's files under it: `name (size): url` lines in text; in HTML a thumbnail
    /// (at most 240 px) linked to the picture, or a linked name for a document. `link` gives
    /// a file's address (signed, expiring), `None` when it has none: the name alone then.
    pub fn files(&mut self, files: &[Attachment], link: &dyn Fn(&Attachment) -> Option<String>) {
        if files.is_empty() {
            return;
        }
        self.html.push_str("<p style=\"margin:0 0 12px\">");
        for f in files {
            let url = link(f).filter(|u| origin::of_url(u).is_some());
            let size = human_size(f.size);
            match &url {
                Some(url) => self.text.push_str(&format!("[{} ({size})]: {url}\n", f.name)),
                None => self.text.push_str(&format!("[{} ({size})]\n", f.name)),
            }
            let (name, url) = (escape(&f.name), url.as_deref().map(escape));
            match (url, f.is_image(), f.width.zip(f.height)) {
                (Some(url), true, Some((w, h))) => {
                    // Scaled to fit 240 x 240, so the mail's layout does not jump as it loads.
                    let scale = (240.0 / f64::from(w.max(h))).min(1.0);
                    let (w, h) = (((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1));
                    self.html.push_str(&format!(
                        "<a href=\"{url}\" {REL}><img src=\"{url}\" alt=\"{name}\" width=\"{w}\" height=\"{h}\" style=\"{THUMB}\"></a><br>"
                    ));
                }
                (Some(url), _, _) => self.html.push_str(&format!("<a href=\"{url}\" {REL}>{name}</a> <span style=\"{SMALL}\">{size}</span><br>")),
                (None, _, _) => self.html.push_str(&format!("{name} <span style=\"{SMALL}\">{size}</span><br>")),
            }
        }
        self.html.push_str("</p>");
    }

    /// A call to action: `label: url` in text, a button in HTML. The caller links only to the
    /// site (the resume link is built on its origins); anything but http(s) is shown as text.
    pub fn button(&mut self, label: &'static str, url: &str) {
        self.block();
        self.text.push_str(&format!("{label}: {url}\n"));
        if origin::of_url(url).is_some() {
            self.html.push_str(&format!("<p><a href=\"{}\" {REL} style=\"{BUTTON}\">{}</a></p>", escape(url), fixed(label)));
        } else {
            self.html.push_str(&format!("<p>{}: {}</p>", fixed(label), escape(url)));
        }
    }

    /// `Key: value` lines in text (a value's later lines indented under its first), a
    /// two-column table in HTML; `rows` adds them with [`Facts::row`].
    pub fn facts(&mut self, rows: impl FnOnce(&mut Facts)) {
        self.block();
        self.html.push_str(TABLE);
        rows(&mut Facts(self));
        self.html.push_str("</table>");
    }

    /// `title (summary):` over one line a row in text; in HTML a table captioned
    /// `title: summary` with a header row. `rows` adds them with [`Rows::row`].
    pub fn table(&mut self, title: &'static str, summary: &[Inline], columns: &[Column], rows: impl FnOnce(&mut Rows)) {
        self.block();
        self.text.push_str(&format!("{title} ("));
        self.html.push_str(&format!("{TABLE}<caption style=\"text-align:left;font-weight:bold\">{}: ", fixed(title)));
        self.inline(summary, "");
        self.text.push_str("):\n");
        self.html.push_str("</caption><tr>");
        for column in columns {
            self.html.push_str(&format!("<th {CELL}>{}</th>", fixed(column.head)));
        }
        self.html.push_str("</tr>");
        rows(&mut Rows { body: self, columns });
        self.html.push_str("</table>");
    }
}

/// The rows of [`Body::facts`].
pub struct Facts<'b>(&'b mut Body);

impl Facts<'_> {
    pub fn row(&mut self, key: &'static str, value: &[Inline]) {
        let body = &mut *self.0;
        body.text.push_str(&format!("{key}: "));
        body.html.push_str(&format!("<tr><th {CELL}>{}</th><td {CELL}>", fixed(key)));
        body.inline(value, &" ".repeat(key.len() + 2));
        body.text.push('\n');
        body.html.push_str("</td></tr>");
    }
}

/// The rows of [`Body::table`].
pub struct Rows<'b> {
    body: &'b mut Body,
    columns: &'b [Column],
}

impl Rows<'_> {
    /// One piece a column.
    pub fn row(&mut self, cells: &[Inline]) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.body.html.push_str("<tr>");
        for (column, cell) in self.columns.iter().zip(cells) {
            self.body.text.push_str(column.text_before);
            self.body.html.push_str(&format!("<td {CELL}>"));
            cell.write(self.body, "");
            self.body.html.push_str("</td>");
        }
        self.body.text.push('\n');
        self.body.html.push_str("</tr>");
    }
}

#[cfg(test)]
mod tests {
    use super::Inline::*;
    use super::*;

    fn origins() -> Vec<String> {
        vec!["https://shop.test".into()]
    }

    /// Every method, with `v` in every place a value can go; `url` is a link target.
    fn every_method(v: &str, url: &str) -> (String, String) {
        let origins = origins();
        let mut b = Body::new();
        b.paragraph(&[Fixed("Say: "), Value(v), Bold(v), Muted(v), Link { url, label: v, origins: &origins }, Link { url: v, label: v, origins: &origins }]);
        b.line(&[Value(v), Break, Value(v)]);
        b.note(&[Value(v)]);
        b.message(Some(v), v, v);
        b.message(None, v, v);
        b.button("Open", url);
        b.facts(|f| {
            f.row("Page", &[Link { url, label: v, origins: &origins }, Break, Muted(v)]);
            f.row("Language", &[Value(v)]);
        });
        let columns = [Column { head: "Qty", text_before: "  " }, Column { head: "Item", text_before: " x " }];
        b.table("Cart", &[Value(v)], &columns, |rows| {
            rows.row(&[Value(v), Link { url, label: v, origins: &origins }]);
            rows.row(&[Bold(v), Muted(v)]);
        });
        b.finish()
    }

    /// The writer's whole promise: a value shows as is in text and exactly as `escape` renders
    /// it in HTML (message bodies also turn line breaks into `<br>`), wherever it goes. The
    /// same body with a placeholder, the placeholder replaced, is byte for byte the same.
    #[test]
    fn a_hostile_value_is_as_is_in_text_and_escaped_in_html_everywhere() {
        let corpus: Vec<String> = serde_json::from_str(include_str!("../../../tests/corpus/hostile.json")).unwrap();
        const P: &str = "PLACEHOLDER";
        let url = "https://shop.test/page";
        let (text_p, html_p) = every_method(P, url);
        assert!(html_p.contains(&format!("<a href=\"{url}\" rel=\"noopener noreferrer\">{P}</a>")), "{html_p}");
        for s in &corpus {
            let (text, html) = every_method(s, url);
            assert_eq!(text, text_p.replace(P, s), "{s:?}");
            let lines = escape(s).replace("\r\n", "\n").replace('\n', "<br>");
            assert_eq!(html.replace(&escape(s), &lines), html_p.replace(P, &lines), "{s:?}");
        }
    }

    #[test]
    fn links_go_to_the_site_only_and_their_urls_are_escaped() {
        let hostile = "https://shop.test/\"><script>alert(1)</script>'&";
        let (text, html) = every_method("x", hostile);
        assert!(text.contains(&format!("Open: {hostile}\n")), "{text}");
        assert!(!html.contains("<script") && !html.contains("shop.test/\""), "{html}");
        assert!(html.contains("href=\"https://shop.test/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#39;&amp;\""), "{html}");
        // Inline links check the site; the button, whose URL the caller builds on the site,
        // checks only that it is http(s).
        for (off, buttons) in [("javascript:alert(1)", 0), ("//shop.test/", 0), ("https://shop.test/ x", 0), ("https://evil.test/", 1)] {
            let (text, html) = every_method("x", off);
            assert_eq!(html.matches("href").count(), buttons, "{off}: {html}");
            assert!(text.contains(&format!("Open: {off}\n")), "{off}: {text}");
        }
    }

    #[test]
    fn text_blocks_are_separated_by_one_blank_line() {
        let mut b = Body::new();
        b.note(&[Fixed("marker")]);
        b.message(Some("Ana"), "10:42", "Hi\nthere");
        b.button("Open", "https://shop.test/");
        b.line(&[Fixed("or reply")]);
        b.facts(|f| f.row("Page", &[Value("Title"), Break, Value("https://shop.test/")]));
        let columns = [Column { head: "Qty", text_before: "  " }, Column { head: "Item", text_before: " x " }];
        b.table("Cart", &[Value("3 items")], &columns, |rows| rows.row(&[Value("3"), Value("Socks")]));
        let (text, html) = b.finish();
        assert_eq!(
            text,
            "marker\n\nAna [10:42]:\nHi\nthere\n\nOpen: https://shop.test/\nor reply\n\nPage: Title\n      https://shop.test/\n\nCart (3 items):\n  3 x Socks\n"
        );
        assert!(html.starts_with(HEAD) && html.ends_with(TAIL));
        assert!(html.contains("<caption style=\"text-align:left;font-weight:bold\">Cart: 3 items</caption><tr><th"));
    }
}
