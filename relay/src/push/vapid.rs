//! VAPID (RFC 8292): the relay proves to push services that it is the server a browser
//! subscribed with, by signing a short-lived ES256 JWT with the key pair whose public half
//! the browser was given as `applicationServerKey`.
//!
//! Keys are in the format `npx web-push generate-vapid-keys` prints: base64url without padding
//! of the 32-byte scalar `d` and of the 65-byte uncompressed public point. Signing is RFC 6979
//! deterministic, so no random source is needed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};

use super::crypto::PushError;

/// `{"typ":"JWT","alg":"ES256"}`, base64url: the same for every token.
const JWT_HEADER: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9";

/// The relay's VAPID key pair.
pub struct Vapid {
    key: SigningKey,
    /// base64url of the uncompressed public point: the `k=` of every Authorization header.
    public: String,
}

/// Only the public half: the private key must never reach a log.
impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid").field("public", &self.public).finish_non_exhaustive()
    }
}

impl Vapid {
    /// The configured pair. The public key is checked against the private one, since a wrong
    /// pair signs tokens that every push service refuses, long after deployment.
    pub fn from_base64url(private_d: &str, public: &str) -> Result<Vapid, PushError> {
        let d: [u8; 32] = decode(private_d)?.try_into().map_err(|_| PushError::BadVapidKey)?;
        let key = SigningKey::from_bytes((&d).into()).map_err(|_| PushError::BadVapidKey)?;
        let public = decode(public)?;
        if public.len() != 65 || public[0] != 0x04 {
            return Err(PushError::BadVapidKey);
        }
        let vapid = Vapid::from_key(key);
        if decode(&vapid.public)? != public {
            return Err(PushError::VapidKeyMismatch);
        }
        Ok(vapid)
    }

    fn from_key(key: SigningKey) -> Vapid {
        let public = URL_SAFE_NO_PAD.encode(key.verifying_key().to_encoded_point(false).as_bytes());
        Vapid { key, public }
    }

    /// The public key, base64url: what browsers pass to `pushManager.subscribe`.
    pub fn public_key(&self) -> String {
        self.public.clone()
    }

