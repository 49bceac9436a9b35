//! Settings read once from the environment at boot; every one is listed in `.env.example`.

pub mod payments;

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
    /// The database created and used on the local server or private cluster when
    /// `DATABASE_URL` is unset.
    pub database_name: String,
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
    pub http: HttpLimits,
    pub metrics: MetricsAccess,
    pub websockets: WebsocketLimits,
    pub jobs: JobSettings,
    /// Real seconds per simulated second in the emulator (0.001: a 30 s call takes 30 ms).
    pub emulator_time_scale: f64,
    /// Base URLs besides Twilio's own hosts that may receive Twilio credentials (emulators).
    pub twilio_allowed_base_urls: Vec<String>,
    /// Numbers with no call for this many days are released; `None` keeps them forever.
    pub did_idle_release_days: Option<u32>,
    /// The carrier ends a call after this long; each call holds the price of this much talk.
    pub max_call_secs: u32,
    /// Processed webhook payloads are deleted after this many days.
    pub webhook_retention_days: u32,
    /// A finished campaign's per-contact template data is dropped after this many days.
    pub campaign_retention_days: u32,
    pub payments: payments::PaymentSettings,
}

#[derive(Clone, Debug)]
pub struct GraphqlLimits {
    pub max_depth: usize,
    /// The most an operation may cost (see `graphql::cost`).
    pub max_complexity: usize,
    pub max_body_bytes: usize,
    /// For multipart requests (file uploads such as contact lists).
    pub max_upload_bytes: usize,
}

/// `/graphql/ws`: see the README's "Websockets" section for the close codes.
#[derive(Clone, Debug)]
pub struct WebsocketLimits {
    /// A socket that sends no `connection_init` within this is closed (4408).
    pub init_timeout: Duration,
    /// Operations running at once on one socket; the next is refused on its id.
    pub max_operations: usize,
    /// Sockets one user may hold on one process; the next is closed (4429).
    pub max_sockets_per_user: usize,
    /// Each socket re-checks its token this often, in case a `viewer.changed` event was lost.
    pub recheck_interval: Duration,
}

/// What one client can hold of the HTTP server (see the README's "Denial of service").
#[derive(Clone, Debug)]
pub struct HttpLimits {
    /// A connection must deliver a complete request head within this long of opening, or of
    /// its previous response (so it is also the keep-alive idle timeout).
    pub header_read_timeout: Duration,
    /// Open connections (websockets included); `None`: derived from the file descriptor limit.
    pub max_connections: Option<usize>,
}

