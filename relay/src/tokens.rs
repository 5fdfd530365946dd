//! Secrets: minted from the platform's CSPRNG, stored only as SHA-256, compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wasm_bindgen::JsCast;

/// `n` random bytes from `crypto.getRandomValues`.
pub fn random_bytes<const N: usize>() -> crate::Result<[u8; N]> {
    let mut buf = [0u8; N];
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
        .map_err(|_| crate::Error::Internal("no crypto global".into()))?
        .unchecked_into::<web_sys::Crypto>();
    crypto
        .get_random_values_with_u8_array(&mut buf)
        .map_err(|_| crate::Error::Internal("getRandomValues failed".into()))?;
    Ok(buf)
}

/// A fresh conversation id: 128 random bits as 32 hex digits.
pub fn new_conversation_id() -> crate::Result<String> {
    Ok(hex::encode(random_bytes::<16>()?))
}

/// A fresh conversation token: 256 random bits, shown once to the shopper's browser.
pub fn new_token() -> crate::Result<String> {
    Ok(hex::encode(random_bytes::<32>()?))
}

/// A fresh message id.
pub fn new_message_id() -> crate::Result<String> {
    Ok(format!("m_{}", hex::encode(random_bytes::<12>()?)))
}

/// A fresh internal note id.
pub fn new_note_id() -> crate::Result<String> {
    Ok(format!("n_{}", hex::encode(random_bytes::<12>()?)))
}

/// A fresh saved reply id.
pub fn new_saved_reply_id() -> crate::Result<String> {
    Ok(format!("r_{}", hex::encode(random_bytes::<12>()?)))
}

/// What is stored instead of a token or key.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Does `secret` hash to `stored`? Constant time in the compared bytes.
pub fn verify(secret: &str, stored_hash: &str) -> bool {
    let computed = hash(secret);
    computed.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_secret() {
        let stored = hash("s3cret");
        assert_eq!(stored.len(), 64);
        assert!(verify("s3cret", &stored));
        assert!(!verify("s3cret ", &stored));
        assert!(!verify("", &stored));
        assert!(!verify("s3cret", ""));
    }
}
