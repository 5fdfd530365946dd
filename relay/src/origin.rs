//! Web origins, normalised one way everywhere: a site's `allowed_origins` (normalised when the
//! site is saved, by `scripts/site.mjs`, and again when read), a request's `Origin` header,
//! and the pages and links of notification emails.
//!
//! The normal form is `scheme://host[:port]` with scheme and host in lowercase, the default
//! port (80 for http, 443 for https) and a trailing slash dropped — what browsers send.

/// The origin of an http(s) URL, normalised; `None` for anything else, including URLs with
/// credentials, spaces or control characters.
pub fn of_url(url: &str) -> Option<String> {
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let authority = rest[..rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len())].to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    // `host:port`, or `[v6]:port`; a bare IPv6 address has colons but no port.
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port == default_port && (!host.contains(':') || host.ends_with(']')) => host,
        Some((host, "")) => host,
        _ => authority.as_str(),
    };
    if host.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{host}"))
}

/// An origin as a site lists it or a browser sends it (`Origin` header), normalised; `None`
/// when it is not an http(s) origin (`null`, a path, credentials ...).
pub fn normalize(origin: &str) -> Option<String> {
    let (_, rest) = origin.split_once("://")?;
    let path = rest.find(['/', '?', '#', '\\']).map_or("", |i| &rest[i..]);
    if path != "" && path != "/" {
        return None;
    }
    of_url(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised() {
        for (given, normal) in [
            ("https://shop.example", "https://shop.example"),
            ("HTTPS://Shop.Example", "https://shop.example"),
            ("https://shop.example/", "https://shop.example"),
            ("https://shop.example:443", "https://shop.example"),
            ("http://shop.example:80/", "http://shop.example"),
            ("https://shop.example:8443", "https://shop.example:8443"),
            ("http://shop.example:443", "http://shop.example:443"),
            ("https://shop.example:80", "https://shop.example:80"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:80", "http://[::1]"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            ("http://LOCALHOST:", "http://localhost"),
        ] {
            assert_eq!(normalize(given).as_deref(), Some(normal), "{given}");
        }
        for bad in ["null", "", "shop.example", "ftp://shop.example", "https://", "https://a@shop.example", "https://shop.example/path", "https://shop.example?x", "https://shop .example"] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }

    #[test]
    fn urls_have_their_origin() {
        assert_eq!(of_url("https://Shop.Example:443/jacket?c=1#top").as_deref(), Some("https://shop.example"));
        assert_eq!(of_url("javascript:alert(1)"), None);
        assert_eq!(of_url("https://user:pw@shop.example/"), None);
    }
}
