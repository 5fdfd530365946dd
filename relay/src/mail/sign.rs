//! Signed values the relay hands out by email and takes back later: per-conversation reply
//! addresses and resume tokens. Both are HMAC-SHA256 under the relay's `MAIL_SECRET`, so they
//! cannot be guessed, forged or moved to another conversation or role.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use pigeon_protocol::validate;

/// Hex digits of the MAC kept in a reply address: 88 bits, and the local part stays within
/// 64 characters (`reply+` 6, id 32, `.` 1, role 1, signature 22).
const REPLY_SIG_HEX: usize = 22;
/// Hex digits of the MAC kept in a resume token: 128 bits.
const RESUME_SIG_HEX: usize = 32;

/// Who may write to a reply address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The site's merchant address: lands as an agent message.
    Merchant,
    /// The shopper's contact address: lands as a shopper message.
    Shopper,
}

impl Role {
    /// `m` or `s`: in reply addresses and in our Message-IDs.
    pub fn letter(self) -> char {
        match self {
            Role::Merchant => 'm',
            Role::Shopper => 's',
        }
    }
}

/// Why a signed value was refused. Deliberately coarse: a forger learns nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not one of ours, or altered.
    Forged,
    /// A resume token past its expiry.
    Expired,
}

fn mac_hex(secret: &[u8], parts: &[&str], digits: usize) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    for part in parts {
        // Length-prefixed, so ("ab", "c") and ("a", "bc") never sign the same bytes.
        mac.update(&(part.len() as u32).to_be_bytes());
        mac.update(part.as_bytes());
    }
    let mut out = hex::encode(mac.finalize().into_bytes());
    out.truncate(digits);
    out
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// `reply+<conversation>.<role><signature>@<domain>`.
pub fn reply_address(secret: &[u8], conversation: &str, role: Role, domain: &str) -> String {
    let letter = role.letter().to_string();
    let sig = mac_hex(secret, &["reply", conversation, &letter], REPLY_SIG_HEX);
    format!("reply+{conversation}.{letter}{sig}@{domain}")
}

/// The conversation and role a reply address stands for, if it is genuine and for `domain`.
/// Case-insensitive, since mail systems may change the case of addresses.
pub fn check_reply_address(secret: &[u8], address: &str, domain: &str) -> Result<(String, Role), Refused> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>').to_ascii_lowercase();
    let (local, at) = address.rsplit_once('@').ok_or(Refused::Forged)?;
    if !at.eq_ignore_ascii_case(domain) {
        return Err(Refused::Forged);
    }
    let rest = local.strip_prefix("reply+").ok_or(Refused::Forged)?;
    let (conversation, signed) = rest.split_once('.').ok_or(Refused::Forged)?;
    if !validate::conversation_id(conversation) || signed.len() != 1 + REPLY_SIG_HEX {
        return Err(Refused::Forged);
    }
    let role = match signed.as_bytes()[0] {
        b'm' => Role::Merchant,
        b's' => Role::Shopper,
        _ => return Err(Refused::Forged),
    };
    let expected = mac_hex(secret, &["reply", conversation, &role.letter().to_string()], REPLY_SIG_HEX);
    if same(&signed[1..], &expected) { Ok((conversation.to_owned(), role)) } else { Err(Refused::Forged) }
}

/// `<conversation>.<expires, unix seconds>.<signature>`: opens the conversation in any
/// browser until it expires. Safe in a URL fragment as is.
pub fn resume_token(secret: &[u8], conversation: &str, expires_at: u64) -> String {
    let expires = expires_at.to_string();
    let sig = mac_hex(secret, &["resume", conversation, &expires], RESUME_SIG_HEX);
    format!("{conversation}.{expires}.{sig}")
}

/// The conversation a token names, without checking it: to find the site (for CORS) before
/// the signature is checked with [`check_resume_token`].
pub fn resume_conversation(token: &str) -> Option<&str> {
    let (conversation, _) = token.split_once('.')?;
    validate::conversation_id(conversation).then_some(conversation)
}

/// The conversation a genuine, unexpired token opens. `now` is unix seconds.
pub fn check_resume_token(secret: &[u8], token: &str, now: u64) -> Result<String, Refused> {
    check_expiring(secret, "resume", token, 0, now).map(|(conversation, _)| conversation.to_owned())
}

