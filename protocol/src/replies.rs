//! Saved replies: a site's ready answers, picked in the inbox's composer by typing `/` and a
//! shortcut, with `{{variables}}` filled from the open conversation. Managed by the site's
//! owners (`/v1/inbox/sites/{site}/replies`), used by every teammate.
//!
//! The template rules live here, for both ends: the relay refuses a template naming an
//! unknown variable, the inbox fills one, and a value it does not have stays in the text as a
//! visible marker (`[shopper's name?]`) that must be replaced before the reply can be sent.

use serde::{Deserialize, Serialize};

use crate::validate::{self, Checked, Invalid};

/// `GET /v1/inbox/sites/{site}/replies`, by shortcut; changes answer the new list too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedReplies {
    pub replies: Vec<SavedReply>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedReply {
    pub id: String,
    /// Typed after `/` in the composer: `a-z`, `0-9`, `-`, `_`.
    pub shortcut: String,
    pub body: String,
    /// The teammate (address) who saved it last, and when.
    pub updated_by: String,
    pub updated_at: String,
}

/// `POST .../replies` (new) and `PUT .../replies/{id}` (changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutSavedReply {
    pub shortcut: String,
    pub body: String,
}

pub const MAX_SHORTCUT_CHARS: usize = 32;
/// Saved replies per site.
pub const MAX_SAVED_REPLIES: usize = 200;

/// What a template may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variable {
    ShopperName,
    ShopperEmail,
    PageTitle,
    PageUrl,
    CartTotal,
    AgentName,
    SiteName,
}

impl Variable {
    pub const ALL: [Variable; 7] =
        [Variable::ShopperName, Variable::ShopperEmail, Variable::PageTitle, Variable::PageUrl, Variable::CartTotal, Variable::AgentName, Variable::SiteName];

    /// As written between `{{` and `}}`.
    pub fn name(self) -> &'static str {
        match self {
            Variable::ShopperName => "shopper.name",
            Variable::ShopperEmail => "shopper.email",
            Variable::PageTitle => "page.title",
            Variable::PageUrl => "page.url",
            Variable::CartTotal => "cart.total",
            Variable::AgentName => "agent.name",
            Variable::SiteName => "site.name",
        }
    }

    /// For a person: what the value is.
    pub fn label(self) -> &'static str {
        match self {
            Variable::ShopperName => "shopper's name",
            Variable::ShopperEmail => "shopper's email",
            Variable::PageTitle => "page title",
            Variable::PageUrl => "page address",
            Variable::CartTotal => "cart total",
            Variable::AgentName => "your name",
            Variable::SiteName => "shop name",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Variable::ALL.into_iter().find(|v| v.name() == name)
    }

    /// What stands in the text for a value that is not known.
    pub fn marker(self) -> String {
        format!("[{}?]", self.label())
    }
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Var(Variable),
}

/// A template's pieces: `{{ name }}` (spaces allowed inside) is a variable; a `{{` without
/// its `}}` is text. Refuses a variable it does not know, naming the ones it does.
pub fn parse(template: &str) -> Checked<Vec<Piece<'_>>> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open + 2..].find("}}") else { break };
        let name = rest[open + 2..open + 2 + close].trim();
        let var = Variable::parse(name).ok_or_else(|| {
            let known: Vec<String> = Variable::ALL.iter().map(|v| format!("{{{{{}}}}}", v.name())).collect();
            let shown: String = name.chars().take(40).collect();
            Invalid::new("unknown_variable", format!("{{{{{shown}}}}} is not a variable; use {}.", known.join(", ")))
        })?;
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        pieces.push(Piece::Var(var));
        rest = &rest[open + 2 + close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// A template filled in for one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    pub text: String,
    /// Variables without a value: their markers are in `text`.
    pub missing: Vec<Variable>,
}

