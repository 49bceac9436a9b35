//! `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + sorted name/value pairs)), and the
//! `bodySHA256` variant for JSON bodies.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

type HmacSha1 = Hmac<Sha1>;

fn mac(auth_token: &str, url: &str, params: &[(String, String)]) -> HmacSha1 {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac =
        HmacSha1::new_from_slice(auth_token.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(url.as_bytes());
    // Names sorted by byte order; repeated names contribute each distinct value, sorted.
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    for (name, value) in pairs {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The signature Twilio sends for a form-encoded request to `url` (for GET, pass no params).
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// Constant-time check of a form-encoded request, tolerating the port quirk Twilio's own
/// validators accept (signed with or without the default port).
pub fn validate(auth_token: &str, signature: &str, url: &str, params: &[(String, String)]) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    url_variants(url).iter().any(|candidate| {
        mac(auth_token, candidate, params)
            .verify_slice(&expected)
            .is_ok()
    })
}

/// For JSON bodies: the URL carries `bodySHA256=<hex sha256 of the body>` and only the URL is signed.
pub fn validate_with_body(auth_token: &str, signature: &str, url: &str, body: &[u8]) -> bool {
    let Some(claimed) = query_param(url, "bodySHA256") else {
        return false;
    };
    let actual = hex::encode(Sha256::digest(body));
    // Both sides are public-length hex; a plain compare leaks nothing the URL does not.
    claimed.eq_ignore_ascii_case(&actual) && validate(auth_token, signature, url, &[])
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

/// The URL as given, plus the same URL with the scheme's default port added or removed.
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let default_port = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return variants,
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    match authority.rsplit_once(':') {
        Some((host, port)) if port == default_port => {
            variants.push(format!("{scheme}://{host}{tail}"))
        }
        Some(_) => {}
        None => variants.push(format!("{scheme}://{authority}:{default_port}{tail}")),
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(caller: &str) -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", caller),
            ("Digits", "1234"),
            ("From", caller),
            ("To", "+18005551212"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    #[test]
    fn twilio_docs_vectors() {
        assert_eq!(
            sign("12345", URL, &params("+12349013030")),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        assert_eq!(
            sign("12345", URL, &params("+14158675309")),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(validate(
            "12345",
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
            URL,
            &params("+12349013030")
        ));
    }

    #[test]
    fn wrong_token_params_url_or_garbage_fail() {
        let sig = sign("12345", URL, &params("+12349013030"));
        assert!(!validate("54321", &sig, URL, &params("+12349013030")));
        assert!(!validate("12345", &sig, URL, &params("+14158675309")));
        assert!(!validate(
            "12345",
            &sig,
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            &params("+12349013030")
        ));
        assert!(!validate(
            "12345",
            "not base64!",
            URL,
            &params("+12349013030")
        ));
        assert!(!validate("12345", "", URL, &params("+12349013030")));
    }

    #[test]
    fn default_port_is_tolerated_both_ways() {
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        let sig = sign("12345", with_port, &params("+12349013030"));
        assert!(validate("12345", &sig, URL, &params("+12349013030")));
        let sig = sign("12345", URL, &params("+12349013030"));
        assert!(validate("12345", &sig, with_port, &params("+12349013030")));
    }

    #[test]
    fn json_body_vector() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(hex::encode(Sha256::digest(body)), hash);
        let url = format!("{URL}&bodySHA256={hash}");
        assert_eq!(sign("12345", &url, &[]), "a9nBmqA0ju/hNViExpshrM61xv4=");
        assert!(validate_with_body(
            "12345",
            "a9nBmqA0ju/hNViExpshrM61xv4=",
            &url,
            body
        ));
        assert!(!validate_with_body(
            "12345",
            "a9nBmqA0ju/hNViExpshrM61xv4=",
            &url,
            b"{}"
        ));
    }
}