/// Who may read `/metrics`.
#[derive(Clone, Debug)]
pub struct MetricsAccess {
    /// Direct (not proxied) peers allowed without a token.
    pub allow: Vec<ipnet::IpNet>,
    /// `Authorization: Bearer <token>` is allowed from anywhere.
    pub token: Option<Secret>,
    /// Serve `/metrics` on this address only, and not on the public port.
    pub bind: Option<String>,
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

/// A plain identifier, so it can be interpolated into `CREATE DATABASE`.
fn database_name(value: Option<String>) -> Result<String, ConfigError> {
    let name = value.unwrap_or_else(|| "ringcast".into());
    let plain = name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    match plain {
        true => Ok(name),
        false => Err(ConfigError {
            name: "DATABASE_NAME",
            reason: "expected lowercase letters, digits and _, starting with a letter, at most 63"
                .into(),
        }),
    }
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
        let config = Self {
            database_url: var("DATABASE_URL").map(Secret::new),
            database_name: database_name(var("DATABASE_NAME"))?,
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
                max_complexity: var_parsed(lookup, "GRAPHQL_MAX_COMPLEXITY")?.unwrap_or(25_000),
                max_body_bytes: var_parsed(lookup, "GRAPHQL_MAX_BODY_BYTES")?
                    .unwrap_or(1024 * 1024),
                max_upload_bytes: var_parsed(lookup, "GRAPHQL_MAX_UPLOAD_BYTES")?
                    .unwrap_or(40 * 1024 * 1024),
            },
            websockets: WebsocketLimits {
                init_timeout: Duration::from_secs(
                    var_parsed(lookup, "WS_INIT_TIMEOUT_SECS")?.unwrap_or(10),
                ),
                max_operations: var_parsed(lookup, "WS_MAX_OPERATIONS")?.unwrap_or(50),
                max_sockets_per_user: var_parsed(lookup, "WS_MAX_SOCKETS_PER_USER")?.unwrap_or(20),
                recheck_interval: Duration::from_secs(
                    var_parsed(lookup, "WS_RECHECK_SECS")?.unwrap_or(60).max(1),
                ),
            },
            http: HttpLimits {
                header_read_timeout: Duration::from_secs(
                    var_parsed(lookup, "HTTP_HEADER_READ_TIMEOUT_SECS")?
                        .unwrap_or(30)
                        .max(1),
                ),
                max_connections: var_parsed(lookup, "HTTP_MAX_CONNECTIONS")?,
            },
            metrics: MetricsAccess {
                allow: match var("METRICS_ALLOW") {
                    Some(list) => parse_networks("METRICS_ALLOW", &list)?,
                    None => vec![
                        ipnet::IpNet::V4(ipnet::Ipv4Net::new_assert(
                            std::net::Ipv4Addr::new(127, 0, 0, 0),
                            8,
                        )),
                        ipnet::IpNet::from(std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
                    ],
                },
                token: var("METRICS_TOKEN").map(Secret::new),
                bind: var("METRICS_BIND"),
            },
            emulator_time_scale: var_parsed(lookup, "EMULATOR_TIME_SCALE")?.unwrap_or(1.0),
            twilio_allowed_base_urls: var("TWILIO_ALLOWED_BASE_URLS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|u| !u.is_empty())
                        .map(|u| {
                            origin_of(u).ok_or_else(|| ConfigError {
                                name: "TWILIO_ALLOWED_BASE_URLS",
                                reason: format!("{u:?}: {NOT_AN_ORIGIN}"),
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?
                .unwrap_or_default(),
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
            payments: payments::PaymentSettings::from_lookup(lookup)?,
            jobs: JobSettings {
                workers: var_parsed(lookup, "JOB_WORKERS")?.unwrap_or(4),
                poll_interval: Duration::from_millis(
                    var_parsed(lookup, "JOB_POLL_INTERVAL_MS")?.unwrap_or(5_000),
                ),
                retry_base: Duration::from_secs(
                    var_parsed(lookup, "JOB_RETRY_BASE_SECS")?.unwrap_or(30),
                ),
            },
        };
        // Each running job holds a pooled connection: a pool no larger than the job workers
        // lets a burst of jobs starve every request (seen as UPSTREAM_UNAVAILABLE after the
        // pool's 10 s wait).
        if config.database_pool_size <= config.jobs.workers {
            return Err(ConfigError {
                name: "DATABASE_POOL_SIZE",
                reason: format!(
                    "{} connections leave none for requests and the dispatcher beside {} job \
                     workers (JOB_WORKERS); use more connections or fewer workers",
                    config.database_pool_size, config.jobs.workers
                ),
            });
        }
        Ok(config)
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

/// Comma-separated addresses and CIDR networks; `none` for an empty list.
fn parse_networks(name: &'static str, list: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    if list.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError {
                    name,
                    reason: format!("{item:?} is not an address or a CIDR network"),
                })
        })
        .collect()
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

pub const NOT_AN_ORIGIN: &str = "not an http(s) URL with a host and no path, query or credentials";

/// The origin (`scheme://host[:port]`) of a base URL, if it is nothing more than one.
pub fn origin_of(raw: &str) -> Option<String> {
    let url = reqwest::Url::parse(raw.trim()).ok()?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none();
    plain.then(|| url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests;
