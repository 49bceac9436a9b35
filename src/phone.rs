//! Phone numbers are parsed once, at the edge, into E.164; nothing past the edge holds raw text.

use std::fmt;
use std::panic::AssertUnwindSafe;

use phonenumber::country;

/// A valid number in E.164 form (`+84912345678`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

impl E164 {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneNumber {
    pub e164: E164,
    /// ISO 3166 country the number belongs to, when the numbering plan says.
    pub country: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("empty")]
    Empty,
    #[error("too long")]
    TooLong,
    #[error("made of characters a phone number cannot have")]
    BadCharacters,
    #[error("not a valid phone number")]
    Invalid,
    #[error("unknown default country")]
    UnknownCountry,
}

/// Longest input we try to parse; real numbers with formatting fit easily.
const MAX_INPUT: usize = 32;

/// Parses `raw` as a number, reading national formats (`0912345678`) in `default_country`.
pub fn parse(raw: &str, default_country: &str) -> Result<PhoneNumber, PhoneError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    if trimmed.len() > MAX_INPUT {
        return Err(PhoneError::TooLong);
    }
    if !trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'))
    {
        return Err(PhoneError::BadCharacters);
    }
    let region: country::Id = default_country
        .trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| PhoneError::UnknownCountry)?;
    // The metadata-driven parser is large; a panic in it must not take a request down.
    let parsed = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let number = phonenumber::parse(Some(region), trimmed).ok()?;
        number.is_valid().then(|| {
            let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
            let country = number.country().id().map(|id| id.as_ref().to_owned());
            (e164, country)
        })
    }))
    .map_err(|_| PhoneError::Invalid)?;
    let (e164, country) = parsed.ok_or(PhoneError::Invalid)?;
    Ok(PhoneNumber {
        e164: E164(e164),
        country,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms() {
        let vn = parse("0912345678", "VN").expect("vn");
        assert_eq!(vn.e164.as_str(), "+84912345678");
        assert_eq!(vn.country.as_deref(), Some("VN"));
        assert_eq!(
            parse("+84 912 345 678", "US").expect("intl").e164.as_str(),
            "+84912345678"
        );
        assert_eq!(
            parse("(415) 555-2671", "US").expect("us").e164.as_str(),
            "+14155552671"
        );
        assert_eq!(
            parse("+44 20 7946 0958", "VN")
                .expect("gb")
                .country
                .as_deref(),
            Some("GB")
        );
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        for bad in [
            "",
            "   ",
            "+999999999999999999999",
            "12",
            "abc",
            "0912345678; DROP TABLE",
            "\u{0}\u{ff}",
            "++++",
            &"9".repeat(10_000),
        ] {
            assert!(parse(bad, "VN").is_err(), "{bad:?}");
        }
        assert_eq!(parse("0912345678", "XX"), Err(PhoneError::UnknownCountry));
    }
}
