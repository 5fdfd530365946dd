//! Signed customer identity: a shop with customer accounts tells the widget who is signed in
//! (`Pigeon('identify', {id, signature, email?, name?})`), and its own server signs the id
//! with the site's identity secret: `signature` = lowercase hex of HMAC-SHA256(secret, id),
//! the scheme of Intercom's `user_hash` and Crisp's verified identities. Only the id is
//! signed; `email` and `name` ride along as the page gives them (shown to the team, never
//! trusted to open anything). A verified customer finds their latest conversation on any
//! device; a wrong signature never attaches anything to a customer.

use serde::{Deserialize, Serialize};

use crate::validate::{Checked, Invalid};

/// Every identity secret starts so (secret scanners and people can tell it apart).
pub const SECRET_PREFIX: &str = "pgn_id_";
/// The longest customer id accepted, in bytes (shops' ids are numbers, UUIDs, emails).
pub const MAX_CUSTOMER_ID: usize = 200;
pub const MAX_CUSTOMER_NAME: usize = 200;
pub const MAX_CUSTOMER_EMAIL: usize = 254;

/// What the page says about its signed-in customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The shop's own id for the customer: what is signed.
    pub id: String,
    /// Lowercase hex HMAC-SHA256 of `id` under the site's identity secret.
    pub signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A conversation this browser holds: its id and token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub id: String,
    pub token: String,
}

/// `POST /v1/sites/{site}/identify`: who is signed in, and the conversation this browser
/// holds (if any), which becomes the customer's when it is nobody's yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identify {
    pub customer: Customer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Held>,
}

/// `200` answer to [`Identify`]: the conversation this browser holds for the customer from
/// now on, and its token for this browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identified {
    pub conversation: crate::Conversation,
    pub token: String,
    /// The conversation the browser held was another customer's (a shared computer): its
    /// unsent messages and draft are not this customer's either.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held_another_customers: bool,
}

/// A verified customer as the team sees them (no signature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerInfo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `GET /v1/inbox/sites/{site}/identity` (owners): whether identity is on, and since when.
/// The secret itself is shown only by `POST` (made or made anew).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitySettings {
    pub enabled: bool,
    /// When the current secret was made.
    pub created_at: Option<String>,
    /// The secret, only in the answer to `POST` (this once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn printable(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// Checks what the page gave; `email` and `name` are trimmed, blank ones dropped.
pub fn customer(c: &Customer) -> Checked<Customer> {
    if c.id.is_empty() || c.id.len() > MAX_CUSTOMER_ID || !printable(&c.id) || c.id.trim() != c.id {
        return Err(Invalid::new("invalid_customer", format!("The customer's `id` is 1 to {MAX_CUSTOMER_ID} bytes, one line, without spaces around it.")));
    }
    if c.signature.len() != 64 || !c.signature.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(Invalid::new("invalid_signature", "`signature` is the lowercase hex HMAC-SHA256 of the customer's id under the site's identity secret (64 characters)."));
    }
    let email = c.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    if email.is_some_and(|e| e.len() > MAX_CUSTOMER_EMAIL || !printable(e) || !e.contains('@') || e.contains(char::is_whitespace)) {
        return Err(Invalid::new("invalid_customer", "The customer's `email` is an email address."));
    }
    let name = c.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.len() > MAX_CUSTOMER_NAME || !printable(n)) {
        return Err(Invalid::new("invalid_customer", format!("The customer's `name` is one line of at most {MAX_CUSTOMER_NAME} bytes.")));
    }
    Ok(Customer { id: c.id.clone(), signature: c.signature.clone(), email: email.map(str::to_owned), name: name.map(str::to_owned) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(id: &str) -> Customer {
        Customer { id: id.into(), signature: "a".repeat(64), email: None, name: None }
    }

    #[test]
    fn ids_are_one_line_and_bounded() {
        assert!(customer(&who("42")).is_ok());
        assert!(customer(&who("ada@example.com")).is_ok());
        assert!(customer(&who(&"x".repeat(MAX_CUSTOMER_ID))).is_ok());
        for bad in ["", " 42", "42 ", "4\n2", &"x".repeat(MAX_CUSTOMER_ID + 1)] {
            assert_eq!(customer(&who(bad)).unwrap_err().code, "invalid_customer", "{bad:?}");
        }
    }

    #[test]
    fn signatures_are_lowercase_hex_sha256() {
        for bad in ["", "A".repeat(64).as_str(), &"a".repeat(63), &"g".repeat(64), &"a".repeat(65)] {
            let c = Customer { signature: bad.into(), ..who("42") };
            assert_eq!(customer(&c).unwrap_err().code, "invalid_signature", "{bad:?}");
        }
    }

    #[test]
    fn email_and_name_are_trimmed_and_blank_ones_dropped() {
        let c = customer(&Customer { email: Some("  ada@example.com ".into()), name: Some("   ".into()), ..who("42") }).unwrap();
        assert_eq!(c.email.as_deref(), Some("ada@example.com"));
        assert_eq!(c.name, None);
        assert!(customer(&Customer { email: Some("not an address".into()), ..who("42") }).is_err());
        assert!(customer(&Customer { name: Some("a\nb".into()), ..who("42") }).is_err());
    }

    #[test]
    fn the_wire_shape() {
        let body: Identify = serde_json::from_str(r#"{"customer":{"id":"42","signature":"ab"},"conversation":{"id":"c","token":"t"}}"#).unwrap();
        assert_eq!(body.customer.email, None);
        assert_eq!(body.conversation, Some(Held { id: "c".into(), token: "t".into() }));
        assert!(serde_json::from_str::<Identify>(r#"{"customer":{"id":"42"}}"#).is_err());
    }
}
