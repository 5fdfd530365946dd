//! Secrets: minted from the platform's CSPRNG, stored only as SHA-256, compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wasm_bindgen::JsCast;

/// Bytes `crypto.getRandomValues` gave, not handed out yet: filled a kilobyte at a time, so a
/// message id is not a call into the runtime each.
struct Pool {
    bytes: [u8; POOL_BYTES],
    used: usize,
}

/// `getRandomValues` gives at most 64 KiB per call; a kilobyte is 85 message ids.
const POOL_BYTES: usize = 1024;

thread_local! {
    static POOL: std::cell::RefCell<Pool> = const { std::cell::RefCell::new(Pool { bytes: [0; POOL_BYTES], used: POOL_BYTES }) };
}

/// `n` random bytes from `crypto.getRandomValues` (through the pool; each byte is handed out
/// once).
pub fn random_bytes<const N: usize>() -> crate::Result<[u8; N]> {
    const { assert!(N <= POOL_BYTES) };
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.used + N > POOL_BYTES {
            let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
                .map_err(|_| crate::Error::Internal("no crypto global".into()))?
                .unchecked_into::<web_sys::Crypto>();
            crypto
                .get_random_values_with_u8_array(&mut pool.bytes)
                .map_err(|_| crate::Error::Internal("getRandomValues failed".into()))?;
            pool.used = 0;
        }
        let mut out = [0u8; N];
        let at = pool.used;
        out.copy_from_slice(&pool.bytes[at..at + N]);
        // Handed out once: wiped from the pool.
        pool.bytes[at..at + N].fill(0);
        pool.used += N;
        Ok(out)
    })
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
