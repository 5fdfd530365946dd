//! Web Push payload encryption: RFC 8291 keys over the RFC 8188 `aes128gcm` content coding.
//!
//! The push service only relays ciphertext: a payload is readable by the one browser whose
//! subscription (`p256dh`, `auth`) it was sealed for. Randomness (the one-off key and the salt)
//! comes from the caller, so this module builds and tests on the host and on wasm32 alike and
//! never needs an OS random source.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Key, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

/// Why a push could not be sealed, opened or signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The subscription's `p256dh` is not a 65-byte uncompressed P-256 point.
    #[error("invalid subscription key")]
    BadSubscriptionKey,
    /// The subscription's `auth` is not 16 bytes.
    #[error("invalid subscription auth secret")]
    BadAuthSecret,
    /// A private key is not a valid P-256 scalar (zero, or not below the group order).
    #[error("invalid private key")]
    BadPrivateKey,
    /// The payload would not fit in one 4096-byte push body.
    #[error("payload longer than {MAX_PLAINTEXT} bytes")]
    TooLarge,
    /// A body that is not ours to open, or was altered.
    #[error("undecryptable push message")]
    #[cfg_attr(not(test), allow(dead_code))]
    Undecryptable,
    /// A VAPID key is not base64url of a 32-byte scalar or a 65-byte uncompressed point.
    #[error("invalid VAPID key")]
    BadVapidKey,
    /// The VAPID public key is not the private key's.
    #[error("VAPID public key does not match the private key")]
    VapidKeyMismatch,
    /// A push endpoint that is not an `https://` or `http://` URL.
    #[error("invalid push endpoint")]
    BadEndpoint,
    /// A VAPID subject that is neither `mailto:` nor `https:`.
    #[error("invalid VAPID subject")]
    BadSubject,
}

/// The record size we announce: RFC 8291 §4 says push services take bodies of 4096 bytes.
pub const RECORD_SIZE: u32 = 4096;
/// salt (16) || rs (4) || idlen (1) || keyid = our 65-byte public key.
const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// The AES-GCM tag closing the record.
const TAG_LEN: usize = 16;
/// Largest payload: header, payload, the 0x02 last-record delimiter and the tag stay within
/// 4096 bytes (4096 - 86 - 1 - 16), the RFC 8291 §4 bound every push service accepts.
pub const MAX_PLAINTEXT: usize = RECORD_SIZE as usize - HEADER_LEN - 1 - TAG_LEN;

/// The whole HTTP body (`Content-Encoding: aes128gcm`) for one subscription.
///
/// `ua_public` and `auth_secret` are the subscription's `p256dh` and `auth`, base64url-decoded.
/// `as_private` must be fresh random bytes for every message (a new ECDH key each time), and
/// `salt` too; a scalar out of range is refused rather than reduced, so the caller draws again.
pub fn encrypt(
    plaintext: &[u8],
    ua_public: &[u8],
    auth_secret: &[u8],
    as_private: &[u8; 32],
    salt: &[u8; 16],
) -> Result<Vec<u8>, PushError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(PushError::TooLarge);
    }
    let ua = subscription_key(ua_public)?;
    check_auth(auth_secret)?;
    let secret = SecretKey::from_bytes(as_private.into()).map_err(|_| PushError::BadPrivateKey)?;
    let as_public = secret.public_key().to_encoded_point(false);
    let ecdh = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), ua.as_affine());
    let (cek, nonce) =
        content_keys(ecdh.raw_secret_bytes(), auth_secret, ua_public, as_public.as_bytes(), salt);

    // One record, so its delimiter is 0x02 ("last record") and no padding is needed.
    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(0x02);
    let sealed = Aes128Gcm::new(Key::<Aes128Gcm>::from_slice(&cek))
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .map_err(|_| PushError::TooLarge)?;

    let mut body = Vec::with_capacity(HEADER_LEN + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// The browser's side of [`encrypt`]: what a service worker would read. Single record only.
#[cfg(test)]
pub fn decrypt(body: &[u8], ua_private: &[u8; 32], ua_public: &[u8], auth_secret: &[u8]) -> Result<Vec<u8>, PushError> {
    subscription_key(ua_public)?;
    check_auth(auth_secret)?;
    let secret = SecretKey::from_bytes(ua_private.into()).map_err(|_| PushError::BadPrivateKey)?;
    let (header, rest) = body.split_at_checked(21).ok_or(PushError::Undecryptable)?;
    let salt: &[u8; 16] = header[..16].try_into().expect("16 bytes");
    let rs = u32::from_be_bytes(header[16..20].try_into().expect("4 bytes")) as usize;
    let (keyid, record) = rest.split_at_checked(usize::from(header[20])).ok_or(PushError::Undecryptable)?;
    if record.len() > rs || record.len() < TAG_LEN + 1 {
        return Err(PushError::Undecryptable);
    }
    let as_public = PublicKey::from_sec1_bytes(keyid).map_err(|_| PushError::Undecryptable)?;
    let ecdh = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), as_public.as_affine());
    let (cek, nonce) = content_keys(ecdh.raw_secret_bytes(), auth_secret, ua_public, keyid, salt);
    let mut plain = Aes128Gcm::new(Key::<Aes128Gcm>::from_slice(&cek))
        .decrypt(Nonce::from_slice(&nonce), record)
        .map_err(|_| PushError::Undecryptable)?;
    // RFC 8188 §2: padding is zeros after the delimiter, and the last record's delimiter is 2.
    while plain.last() == Some(&0) {
        plain.pop();
    }
    match plain.pop() {
        Some(0x02) => Ok(plain),
        _ => Err(PushError::Undecryptable),
    }
}

