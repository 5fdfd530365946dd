//! Calls the relay makes to addresses others gave it (push services, webhook endpoints):
//! public https only, so nobody who can sign in can make the relay call inside a network.

/// The host of an http(s) URL, lowercased, without port or brackets.
fn host(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') || authority.is_empty() {
        return None;
    }
    let host = if let Some(v6) = authority.strip_prefix('[') { v6.split(']').next()? } else { authority.rsplit_once(':').map_or(authority, |(h, _)| h) };
    Some((scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

/// Loopback, private, link-local and unspecified addresses, and `localhost` names: a push
/// endpoint there would let anyone who can sign in make the relay call inside a network.
fn private_host(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local") || host.ends_with(".internal") || !host.contains('.') && !host.contains(':') {
        return true;
    }
    if host.contains(':') {
        // IPv6: loopback, unspecified, unique local (fc00::/7), link local (fe80::/10), mapped v4.
        return host == "::1" || host == "::" || host.starts_with("fc") || host.starts_with("fd") || host.starts_with("fe8") || host.starts_with("fe9")
            || host.starts_with("fea") || host.starts_with("feb") || host.starts_with("::ffff:");
    }
    let octets: Vec<u8> = host.split('.').filter_map(|p| p.parse().ok()).collect();
    if octets.len() != 4 || host.split('.').count() != 4 {
        return false; // A name: the push services' are public.
    }
    matches!(octets[..], [127, ..] | [10, ..] | [0, ..] | [169, 254, ..] | [192, 168, ..] | [100, 64..=127, ..]) || matches!(octets[..], [172, b, ..] if (16..=31).contains(&b))
}

/// May the relay POST to `endpoint`? Public https only, unless private endpoints are allowed
/// (local runs: the test push service and webhook receivers listen on loopback).
pub fn endpoint_allowed(endpoint: &str, allow_private: bool) -> bool {
    let Some((scheme, host)) = host(endpoint) else { return false };
    if allow_private {
        return scheme == "https" || scheme == "http";
    }
    scheme == "https" && !private_host(&host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_endpoints_unless_allowed() {
        for ok in ["https://fcm.googleapis.com/fcm/send/abc", "https://updates.push.services.mozilla.com/wpush/v2/x", "https://web.push.apple.com/Q"] {
            assert!(endpoint_allowed(ok, false), "{ok}");
        }
        for bad in [
            "http://fcm.googleapis.com/x",
            "https://localhost/x",
            "https://127.0.0.1:8090/notify/x",
            "https://10.0.0.2/x",
            "https://172.20.1.1/x",
            "https://192.168.1.10/x",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://intranet/x",
            "https://user@push.example/x",
            "ftp://push.example/x",
        ] {
            assert!(!endpoint_allowed(bad, false), "{bad}");
        }
        assert!(endpoint_allowed("http://localhost:8090/notify/abc", true));
        assert!(!endpoint_allowed("ftp://localhost/x", true));
    }
}
