//! Gateway settings from the environment. A gateway left unconfigured is served by the
//! built-in simulator (see `emulator::payments`), which `serve` attaches at start-up.

use super::{var_parsed, ConfigError, Lookup, Secret};

#[derive(Clone, Debug)]
pub struct MomoSettings {
    /// `https://test-payment.momo.vn` (sandbox) or `https://payment.momo.vn`.
    pub endpoint: String,
    pub partner_code: String,
    pub access_key: String,
    pub secret_key: Secret,
}

#[derive(Clone, Debug)]
pub struct ZaloPaySettings {
    /// `https://sb-openapi.zalopay.vn` (sandbox) or `https://openapi.zalopay.vn`.
    pub endpoint: String,
    pub app_id: i64,
    pub key1: Secret,
    pub key2: Secret,
}

/// The account bank transfers are made to, and the keys bank-transaction webhooks carry.
#[derive(Clone, Debug)]
pub struct BankSettings {
    pub bin: String,
    pub account_number: String,
    pub account_name: String,
    pub sepay_api_key: Option<Secret>,
    pub casso_checksum_key: Option<Secret>,
}

#[derive(Clone, Debug)]
pub struct PaymentSettings {
    pub momo: Option<MomoSettings>,
    pub zalopay: Option<ZaloPaySettings>,
    pub bank: BankSettings,
    /// Top-up limits for bank transfers and ZaloPay (MoMo's own are 1,000–50,000,000).
    pub min_amount: i64,
    pub max_amount: i64,
    /// Set when the simulator stands in for a gateway; shown to users so nobody pays for real.
    pub simulated: Vec<&'static str>,
    /// The simulator's base URL, when it runs.
    pub simulator_url: Option<String>,
}

impl PaymentSettings {
    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let momo = match (
            var("MOMO_PARTNER_CODE"),
            var("MOMO_ACCESS_KEY"),
            var("MOMO_SECRET_KEY"),
        ) {
            (Some(partner_code), Some(access_key), Some(secret)) => Some(MomoSettings {
                endpoint: var("MOMO_ENDPOINT")
                    .unwrap_or_else(|| "https://test-payment.momo.vn".into()),
                partner_code,
                access_key,
                secret_key: Secret::new(secret),
            }),
            (None, None, None) => None,
            _ => {
                return Err(ConfigError {
                    name: "MOMO_SECRET_KEY",
                    reason: "set MOMO_PARTNER_CODE, MOMO_ACCESS_KEY and MOMO_SECRET_KEY together"
                        .into(),
                })
            }
        };
        let zalopay = match (
            var_parsed::<i64>(lookup, "ZALOPAY_APP_ID")?,
            var("ZALOPAY_KEY1"),
            var("ZALOPAY_KEY2"),
        ) {
            (Some(app_id), Some(key1), Some(key2)) => Some(ZaloPaySettings {
                endpoint: var("ZALOPAY_ENDPOINT")
                    .unwrap_or_else(|| "https://sb-openapi.zalopay.vn".into()),
                app_id,
                key1: Secret::new(key1),
                key2: Secret::new(key2),
            }),
            (None, None, None) => None,
            _ => {
                return Err(ConfigError {
                    name: "ZALOPAY_KEY2",
                    reason: "set ZALOPAY_APP_ID, ZALOPAY_KEY1 and ZALOPAY_KEY2 together".into(),
                })
            }
        };
        let bin = var("BANK_BIN").unwrap_or_else(|| "970436".into());
        if bin.len() != 6 || !bin.chars().all(|c| c.is_ascii_digit()) {
            return Err(ConfigError {
                name: "BANK_BIN",
                reason: "the 6-digit NAPAS BIN of the receiving bank".into(),
            });
        }
        let min_amount = var_parsed(lookup, "TOPUP_MIN_VND")?.unwrap_or(10_000);
        let max_amount = var_parsed(lookup, "TOPUP_MAX_VND")?.unwrap_or(100_000_000);
        if min_amount < 1 || max_amount < min_amount {
            return Err(ConfigError {
                name: "TOPUP_MAX_VND",
                reason: "TOPUP_MIN_VND must be at least 1 and at most TOPUP_MAX_VND".into(),
            });
        }
        Ok(Self {
            momo,
            zalopay,
            bank: BankSettings {
                bin,
                account_number: var("BANK_ACCOUNT_NUMBER")
                    .unwrap_or_else(|| "0011001234567".into()),
                account_name: var("BANK_ACCOUNT_NAME").unwrap_or_else(|| "RINGCAST DEMO".into()),
                sepay_api_key: var("SEPAY_API_KEY").map(Secret::new),
                casso_checksum_key: var("CASSO_CHECKSUM_KEY").map(Secret::new),
            },
            min_amount,
            max_amount,
            simulated: Vec::new(),
            simulator_url: None,
        })
    }
}
