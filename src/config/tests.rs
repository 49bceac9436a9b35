//! Defaults, refusals and redaction, read through `from_lookup`, not the process environment.

use super::*;

#[test]
fn a_pool_no_larger_than_the_job_workers_is_refused() {
    let with = |pool: &'static str, workers: &'static str| {
        Config::from_lookup(&move |name| match name {
            "DATABASE_POOL_SIZE" => Some(pool.to_owned()),
            "JOB_WORKERS" => Some(workers.to_owned()),
            _ => None,
        })
    };
    let refused = with("4", "4").err().map(|e| e.name);
    assert_eq!(refused, Some("DATABASE_POOL_SIZE"));
    assert!(with("5", "4").is_ok());
    assert!(with("16", "").is_ok());
}

#[test]
fn empty_environment_gives_the_documented_defaults() {
    let config = Config::default();
    assert_eq!(config.port, 5000);
    assert!(config.database_url.is_none());
    assert!(config.redis_url.is_none());
    assert!(config.allow_signup);
    assert_eq!(config.access_token_ttl, Duration::from_secs(900));
    assert_eq!(config.websockets.init_timeout, Duration::from_secs(10));
    assert_eq!(config.websockets.max_operations, 50);
    assert_eq!(config.websockets.max_sockets_per_user, 20);
}

#[test]
fn bad_values_name_the_setting() {
    let err = Config::from_lookup(&|name| (name == "PORT").then(|| "eighty".to_owned())).err();
    assert_eq!(err.map(|e| e.name), Some("PORT"));
    let err =
        Config::from_lookup(&|name| (name == "ALLOW_SIGNUP").then(|| "maybe".to_owned())).err();
    assert_eq!(err.map(|e| e.name), Some("ALLOW_SIGNUP"));
}

#[test]
fn metrics_allow_takes_addresses_and_networks() {
    let loopback: std::net::IpAddr = "127.0.0.1".parse().expect("ip");
    let allow = Config::default().metrics.allow;
    assert!(allow.iter().any(|n| n.contains(&loopback)));
    let config = Config::from_lookup(&|name| {
        (name == "METRICS_ALLOW").then(|| "10.0.0.0/8, 192.0.2.7,::1".to_owned())
    })
    .expect("parses");
    assert_eq!(config.metrics.allow.len(), 3);
    let err =
        Config::from_lookup(&|name| (name == "METRICS_ALLOW").then(|| "10.0.0.0/33".to_owned()))
            .err();
    assert_eq!(err.map(|e| e.name), Some("METRICS_ALLOW"));
}

#[test]
fn secrets_are_redacted_in_debug_output() {
    let config =
        Config::from_lookup(&|name| (name == "JWT_SECRET").then(|| "hunter2".to_owned())).ok();
    assert!(!format!("{config:?}").contains("hunter2"));
}