/// A genuine, unexpired `<conversation>.<number>×numbers.<expires>.<signature>` token of
/// `kind` (the kind is signed too, so one kind never passes as another): its conversation and
/// numbers. Every number is 1 to 12 digits.
fn check_expiring<'t>(secret: &[u8], kind: &str, token: &'t str, numbers: usize, now: u64) -> Result<(&'t str, Vec<u64>), Refused> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != numbers + 3 {
        return Err(Refused::Forged);
    }
    let (conversation, signed, sig) = (parts[0], &parts[1..=numbers + 1], parts[numbers + 2]);
    let digits = |s: &&str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
    if !validate::conversation_id(conversation) || !signed.iter().all(digits) {
        return Err(Refused::Forged);
    }
    let mut macced = vec![kind, conversation];
    macced.extend_from_slice(signed);
    if !same(sig, &mac_hex(secret, &macced, RESUME_SIG_HEX)) {
        return Err(Refused::Forged);
    }
    // The signature holds, so the numbers are ours.
    let values: Vec<u64> = signed.iter().map(|n| n.parse().map_err(|_| Refused::Forged)).collect::<Result<_, _>>()?;
    let (expires, rest) = values.split_last().ok_or(Refused::Forged)?;
    if now >= *expires { Err(Refused::Expired) } else { Ok((conversation, rest.to_vec())) }
}

/// `<conversation>.<ask>.<expires, unix seconds>.<signature>`: the closing email's rating
/// links answer ask `ask` (the close's rating row) of the conversation until it expires.
pub fn rating_token(secret: &[u8], conversation: &str, ask: i64, expires_at: u64) -> String {
    let (ask, expires) = (ask.to_string(), expires_at.to_string());
    let sig = mac_hex(secret, &["rating", conversation, &ask, &expires], RESUME_SIG_HEX);
    format!("{conversation}.{ask}.{expires}.{sig}")
}

/// The conversation and ask a genuine, unexpired rating token answers. `now` is unix seconds.
pub fn check_rating_token(secret: &[u8], token: &str, now: u64) -> Result<(String, i64), Refused> {
    let (conversation, numbers) = check_expiring(secret, "rating", token, 1, now)?;
    let ask = i64::try_from(numbers[0]).map_err(|_| Refused::Forged)?;
    Ok((conversation.to_owned(), ask))
}

/// The signature of a link to one file that works without signing in until `expires_at`
/// (unix seconds): `GET /v1/files/{conversation}/{file}?expires={expires_at}&sig={this}`, in
/// notification emails.
pub fn file_signature(secret: &[u8], conversation: &str, file: &str, expires_at: u64) -> String {
    mac_hex(secret, &["file", conversation, file, &expires_at.to_string()], RESUME_SIG_HEX)
}