/// A `p256dh`: RFC 8291 §3.1 puts the uncompressed form in the key info, so only that is taken.
fn subscription_key(ua_public: &[u8]) -> Result<PublicKey, PushError> {
    if ua_public.len() != 65 || ua_public[0] != 0x04 {
        return Err(PushError::BadSubscriptionKey);
    }
    PublicKey::from_sec1_bytes(ua_public).map_err(|_| PushError::BadSubscriptionKey)
}

/// Whether a subscription's `p256dh` (base64url, as the browser gives it) is a point on
/// P-256 that pushes can be sealed for.
pub fn usable_subscription_key(p256dh: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p256dh.trim_end_matches('=')).is_ok_and(|k| subscription_key(&k).is_ok())
}

/// RFC 8291 §3.2: the authentication secret is 16 bytes.
fn check_auth(auth_secret: &[u8]) -> Result<(), PushError> {
    if auth_secret.len() == 16 { Ok(()) } else { Err(PushError::BadAuthSecret) }
}

/// RFC 8291 §3.3-3.4: mix the ECDH secret with the auth secret into IKM, then derive the
/// content encryption key and nonce from IKM under the salt (RFC 8188 §2.2-2.3).
fn content_keys(
    ecdh_secret: &[u8],
    auth_secret: &[u8],
    ua_public: &[u8],
    as_public: &[u8],
    salt: &[u8; 16],
) -> ([u8; 16], [u8; 12]) {
    let ikm = key_material(ecdh_secret, auth_secret, ua_public, as_public);
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).expect("16 bytes is a valid HKDF length");
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).expect("12 bytes is a valid HKDF length");
    (cek, nonce)
}

