//! Where an account's credentials may be sent: Twilio's own API hosts, or a base URL this
//! process was told about explicitly (an emulator it runs, or `TWILIO_ALLOWED_BASE_URLS`).
//!
//! The allowance is process-wide because what it describes is: the emulators this process
//! started and the settings it booted with. The client checks every request against it, so a
//! base URL written to the database by any route can never receive a token.

use std::collections::BTreeSet;
use std::sync::{LazyLock, RwLock};

use reqwest::Url;

static ALLOWED: LazyLock<RwLock<BTreeSet<String>>> = LazyLock::new(Default::default);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("{}", crate::config::NOT_AN_ORIGIN)]
    Malformed,
    #[error(
        "Twilio requests may only go to https://api.twilio.com, a regional \
         https://api.*.twilio.com host, or a URL listed in TWILIO_ALLOWED_BASE_URLS"
    )]
    NotAllowed,
}

/// The origin (`scheme://host[:port]`) of a base URL, or why it cannot be one.
pub fn normalize(raw: &str) -> Result<String, EndpointError> {
    crate::config::origin_of(raw).ok_or(EndpointError::Malformed)
}

/// `https://api.twilio.com` and the edge/region hosts (`api.dublin.ie1.twilio.com`, ...).
fn is_twilio_origin(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let regional = host
        .strip_prefix("api.")
        .and_then(|rest| rest.strip_suffix(".twilio.com"))
        .is_some_and(|middle| {
            middle.split('.').all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
        });
    url.scheme() == "https" && url.port().is_none() && (host == "api.twilio.com" || regional)
}

/// Lets requests go to `raw` (its origin) from now on in this process.
pub fn allow(raw: &str) -> Result<(), EndpointError> {
    let origin = normalize(raw)?;
    ALLOWED
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(origin);
    Ok(())
}

/// Withdraws an allowance, e.g. when the emulator that had that port stops.
pub fn disallow(raw: &str) {
    if let Ok(origin) = normalize(raw) {
        ALLOWED
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&origin);
    }
}

/// Every explicitly allowed origin, e.g. to hand on to a child process.
pub fn allowed() -> Vec<String> {
    ALLOWED
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .cloned()
        .collect()
}

/// The normalised base URL when requests may go there.
pub fn check(raw: &str) -> Result<String, EndpointError> {
    let origin = normalize(raw)?;
    let url = Url::parse(&origin).map_err(|_| EndpointError::Malformed)?;
    if permits(&url) {
        Ok(origin)
    } else {
        Err(EndpointError::NotAllowed)
    }
}

/// Whether a full request URL goes to an allowed origin.
pub fn permits(url: &Url) -> bool {
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    is_twilio_origin(url)
        || ALLOWED
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_hosts_pass_and_others_need_an_allowance() {
        assert_eq!(
            check("https://api.twilio.com/").as_deref(),
            Ok("https://api.twilio.com")
        );
        assert!(check("https://api.dublin.ie1.twilio.com").is_ok());
        assert!(check("https://API.sydney.au1.twilio.com").is_ok());
        assert_eq!(
            check("http://api.twilio.com"),
            Err(EndpointError::NotAllowed)
        );
        assert_eq!(
            check("https://api.twilio.com:8443"),
            Err(EndpointError::NotAllowed)
        );
        assert_eq!(
            check("https://api.twilio.com.evil.example"),
            Err(EndpointError::NotAllowed)
        );
        assert_eq!(
            check("https://evil.example/api.twilio.com"),
            Err(EndpointError::Malformed)
        );
        assert_eq!(
            check("https://user:pw@api.twilio.com"),
            Err(EndpointError::Malformed)
        );
        assert_eq!(check("ftp://x"), Err(EndpointError::Malformed));

        let local = "http://127.0.0.1:1";
        assert_eq!(check(local), Err(EndpointError::NotAllowed));
        allow(local).expect("a plain URL");
        assert_eq!(check("http://127.0.0.1:1/").as_deref(), Ok(local));
        assert_eq!(check("http://127.0.0.1:2"), Err(EndpointError::NotAllowed));
        disallow(local);
        assert_eq!(check(local), Err(EndpointError::NotAllowed));
    }

    #[test]
    fn a_path_cannot_smuggle_another_host() {
        let base = Url::parse("https://api.twilio.com").expect("a URL");
        assert!(permits(
            &base.join("/2010-04-01/Accounts.json").expect("a path")
        ));
        let tricked = Url::parse("https://api.twilio.com@evil.example/x").expect("a URL");
        assert!(!permits(&tricked));
    }
}
