//! Calls the relay makes to addresses others gave it (push services, webhook endpoints):
//! public https only, so nobody who can sign in can make the relay call inside a network.

use std::net::{Ipv4Addr, Ipv6Addr};

use worker::Url;
use worker::url::Host;

/// Loopback, private, shared, link-local and unspecified IPv4.
fn private_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    a.is_loopback() || a.is_private() || a.is_link_local() || a.is_unspecified() || a.is_broadcast() || matches!(o, [100, 64..=127, ..]) || o[0] == 0
}

/// Loopback, unspecified, unique local (fc00::/7), link local (fe80::/10), and IPv4 inside.
fn private_v6(a: Ipv6Addr) -> bool {
    let first = a.segments()[0];
    a.is_loopback() || a.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80 || a.to_ipv4_mapped().is_some_and(private_v4) || a.to_ipv4().is_some_and(private_v4)
}

/// `localhost` names, one-word names and the names only a local network resolves.
fn private_name(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    name == "localhost" || name.ends_with(".localhost") || name.ends_with(".local") || name.ends_with(".internal") || !name.contains('.')
}

/// The URL as fetch will read it (WHATWG parsing: `127.1`, `0x7f.1` and a trailing dot are the
/// addresses they mean), if it is http(s) without credentials.
pub fn parsed(endpoint: &str) -> Option<Url> {
    let url = Url::parse(endpoint).ok()?;
    ((url.scheme() == "https" || url.scheme() == "http") && url.username().is_empty() && url.password().is_none() && url.host().is_some()).then_some(url)
}

/// May the relay POST to `endpoint`? Public https only, unless private endpoints are allowed
/// (local runs: the test push service and webhook receivers listen on loopback).
pub fn endpoint_allowed(endpoint: &str, allow_private: bool) -> bool {
    let Some(url) = parsed(endpoint) else { return false };
    if allow_private {
        return true;
    }
    let private = match url.host() {
        Some(Host::Domain(name)) => private_name(name),
        Some(Host::Ipv4(a)) => private_v4(a),
        Some(Host::Ipv6(a)) => private_v6(a),
        None => true,
    };
    url.scheme() == "https" && !private
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
            // What fetch would read as a private address.
            "https://127.1/x",
            "https://0x7f.0.0.1/x",
            "https://127.0.0.1./x",
            "https://[0:0:0:0:0:0:0:1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://localhost./x",
            "https://2130706433/x",
        ] {
            assert!(!endpoint_allowed(bad, false), "{bad}");
        }
        assert!(endpoint_allowed("http://localhost:8090/notify/abc", true));
        assert!(!endpoint_allowed("ftp://localhost/x", true));
    }
}