/// IKM = HKDF(salt = auth_secret, ecdh_secret, "WebPush: info\0" || ua_public || as_public, 32).
fn key_material(ecdh_secret: &[u8], auth_secret: &[u8], ua_public: &[u8], as_public: &[u8]) -> [u8; 32] {
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth_secret), ecdh_secret)
        .expand_multi_info(&[b"WebPush: info\0", ua_public, as_public], &mut ikm)
        .expect("32 bytes is a valid HKDF length");
    ikm
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn b64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    // RFC 8291 §5 and Appendix A.
    const PLAINTEXT: &[u8] = b"When I grow up, I want to be a watermelon";
    const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const AS_PUBLIC: &str = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const UA_PUBLIC: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const ECDH_SECRET: &str = "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs";
    const IKM: &str = "S4lYMb_L0FxCeq0WhDx813KgSYqU26kOyzWUdsXYyrg";
    const CEK: &str = "oIhVW04MRdy2XN9CiKLxTg";
    const NONCE: &str = "4h_95klXJ5E_qnoN";
    const BODY: &str = concat!(
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml",
        "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT",
        "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
    );

    fn arr<const N: usize>(s: &str) -> [u8; N] {
        b64(s).try_into().unwrap()
    }

    #[test]
    fn reproduces_the_rfc_8291_example_byte_for_byte() {
        let body = encrypt(PLAINTEXT, &b64(UA_PUBLIC), &b64(AUTH), &arr(AS_PRIVATE), &arr(SALT)).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.encode(&body), BODY);
        assert_eq!(&body[21..86], b64(AS_PUBLIC).as_slice());
    }

    #[test]
    fn derives_the_rfc_8291_intermediate_values() {
        let ikm = key_material(&b64(ECDH_SECRET), &b64(AUTH), &b64(UA_PUBLIC), &b64(AS_PUBLIC));
        assert_eq!(URL_SAFE_NO_PAD.encode(ikm), IKM);
        let (cek, nonce) = content_keys(&b64(ECDH_SECRET), &b64(AUTH), &b64(UA_PUBLIC), &b64(AS_PUBLIC), &arr(SALT));
        assert_eq!(URL_SAFE_NO_PAD.encode(cek), CEK);
        assert_eq!(URL_SAFE_NO_PAD.encode(nonce), NONCE);
    }

    #[test]
    fn the_browser_opens_the_rfc_example_and_our_own_bodies() {
        let (ua_private, ua_public, auth) = (arr(UA_PRIVATE), b64(UA_PUBLIC), b64(AUTH));
        assert_eq!(decrypt(&b64(BODY), &ua_private, &ua_public, &auth).unwrap(), PLAINTEXT);
        for len in [0, 1, 100, MAX_PLAINTEXT] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let body = encrypt(&plain, &ua_public, &auth, &[7; 32], &[9; 16]).unwrap();
            assert!(body.len() <= RECORD_SIZE as usize);
            assert_eq!(decrypt(&body, &ua_private, &ua_public, &auth).unwrap(), plain);
        }
        let body = encrypt(b"max", &ua_public, &auth, &[7; 32], &[9; 16]).unwrap();
        assert_eq!(body.len(), HEADER_LEN + 3 + 1 + TAG_LEN);
    }

    #[test]
    fn an_altered_body_or_the_wrong_auth_does_not_open() {
        let (ua_private, ua_public, auth) = (arr(UA_PRIVATE), b64(UA_PUBLIC), b64(AUTH));
        let mut body = b64(BODY);
        let last = body.len() - 1;
        body[last] ^= 1;
        assert_eq!(decrypt(&body, &ua_private, &ua_public, &auth), Err(PushError::Undecryptable));
        assert_eq!(decrypt(&b64(BODY), &ua_private, &ua_public, &[0; 16]), Err(PushError::Undecryptable));
        assert_eq!(decrypt(&b64(BODY)[..40], &ua_private, &ua_public, &auth), Err(PushError::Undecryptable));
    }

    #[test]
    fn refuses_bad_keys_auth_and_oversized_payloads() {
        let (ua_public, auth, salt) = (b64(UA_PUBLIC), b64(AUTH), arr(SALT));
        let seal = |ua: &[u8], auth: &[u8], key: &[u8; 32], len: usize| encrypt(&vec![b'x'; len], ua, auth, key, &salt);
        let key = arr(AS_PRIVATE);

        // Not on the curve, truncated, compressed form, the identity encoding.
        let mut off_curve = ua_public.clone();
        off_curve[64] ^= 1;
        let compressed = PublicKey::from_sec1_bytes(&ua_public).unwrap().to_encoded_point(true);
        for bad in [&off_curve[..], &ua_public[..64], compressed.as_bytes(), &[0u8][..], &[]] {
            assert_eq!(seal(bad, &auth, &key, 10), Err(PushError::BadSubscriptionKey));
        }
        for bad in [&auth[..15], &[0u8; 17][..], &[]] {
            assert_eq!(seal(&ua_public, bad, &key, 10), Err(PushError::BadAuthSecret));
        }
        // Zero, and the group order n itself.
        let order: [u8; 32] = hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
            .unwrap()
            .try_into()
            .unwrap();
        for bad in [[0u8; 32], order, [0xff; 32]] {
            assert_eq!(seal(&ua_public, &auth, &bad, 10), Err(PushError::BadPrivateKey));
        }
        assert_eq!(MAX_PLAINTEXT, 3993);
        assert!(seal(&ua_public, &auth, &key, MAX_PLAINTEXT).is_ok());
        assert_eq!(seal(&ua_public, &auth, &key, MAX_PLAINTEXT + 1), Err(PushError::TooLarge));
    }

    #[test]
    fn a_subscription_key_is_checked_before_it_is_stored() {
        assert!(usable_subscription_key(UA_PUBLIC));
        assert!(usable_subscription_key(&format!("{UA_PUBLIC}=")), "padding as some browsers send it");
        let off_curve = format!("{}A", &UA_PUBLIC[..UA_PUBLIC.len() - 1]);
        for bad in [off_curve.as_str(), &UA_PUBLIC[..80], "B".repeat(87).as_str(), "not base64!", ""] {
            assert!(!usable_subscription_key(bad), "{bad}");
        }
    }
}
