//! Reading the numbers Twilio reports and admins name: their country, and whether they are
//! valid international numbers.

use crate::error::{AppError, AppResult};

/// ISO country of a number Twilio reports, as `phone::parse` reads it; `ZZ` when the
/// numbering plan does not say.
pub fn country_of(e164: &str) -> String {
    crate::phone::parse(e164, "VN")
        .ok()
        .and_then(|p| p.country)
        .unwrap_or_else(|| "ZZ".to_owned())
}

/// A number an admin names for purchase: in international form, and valid by the numbering
/// plan (the one parser every number goes through).
pub fn parse_e164(field: &'static str, raw: &str) -> AppResult<String> {
    let refuse = || {
        AppError::bad_input(
            field,
            "a phone number in international format, such as +84912345678",
        )
    };
    if !raw.trim_start().starts_with('+') {
        return Err(refuse());
    }
    crate::phone::parse(raw, "VN")
        .map(|p| p.e164.as_str().to_owned())
        .map_err(|_| refuse())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_and_numbers() {
        assert_eq!(country_of("+84912345678"), "VN");
        assert_eq!(country_of("+14155550100"), "US");
        assert_eq!(country_of("+85291234567"), "HK");
        assert_eq!(country_of("+999"), "ZZ");
        // Countries the old prefix table did not list are read from the numbering plan.
        assert_eq!(country_of("+5511987654321"), "BR");
        assert_eq!(
            parse_e164("f", "+84 91-234 5678").ok().as_deref(),
            Some("+84912345678")
        );
        assert!(parse_e164("f", "0912345678").is_err());
        assert!(parse_e164("f", "+999999999999999999999").is_err());
        // Fifteen digits of nothing: no country's plan has it.
        assert!(parse_e164("f", "+999123456789").is_err());
    }
}
