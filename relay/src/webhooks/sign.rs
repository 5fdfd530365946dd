//! Standard Webhooks signatures: the signed content is `{id}.{timestamp}.{body}`, the key is
//! the bytes after `whsec_` (base64), the signature `v1,<base64 HMAC-SHA256>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Random bytes in a secret (the specification allows 24 to 64).
pub const SECRET_BYTES: usize = 32;

/// A secret as the endpoint's owner copies it: `whsec_` and the key in base64.
pub fn secret_text(key: &[u8]) -> String {
    format!("whsec_{}", STANDARD.encode(key))
}

/// The key inside a `whsec_` secret.
pub fn key_of(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix("whsec_")?).ok().filter(|k| !k.is_empty())
}

/// The three headers of one delivery attempt: `webhook-id`, `webhook-timestamp` (seconds)
/// and `webhook-signature`.
pub fn headers(key: &[u8], id: &str, timestamp: u64, body: &str) -> [(&'static str, String); 3] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    [("webhook-id", id.to_owned()), ("webhook-timestamp", timestamp.to_string()), ("webhook-signature", format!("v1,{signature}"))]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the specification's reference libraries (standard-webhooks,
    /// `libraries/javascript/src/index.test.ts`): this secret, id, timestamp and payload
    /// sign to this signature.
    #[test]
    fn the_specifications_example_signs_the_same() {
        let key = key_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let [id, ts, sig] = headers(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, r#"{"test": 2432232314}"#);
        assert_eq!(id.1, "msg_p5jXN8AQM9LWM0D4loKWxJek");
        assert_eq!(ts.1, "1614265330");
        assert_eq!(sig.1, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_round_trip_and_bad_ones_are_refused() {
        let key = [7u8; SECRET_BYTES];
        assert_eq!(key_of(&secret_text(&key)).unwrap(), key);
        assert!(key_of("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_none());
        assert!(key_of("whsec_").is_none());
        assert!(key_of("whsec_!!").is_none());
    }
}
