//! Settings read once from the environment at boot; every one is listed in `.env.example`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// A value that must never reach logs, GraphQL responses or error messages.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("setting {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// `None` means "find or start a PostgreSQL" (see `db::embedded`).
    pub database_url: Option<Secret>,
    pub database_pool_size: usize,
    /// `None` means the in-process event bus.
    pub redis_url: Option<Secret>,
    /// Redis channel the event bus publishes on; tests give each app its own.
    pub events_channel: String,
    pub bind_host: String,
    /// 0 asks the OS for a free port.
    pub port: u16,
    /// Base for webhook URLs Twilio calls; derived from the bound port when unset.
    pub public_url: Option<String>,
    pub trust_proxy: bool,
    /// Browser origins allowed to call the API (`*` for any); empty sends no CORS headers.
    pub cors_allowed_origins: Vec<String>,
    pub data_dir: PathBuf,
    /// Loaded from `data_dir` (or generated there) when unset; see `secrets`.
    pub jwt_secret: Option<Secret>,
    pub encryption_key: Option<Secret>,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    pub allow_signup: bool,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub log_format: LogFormat,
    pub graphql: GraphqlLimits,
    pub jobs: JobSettings,
    /// Real seconds per simulated second in the emulator (0.001: a 30 s call takes 30 ms).
    pub emulator_time_scale: f64,
    /// Numbers with no call for this many days are released; `None` keeps them forever.
    pub did_idle_release_days: Option<u32>,
    /// The carrier ends a call after this long; each call holds the price of this much talk.
    pub max_call_secs: u32,
    /// Processed webhook payloads are deleted after this many days.
    pub webhook_retention_days: u32,
    /// A finished campaign's per-contact template data is dropped after this many days.
    pub campaign_retention_days: u32,
    pub payments: crate::payments::settings::PaymentSettings,
}

#[derive(Clone, Debug)]
pub struct GraphqlLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_body_bytes: usize,
    /// For multipart requests (file uploads such as contact lists).
    pub max_upload_bytes: usize,
}

#[derive(Clone, Debug)]
pub struct JobSettings {
    /// Concurrent jobs per process.
    pub workers: usize,
    /// How often an idle worker looks for jobs when no NOTIFY arrives.
    pub poll_interval: Duration,
    /// First retry delay; doubles with every failure.
    pub retry_base: Duration,
}

impl Default for Config {
    /// The settings of an empty environment.
    fn default() -> Self {
        // Every setting has a default, so parsing nothing cannot fail.
        Self::from_lookup(&|_| None).unwrap_or_else(|e| unreachable!("defaults must parse: {e}"))
    }
}

pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can build a config without touching the
    /// process environment.
    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Ok(Self {
            database_url: var("DATABASE_URL").map(Secret::new),
            database_pool_size: var_parsed(lookup, "DATABASE_POOL_SIZE")?.unwrap_or(16),
            redis_url: var("REDIS_URL").map(Secret::new),
            events_channel: var("EVENTS_CHANNEL").unwrap_or_else(|| "ringcast:events".into()),
            bind_host: var("BIND_HOST").unwrap_or_else(|| "0.0.0.0".into()),
            port: var_parsed(lookup, "PORT")?.unwrap_or(5000),
            public_url: var("PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned()),
            trust_proxy: var_bool(lookup, "TRUST_PROXY")?.unwrap_or(false),
            cors_allowed_origins: var("CORS_ALLOWED_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            data_dir: var("DATA_DIR").map_or_else(|| PathBuf::from("./data"), PathBuf::from),
            jwt_secret: var("JWT_SECRET").map(Secret::new),
            encryption_key: var("ENCRYPTION_KEY").map(Secret::new),
            admin_email: var("ADMIN_EMAIL"),
            admin_password: var("ADMIN_PASSWORD").map(Secret::new),
            allow_signup: var_bool(lookup, "ALLOW_SIGNUP")?.unwrap_or(true),
            access_token_ttl: Duration::from_secs(
                var_parsed(lookup, "ACCESS_TOKEN_TTL_SECS")?.unwrap_or(900),
            ),
            refresh_token_ttl: Duration::from_secs(
                var_parsed(lookup, "REFRESH_TOKEN_TTL_SECS")?.unwrap_or(30 * 24 * 3600),
            ),
            log_format: match var("LOG_FORMAT")
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    return Err(ConfigError {
                        name: "LOG_FORMAT",
                        reason: format!("expected text or json, got {other:?}"),
                    })
                }
            },
            graphql: GraphqlLimits {
                max_depth: var_parsed(lookup, "GRAPHQL_MAX_DEPTH")?.unwrap_or(16),
                max_complexity: var_parsed(lookup, "GRAPHQL_MAX_COMPLEXITY")?.unwrap_or(1000),
                max_body_bytes: var_parsed(lookup, "GRAPHQL_MAX_BODY_BYTES")?
                    .unwrap_or(1024 * 1024),
                max_upload_bytes: var_parsed(lookup, "GRAPHQL_MAX_UPLOAD_BYTES")?
                    .unwrap_or(40 * 1024 * 1024),
            },
            emulator_time_scale: var_parsed(lookup, "EMULATOR_TIME_SCALE")?.unwrap_or(1.0),
            did_idle_release_days: var_parsed(lookup, "DID_IDLE_RELEASE_DAYS")?,
            max_call_secs: match var_parsed(lookup, "MAX_CALL_DURATION_SECS")?.unwrap_or(600) {
                secs @ 30..=14_400 => secs,
                other => {
                    return Err(ConfigError {
                        name: "MAX_CALL_DURATION_SECS",
                        reason: format!("expected 30 to 14400 seconds, got {other}"),
                    })
                }
            },
            webhook_retention_days: var_parsed(lookup, "WEBHOOK_RETENTION_DAYS")?.unwrap_or(30),
            campaign_retention_days: var_parsed(lookup, "CAMPAIGN_RETENTION_DAYS")?.unwrap_or(90),
            payments: crate::payments::settings::PaymentSettings::from_lookup(lookup)?,
            jobs: JobSettings {
                workers: var_parsed(lookup, "JOB_WORKERS")?.unwrap_or(4),
                poll_interval: Duration::from_millis(
                    var_parsed(lookup, "JOB_POLL_INTERVAL_MS")?.unwrap_or(5_000),
                ),
                retry_base: Duration::from_secs(
                    var_parsed(lookup, "JOB_RETRY_BASE_SECS")?.unwrap_or(30),
                ),
            },
        })
    }

    /// The base URL callers outside reach us at; falls back to the local port.
    pub fn public_url_for_port(&self, bound_port: u16) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://127.0.0.1:{bound_port}"))
    }
}

pub(crate) fn var_parsed<T>(
    lookup: Lookup<'_>,
    name: &'static str,
) -> Result<Option<T>, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    lookup(name)
        .filter(|v| !v.trim().is_empty())
        .map(|raw| {
            raw.trim().parse().map_err(|e: T::Err| ConfigError {
                name,
                reason: format!("cannot parse {raw:?}: {e}"),
            })
        })
        .transpose()
}

fn var_bool(lookup: Lookup<'_>, name: &'static str) -> Result<Option<bool>, ConfigError> {
    lookup(name)
        .filter(|v| !v.trim().is_empty())
        .map(|raw| match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(ConfigError {
                name,
                reason: format!("expected true or false, got {raw:?}"),
            }),
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_environment_gives_the_documented_defaults() {
        let config = Config::default();
        assert_eq!(config.port, 5000);
        assert!(config.database_url.is_none());
        assert!(config.redis_url.is_none());
        assert!(config.allow_signup);
        assert_eq!(config.access_token_ttl, Duration::from_secs(900));
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
    fn secrets_are_redacted_in_debug_output() {
        let config =
            Config::from_lookup(&|name| (name == "JWT_SECRET").then(|| "hunter2".to_owned())).ok();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