/// Fills `template` with `value`; a variable without one gets its marker. A template that
/// does not parse (saved before a variable was retired) is used as it is.
pub fn fill(template: &str, value: impl Fn(Variable) -> Option<String>) -> Filled {
    let Ok(pieces) = parse(template) else { return Filled { text: template.to_owned(), missing: vec![] } };
    let mut filled = Filled { text: String::new(), missing: vec![] };
    for piece in pieces {
        match piece {
            Piece::Text(t) => filled.text.push_str(t),
            Piece::Var(v) => match value(v).filter(|s| !s.trim().is_empty()) {
                Some(s) => filled.text.push_str(&s),
                None => {
                    filled.text.push_str(&v.marker());
                    if !filled.missing.contains(&v) {
                        filled.missing.push(v);
                    }
                }
            },
        }
    }
    filled
}

/// A saved reply as given, checked: the shortcut trimmed, without a leading `/`, in lowercase;
/// the body a message's rules, every variable known.
pub fn saved_reply(input: &PutSavedReply) -> Checked<PutSavedReply> {
    let shortcut = input.shortcut.trim().trim_start_matches('/').to_lowercase();
    let ok = !shortcut.is_empty()
        && shortcut.chars().count() <= MAX_SHORTCUT_CHARS
        && shortcut.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        return Err(Invalid::new("invalid_shortcut", format!("A shortcut is 1 to {MAX_SHORTCUT_CHARS} letters a-z, digits, '-' or '_'.")));
    }
    let body = validate::body(&input.body)?;
    parse(&body)?;
    Ok(PutSavedReply { shortcut, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_filled_and_missing_ones_marked() {
        let t = "Hi {{ shopper.name }}, your cart ({{cart.total}}) is saved. — {{agent.name}}, {{site.name}} {{shopper.name}}";
        let f = fill(t, |v| match v {
            Variable::CartTotal => Some("€59.99".into()),
            Variable::AgentName => Some("Olivia".into()),
            Variable::SiteName => Some("Pigeon Outfitters".into()),
            Variable::ShopperName => Some("  ".into()),
            _ => None,
        });
        assert_eq!(f.text, "Hi [shopper's name?], your cart (€59.99) is saved. — Olivia, Pigeon Outfitters [shopper's name?]");
        assert_eq!(f.missing, [Variable::ShopperName]);
    }

    #[test]
    fn unknown_variables_are_refused_and_braces_alone_are_text() {
        let e = parse("Hello {{customer.name}}").unwrap_err();
        assert_eq!(e.code, "unknown_variable");
        assert!(e.message.starts_with("{{customer.name}} is not a variable; use {{shopper.name}}"), "{}", e.message);
        assert_eq!(parse("a {{ b").unwrap(), [Piece::Text("a {{ b")]);
        assert_eq!(parse("{{page.url}}}").unwrap(), [Piece::Var(Variable::PageUrl), Piece::Text("}")]);
        assert_eq!(parse("").unwrap(), []);
        for v in Variable::ALL {
            assert_eq!(Variable::parse(v.name()), Some(v));
        }
    }

    #[test]
    fn shortcuts_are_checked() {
        let ok = saved_reply(&PutSavedReply { shortcut: " /Shipping-EU ".into(), body: " Ships in {{page.title}} ".into() }).unwrap();
        assert_eq!((ok.shortcut.as_str(), ok.body.as_str()), ("shipping-eu", "Ships in {{page.title}}"));
        for bad in ["", "/", "two words", "ü", &"x".repeat(33)] {
            let e = saved_reply(&PutSavedReply { shortcut: bad.into(), body: "x".into() }).unwrap_err();
            assert_eq!(e.code, "invalid_shortcut", "{bad:?}");
        }
        assert_eq!(saved_reply(&PutSavedReply { shortcut: "a".into(), body: " ".into() }).unwrap_err().code, "empty_message");
        assert_eq!(saved_reply(&PutSavedReply { shortcut: "a".into(), body: "{{nope}}".into() }).unwrap_err().code, "unknown_variable");
    }
}
