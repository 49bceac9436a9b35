//! Logging, the Prometheus recorder, and who may read it.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::http::HeaderMap;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, MetricsAccess};

/// Logs go to stderr so stdout carries only what an operator must read (credentials, URLs).
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// One recorder per process (tests build many apps in one process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            handle
        })
        .clone()
}

/// Metrics tell a stranger the traffic, the operations in use and the pool's state: they are
/// for the bearer of `METRICS_TOKEN`, or for a peer in `METRICS_ALLOW` that reached us
/// directly. A request relayed by a proxy never counts as from the proxy's (often loopback)
/// address, whatever `TRUST_PROXY` says, since the client behind it is unknown.
pub fn may_read_metrics(access: &MetricsAccess, peer: SocketAddr, headers: &HeaderMap) -> bool {
    if let (Some(expected), Some(presented)) = (&access.token, bearer(headers)) {
        // Comparing digests keeps the comparison's timing independent of the token.
        if Sha256::digest(expected.expose()) == Sha256::digest(presented) {
            return true;
        }
    }
    let relayed = ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|name| headers.contains_key(*name));
    let ip = peer.ip().to_canonical();
    !relayed && access.allow.iter().any(|net| net.contains(&ip))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn access(token: Option<&str>) -> MetricsAccess {
        MetricsAccess {
            allow: vec![
                "127.0.0.0/8".parse().expect("net"),
                "::1/128".parse().expect("net"),
            ],
            token: token.map(Secret::new),
            bind: None,
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn loopback_peers_and_token_bearers_may_read_metrics() {
        let local: SocketAddr = "127.0.0.1:1".parse().expect("addr");
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:1".parse().expect("addr");
        let stranger: SocketAddr = "203.0.113.9:1".parse().expect("addr");
        let none = HeaderMap::new();
        assert!(may_read_metrics(&access(None), local, &none));
        assert!(may_read_metrics(&access(None), mapped, &none));
        assert!(!may_read_metrics(&access(None), stranger, &none));
        let proxied = headers(&[("x-forwarded-for", "127.0.0.1")]);
        assert!(!may_read_metrics(&access(None), local, &proxied));

        let with = |t: &str| headers(&[("authorization", t)]);
        assert!(may_read_metrics(
            &access(Some("s3cret")),
            stranger,
            &with("Bearer s3cret")
        ));
        assert!(!may_read_metrics(
            &access(Some("s3cret")),
            stranger,
            &with("Bearer s3cre")
        ));
        assert!(!may_read_metrics(&access(None), stranger, &with("Bearer ")));
    }
}
