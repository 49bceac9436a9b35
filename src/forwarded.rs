//! How the client reached us (its IP, the public base URL), trusting `X-Forwarded-*` only
//! when `TRUST_PROXY=true`: otherwise anyone could forge them.

use std::net::SocketAddr;

use axum::http::HeaderMap;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The first X-Forwarded-For hop behind a trusted proxy, else the socket peer.
pub fn client_ip(headers: &HeaderMap, peer: SocketAddr, trust_proxy: bool) -> String {
    match header(headers, "x-forwarded-for") {
        Some(forwarded) if trust_proxy => forwarded.to_owned(),
        _ => peer.ip().to_string(),
    }
}

/// The base URL the caller used: from X-Forwarded-Proto/Host behind a trusted proxy, else
/// the configured public URL. Webhook signatures are computed over this URL.
pub fn public_base_url(headers: &HeaderMap, configured: &str, trust_proxy: bool) -> String {
    if trust_proxy {
        if let Some(host) = header(headers, "x-forwarded-host") {
            let proto = header(headers, "x-forwarded-proto").unwrap_or("https");
            return format!("{proto}://{host}");
        }
    }
    configured.trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn forwarded_headers_count_only_behind_a_trusted_proxy() {
        let peer = SocketAddr::from(([10, 0, 0, 1], 1234));
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9, 10.0.0.1"),
            ("x-forwarded-host", "ringcast.example.com"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(client_ip(&h, peer, false), "10.0.0.1");
        assert_eq!(client_ip(&h, peer, true), "203.0.113.9");
        assert_eq!(
            public_base_url(&h, "http://127.0.0.1:5000/", false),
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            public_base_url(&h, "http://127.0.0.1:5000", true),
            "https://ringcast.example.com"
        );
        assert_eq!(
            public_base_url(&HeaderMap::new(), "http://x", true),
            "http://x"
        );
    }
}