    /// The `Authorization` header for a push to `endpoint`: `vapid t=<JWT>, k=<public key>`.
    ///
    /// `subject` is a contact for the push service's operators (`mailto:` or `https:`; Apple's
    /// service refuses tokens without one). `expires_unix` must be at most 24 hours ahead
    /// (RFC 8292 §2).
    pub fn authorization(&self, endpoint: &str, subject: &str, expires_unix: u64) -> Result<String, PushError> {
        if !(subject.starts_with("mailto:") || subject.starts_with("https:")) {
            return Err(PushError::BadSubject);
        }
        let claims = serde_json::json!({ "aud": origin(endpoint)?, "exp": expires_unix, "sub": subject });
        let signing_input = format!("{JWT_HEADER}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
        // JWS (RFC 7518 §3.4) wants r || s, 64 bytes, not DER.
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        let jwt = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        Ok(format!("vapid t={jwt}, k={}", self.public))
    }
}

/// A new key pair `(private, public)` in the web-push format, from 32 random bytes, for the
/// tests (`scripts/vapid.mjs` makes real ones). Refuses the (astronomically unlikely) bytes that are no valid scalar.
#[cfg(test)]
pub fn generate(seed: &[u8; 32]) -> Result<(String, String), PushError> {
    let key = SigningKey::from_bytes(seed.into()).map_err(|_| PushError::BadVapidKey)?;
    let private = URL_SAFE_NO_PAD.encode(key.to_bytes());
    Ok((private, Vapid::from_key(key).public))
}

/// base64url, tolerating the `=` padding some tools add.
fn decode(s: &str) -> Result<Vec<u8>, PushError> {
    URL_SAFE_NO_PAD.decode(s.trim().trim_end_matches('=')).map_err(|_| PushError::BadVapidKey)
}

/// The JWT audience: the endpoint's origin, `scheme://host[:port]`, lowercased, default port
/// dropped (RFC 6454 serialisation), which is what push services compare against.
fn origin(endpoint: &str) -> Result<String, PushError> {
    let (scheme, rest, default_port) = match endpoint.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("https") => ("https", rest, "443"),
        Some((s, rest)) if s.eq_ignore_ascii_case("http") => ("http", rest, "80"),
        _ => return Err(PushError::BadEndpoint),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    // Push endpoints carry no credentials; whitespace or controls mean a garbled URL.
    if authority.is_empty() || authority.contains('@') || authority.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(PushError::BadEndpoint);
    }
    // The port is after the last ':' unless that ':' is inside an IPv6 literal `[...]`.
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority.as_str(), None),
    };
    let bracketed = host.starts_with('[') && host.ends_with(']') && host.len() > 2;
    if host.is_empty() || (host.contains([':', '[', ']']) && !bracketed) {
        return Err(PushError::BadEndpoint);
    }
    match port {
        None => Ok(format!("{scheme}://{host}")),
        Some(p) if p.is_empty() || p == default_port => Ok(format!("{scheme}://{host}")),
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok() => {
            Ok(format!("{scheme}://{host}:{}", p.parse::<u16>().expect("checked")))
        }
        Some(_) => Err(PushError::BadEndpoint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    // A P-256 pair published in RFC 8291 Appendix A, in web-push's format.
    const PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const PUBLIC: &str = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    // The other pair from the same example.
    const OTHER_PUBLIC: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";

    /// The JWT's claims, after checking its header and its signature under `public`.
    fn verified_claims(header: &str, public: &str) -> serde_json::Value {
        let rest = header.strip_prefix("vapid t=").unwrap();
        let (jwt, k) = rest.split_once(", k=").unwrap();
        assert_eq!(k, public);
        let (signing_input, sig) = jwt.rsplit_once('.').unwrap();
        let (head, claims) = signing_input.split_once('.').unwrap();
        let head: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap();
        assert_eq!(head, serde_json::json!({ "typ": "JWT", "alg": "ES256" }));
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert_eq!(sig.len(), 64, "raw r || s, not DER");
        let key = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(public).unwrap()).unwrap();
        key.verify(signing_input.as_bytes(), &Signature::from_slice(&sig).unwrap()).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
    }

    #[test]
    fn signs_a_jwt_that_verifies_under_the_public_key() {
        let vapid = Vapid::from_base64url(PRIVATE, PUBLIC).unwrap();
        assert_eq!(vapid.public_key(), PUBLIC);
        let endpoint = "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bH?x=1";
        let header = vapid.authorization(endpoint, "mailto:ops@pigeon.example", 1_760_000_000).unwrap();
        let claims = verified_claims(&header, PUBLIC);
        assert_eq!(
            claims,
            serde_json::json!({ "aud": "https://fcm.googleapis.com", "exp": 1_760_000_000u64, "sub": "mailto:ops@pigeon.example" })
        );
        // RFC 6979: the same input signs the same way, with no random source.
        assert_eq!(vapid.authorization(endpoint, "mailto:ops@pigeon.example", 1_760_000_000).unwrap(), header);
        assert!(!format!("{vapid:?}").contains(PRIVATE));
    }

    #[test]
    fn the_audience_is_the_endpoint_origin() {
        for (endpoint, aud) in [
            ("https://updates.push.services.mozilla.com/wpush/v2/gAAAA", "https://updates.push.services.mozilla.com"),
            ("https://web.push.apple.com/QGuQyavXutnMH", "https://web.push.apple.com"),
            ("HTTPS://Push.Example:443/a", "https://push.example"),
            ("https://push.example:8443", "https://push.example:8443"),
            ("https://push.example?x#y", "https://push.example"),
            ("http://127.0.0.1:80/p", "http://127.0.0.1"),
            ("http://localhost:8787/p", "http://localhost:8787"),
            ("https://[::1]:9000/p", "https://[::1]:9000"),
            ("https://[::1]/p", "https://[::1]"),
        ] {
            assert_eq!(origin(endpoint).as_deref(), Ok(aud), "{endpoint}");
        }
        for bad in [
            "",
            "push.example/a",
            "ftp://push.example/a",
            "javascript://push.example",
            "https://",
            "https:///a",
            "https://user@push.example/a",
            "https://push.example:99999/a",
            "https://push.example:x/a",
            "https://push example/a",
            "https://::1/a",
        ] {
            assert_eq!(origin(bad), Err(PushError::BadEndpoint), "{bad}");
        }
        let vapid = Vapid::from_base64url(PRIVATE, PUBLIC).unwrap();
        assert_eq!(vapid.authorization("ftp://x/y", "mailto:a@b", 1), Err(PushError::BadEndpoint));
        assert_eq!(vapid.authorization("https://x/y", "ops@pigeon.example", 1), Err(PushError::BadSubject));
    }

    #[test]
    fn refuses_a_mismatched_or_malformed_pair() {
        assert_eq!(Vapid::from_base64url(PRIVATE, OTHER_PUBLIC).unwrap_err(), PushError::VapidKeyMismatch);
        for (private, public) in [
            ("", PUBLIC),
            ("not base64!", PUBLIC),
            (&PRIVATE[..40], PUBLIC),
            ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", PUBLIC),
            (PRIVATE, &PUBLIC[..80]),
            (PRIVATE, PRIVATE),
        ] {
            assert_eq!(Vapid::from_base64url(private, public).unwrap_err(), PushError::BadVapidKey, "{private} {public}");
        }
        // Padding, as some tools print it, is fine.
        assert!(Vapid::from_base64url(&format!("{PRIVATE}="), &format!("{PUBLIC}=")).is_ok());
    }

    #[test]
    fn a_web_push_key_pair_loads_and_signs() {
        // Made by Node's `crypto.createECDH("prime256v1")`, which `web-push generate-vapid-keys` prints.
        let (private, public) = (
            "ZpIxvmaf5N8Ck2P50u6nnIO_a0VNHNWZ4GKCNDBoqcc",
            "BHevb3Sac-f_9b1GBsX_TWzkUVudeppBFnO82vxkNf-ejWe8dN66e-DFcbiI02ERH0qLiAqPElTiS6XxkX38NrQ",
        );
        let vapid = Vapid::from_base64url(private, public).unwrap();
        assert_eq!(vapid.public_key(), public);
        let header = vapid.authorization("https://web.push.apple.com/abc", "mailto:a@b.example", 9).unwrap();
        assert_eq!(verified_claims(&header, public)["aud"], "https://web.push.apple.com");
    }

    #[test]
    fn generated_keys_round_trip_in_the_web_push_format() {
        let (private, public) = generate(&[42; 32]).unwrap();
        assert_eq!((private.len(), public.len()), (43, 87));
        assert_eq!(URL_SAFE_NO_PAD.decode(&private).unwrap(), [42; 32]);
        let vapid = Vapid::from_base64url(&private, &public).unwrap();
        assert_eq!(vapid.public_key(), public);
        let header = vapid.authorization("https://push.example/x", "https://pigeon.example", 5).unwrap();
        assert_eq!(verified_claims(&header, &public)["exp"], 5);
        assert_eq!(generate(&[0; 32]), Err(PushError::BadVapidKey));
        assert_eq!(generate(&[0xff; 32]), Err(PushError::BadVapidKey));
    }
}