/// Whether a file link is genuine and unexpired. `now` is unix seconds.
pub fn check_file_signature(secret: &[u8], conversation: &str, file: &str, expires_at: u64, sig: &str, now: u64) -> Result<(), Refused> {
    if !same(sig, &file_signature(secret, conversation, file, expires_at)) {
        return Err(Refused::Forged);
    }
    if now >= expires_at { Err(Refused::Expired) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &[u8] = b"test secret";
    const CONV: &str = "0123456789abcdef0123456789abcdef";
    const DOMAIN: &str = "reply.pigeon.test";

    #[test]
    fn reply_addresses_round_trip_and_fit_in_a_local_part() {
        for role in [Role::Merchant, Role::Shopper] {
            let addr = reply_address(KEY, CONV, role, DOMAIN);
            assert!(addr.split('@').next().unwrap().len() <= 64, "{addr}");
            assert_eq!(check_reply_address(KEY, &addr, DOMAIN), Ok((CONV.to_owned(), role)));
            assert_eq!(check_reply_address(KEY, &addr.to_uppercase(), DOMAIN), Ok((CONV.to_owned(), role)));
            assert_eq!(check_reply_address(KEY, &format!("<{addr}>"), DOMAIN), Ok((CONV.to_owned(), role)));
        }
    }

    #[test]
    fn file_links_name_one_file_until_they_expire() {
        let sig = file_signature(KEY, CONV, "f1", 1_000);
        assert_eq!(check_file_signature(KEY, CONV, "f1", 1_000, &sig, 999), Ok(()));
        assert_eq!(check_file_signature(KEY, CONV, "f1", 1_000, &sig, 1_000), Err(Refused::Expired));
        assert_eq!(check_file_signature(KEY, CONV, "f2", 1_000, &sig, 999), Err(Refused::Forged));
        assert_eq!(check_file_signature(KEY, CONV, "f1", 2_000, &sig, 999), Err(Refused::Forged));
        assert_eq!(check_file_signature(b"other", CONV, "f1", 1_000, &sig, 999), Err(Refused::Forged));
        assert_eq!(check_file_signature(KEY, CONV, "f1", 1_000, "", 999), Err(Refused::Forged));
    }

    #[test]
    fn reply_addresses_do_not_move() {
        let merchant = reply_address(KEY, CONV, Role::Merchant, DOMAIN);
        // Same signature, other role: the shopper cannot post as the merchant.
        let swapped = merchant.replacen(".m", ".s", 1);
        assert_eq!(check_reply_address(KEY, &swapped, DOMAIN), Err(Refused::Forged));
        // Same signature, other conversation.
        let other = merchant.replacen(CONV, "1123456789abcdef0123456789abcdef", 1);
        assert_eq!(check_reply_address(KEY, &other, DOMAIN), Err(Refused::Forged));
        // Other key, other domain.
        assert_eq!(check_reply_address(b"other", &merchant, DOMAIN), Err(Refused::Forged));
        assert_eq!(check_reply_address(KEY, &merchant, "evil.test"), Err(Refused::Forged));
        // Truncated, extended, empty.
        assert_eq!(check_reply_address(KEY, &merchant.replacen("@", "0@", 1), DOMAIN), Err(Refused::Forged));
        let cut = merchant.replacen(&merchant[merchant.find('@').unwrap() - 1..merchant.find('@').unwrap()], "", 1);
        assert_eq!(check_reply_address(KEY, &cut, DOMAIN), Err(Refused::Forged));
        for junk in ["", "@", "reply+@reply.pigeon.test", "merchant@shop.test", "reply+.m@reply.pigeon.test"] {
            assert_eq!(check_reply_address(KEY, junk, DOMAIN), Err(Refused::Forged), "{junk}");
        }
    }

    #[test]
    fn rating_tokens_name_their_ask_expire_and_cannot_be_edited() {
        let t = rating_token(KEY, CONV, 3, 1_000);
        assert_eq!(check_rating_token(KEY, &t, 999), Ok((CONV.to_owned(), 3)));
        assert_eq!(check_rating_token(KEY, &t, 1_000), Err(Refused::Expired));
        assert_eq!(check_rating_token(b"other secret", &t, 0), Err(Refused::Forged));
        let other_ask = t.replacen(".3.", ".4.", 1);
        assert_eq!(check_rating_token(KEY, &other_ask, 0), Err(Refused::Forged));
        // A resume token's signature never passes as a rating token's (and back).
        let resume = resume_token(KEY, CONV, 1_000);
        assert_eq!(check_rating_token(KEY, &resume, 0), Err(Refused::Forged));
        assert_eq!(check_resume_token(KEY, &t, 0), Err(Refused::Forged));
        for bad in ["", "...", &format!("{CONV}.-1.1000.{}", &t[t.len() - 32..]), &format!("{t}.x")] {
            assert_eq!(check_rating_token(KEY, bad, 0), Err(Refused::Forged), "{bad}");
        }
    }

    #[test]
    fn resume_tokens_expire_and_cannot_be_edited() {
        let token = resume_token(KEY, CONV, 2_000);
        assert_eq!(resume_conversation(&token), Some(CONV));
        assert_eq!(check_resume_token(KEY, &token, 1_999), Ok(CONV.to_owned()));
        assert_eq!(check_resume_token(KEY, &token, 2_000), Err(Refused::Expired));
        // Extending the expiry breaks the signature.
        let extended = token.replacen(".2000.", ".9000.", 1);
        assert_eq!(check_resume_token(KEY, &extended, 1_000), Err(Refused::Forged));
        assert_eq!(check_resume_token(b"other", &token, 1_000), Err(Refused::Forged));
        for junk in ["", "..", CONV, &format!("{token}.x"), &format!("{CONV}.+2000.{}", &token[token.len() - 32..])] {
            assert_eq!(check_resume_token(KEY, junk, 1_000), Err(Refused::Forged), "{junk}");
        }
    }

    proptest! {
        /// Any change to a genuine address or token is refused.
        #[test]
        fn any_edit_is_refused(pos in 0usize..64, replacement in "[a-z0-9.+@]") {
            let addr = reply_address(KEY, CONV, Role::Merchant, DOMAIN);
            let mut edited: Vec<char> = addr.chars().collect();
            let i = pos % edited.len();
            let c = replacement.chars().next().unwrap();
            prop_assume!(edited[i] != c);
            edited[i] = c;
            let edited: String = edited.into_iter().collect();
            prop_assert!(check_reply_address(KEY, &edited, DOMAIN).is_err());

            let token = resume_token(KEY, CONV, 5_000);
            let mut edited: Vec<char> = token.chars().collect();
            let i = pos % edited.len();
            prop_assume!(edited[i] != c);
            edited[i] = c;
            let edited: String = edited.into_iter().collect();
            prop_assert!(check_resume_token(KEY, &edited, 1).is_err());
        }

        #[test]
        fn random_strings_are_never_accepted(s in "\\PC{0,80}") {
            prop_assert!(check_reply_address(KEY, &s, DOMAIN).is_err());
            prop_assert!(check_resume_token(KEY, &s, 1).is_err());
        }
    }
}
