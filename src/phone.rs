//! Phone numbers are parsed once, at the edge, into E.164; nothing past the edge holds raw text.

use std::fmt;
use std::panic::AssertUnwindSafe;

use phonenumber::country;

/// A valid number in E.164 form (`+84912345678`). Also a `text` column type (`db::e164`), so
/// a model read back from the database carries the parsed number, not a string.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
    serde::Serialize,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(transparent)]
pub struct E164(String);

impl E164 {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A number read back from a column that is only ever written from a parsed one.
    pub(crate) fn from_stored(stored: String) -> Self {
        Self(stored)
    }
}

impl std::ops::Deref for E164 {
    type Target = str;

    fn deref(&self) -> &str {
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
    /// What kind of line it is (see [`classify`]).
    pub number_type: NumberType,
}

crate::text_enum! {
    /// The kind of line a number is, from the numbering plan; only FIXED_LINE, MOBILE and FIXED_LINE_OR_MOBILE are callable without an admin allowance.
    pub enum NumberType {
        /// A landline; callable.
        FixedLine => "FIXED_LINE",
        /// A mobile line; callable.
        Mobile => "MOBILE",
        /// A landline or mobile line the plan does not tell apart; callable.
        FixedLineOrMobile => "FIXED_LINE_OR_MOBILE",
        /// Free to the caller (1800 in Vietnam); needs an allowance.
        TollFree => "TOLL_FREE",
        /// Premium-rate service (1900 in Vietnam); needs an allowance.
        PremiumRate => "PREMIUM_RATE",
        /// Cost shared between caller and callee; needs an allowance.
        SharedCost => "SHARED_COST",
        /// A personal number routed elsewhere; needs an allowance.
        PersonalNumber => "PERSONAL_NUMBER",
        /// An internet telephony number; needs an allowance.
        Voip => "VOIP",
        /// A pager; needs an allowance.
        Pager => "PAGER",
        /// Universal access number of a company; needs an allowance.
        Uan => "UAN",
        /// Direct-to-voicemail access; needs an allowance.
        Voicemail => "VOICEMAIL",
        /// Satellite and international networks (+870, +881, +882, +883); needs an allowance.
        Satellite => "SATELLITE",
        /// A range the platform's built-in list holds as a toll-fraud destination (e.g. +447624); needs an allowance.
        HighCost => "HIGH_COST",
        /// Short codes, emergency, carrier-specific or unrecognised ranges; needs an allowance.
        Unknown => "UNKNOWN",
    }
}

impl NumberType {
    /// The types anyone may call without an administrator's allowance.
    pub fn callable_by_default(self) -> bool {
        matches!(
            self,
            Self::FixedLine | Self::Mobile | Self::FixedLineOrMobile
        )
    }
}

/// Ranges refused whatever the metadata says (digits after `+`). libphonenumber types the
/// satellite and international-network codes as mobile, VoIP or not at all, yet they terminate
/// at several dollars a minute and are the classic destinations of international revenue-share
/// fraud (Twilio files them under "high-risk special"); +447624 is the Isle of Man's mobile
/// range, typed MOBILE, but resold to revenue-share operators and the most abused UK range.
/// An administrator can still allow any of these by type or prefix.
pub const HIGH_COST_PREFIXES: &[(&str, NumberType)] = &[
    // Inmarsat.
    ("870", NumberType::Satellite),
    // Global Mobile Satellite System: Iridium, Globalstar, Thuraya, ...
    ("881", NumberType::Satellite),
    // International networks (maritime, air, private carriers); no country bills them.
    ("882", NumberType::Satellite),
    ("883", NumberType::Satellite),
    ("447624", NumberType::HighCost),
];

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
            // Read with a default region, the crate judges the type by that region's plan
            // (+841900... read in the US came out MOBILE): a number of another country is
            // typed again from its E.164 form alone.
            let kind = if country.as_deref() == Some(region.as_ref()) {
                number.number_type(&phonenumber::metadata::DATABASE)
            } else {
                phonenumber::parse(None, &e164).map_or(phonenumber::Type::Unknown, |n| {
                    n.number_type(&phonenumber::metadata::DATABASE)
                })
            };
            (e164, country, kind)
        })
    }))
    .map_err(|_| PhoneError::Invalid)?;
    let (e164, country, kind) = parsed.ok_or(PhoneError::Invalid)?;
    let number_type = override_type(&e164).unwrap_or(from_metadata(kind));
    Ok(PhoneNumber {
        e164: E164(e164),
        country,
        number_type,
    })
}

/// The type of a number already in E.164 (`+...`); `Unknown` for anything unparseable, so a
/// bad stored value is never taken for a callable one.
pub fn classify(e164: &str) -> NumberType {
    if let Some(kind) = override_type(e164) {
        return kind;
    }
    parse(e164, "VN").map_or(NumberType::Unknown, |p| p.number_type)
}

fn override_type(e164: &str) -> Option<NumberType> {
    let digits = e164.strip_prefix('+')?;
    HIGH_COST_PREFIXES
        .iter()
        .find(|(prefix, _)| digits.starts_with(prefix))
        .map(|(_, kind)| *kind)
}

fn from_metadata(kind: phonenumber::Type) -> NumberType {
    use phonenumber::Type;
    match kind {
        Type::FixedLine => NumberType::FixedLine,
        Type::Mobile => NumberType::Mobile,
        Type::FixedLineOrMobile => NumberType::FixedLineOrMobile,
        Type::TollFree => NumberType::TollFree,
        Type::PremiumRate => NumberType::PremiumRate,
        Type::SharedCost => NumberType::SharedCost,
        Type::PersonalNumber => NumberType::PersonalNumber,
        Type::Voip => NumberType::Voip,
        Type::Pager => NumberType::Pager,
        Type::Uan => NumberType::Uan,
        Type::Voicemail => NumberType::Voicemail,
        _ => NumberType::Unknown,
    }
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

    /// What the metadata alone says about the numbers seen in the toll-fraud report, and what
    /// we make of them.
    #[test]
    fn premium_satellite_and_high_cost_numbers_are_typed() {
        let metadata = |raw: &str| {
            phonenumber::parse(None, raw).ok().map(|n| {
                (
                    n.is_valid(),
                    n.number_type(&phonenumber::metadata::DATABASE),
                )
            })
        };
        use phonenumber::Type;
        // The metadata knows premium rate in Vietnam (1900) and the NANP (900).
        assert_eq!(metadata("+841900123451"), Some((true, Type::PremiumRate)));
        assert_eq!(metadata("+8419001231"), Some((true, Type::PremiumRate)));
        assert_eq!(metadata("+19005551234"), Some((true, Type::PremiumRate)));
        // It calls these ordinary mobile or VoIP lines: hence HIGH_COST_PREFIXES.
        assert_eq!(metadata("+447624123456"), Some((true, Type::Mobile)));
        assert_eq!(metadata("+870772123456"), Some((true, Type::Mobile)));
        assert_eq!(metadata("+8816212345678"), Some((true, Type::Mobile)));
        assert_eq!(metadata("+882161234567"), Some((true, Type::Voip)));
        for (raw, expected) in [
            ("+841900123451", NumberType::PremiumRate),
            ("+8419001231", NumberType::PremiumRate),
            ("+19005551234", NumberType::PremiumRate),
            ("+447624123456", NumberType::HighCost),
            ("+870772123456", NumberType::Satellite),
            ("+8816212345678", NumberType::Satellite),
            ("+882161234567", NumberType::Satellite),
        ] {
            assert_eq!(
                parse(raw, "VN").map(|p| p.number_type),
                Ok(expected),
                "{raw}"
            );
            assert!(!expected.callable_by_default(), "{raw}");
        }
        let kind = |raw: &str| parse(raw, "VN").map(|p| p.number_type);
        assert_eq!(kind("+84912345678"), Ok(NumberType::Mobile));
        assert_eq!(kind("+842871012345"), Ok(NumberType::FixedLine));
        assert_eq!(kind("+14155552671"), Ok(NumberType::FixedLineOrMobile));
        assert_eq!(classify("+841900123451"), NumberType::PremiumRate);
        assert_eq!(classify("+447624123456"), NumberType::HighCost);
        assert_eq!(classify("+870772123456"), NumberType::Satellite);
        assert_eq!(classify("+882161234567"), NumberType::Satellite);
        assert_eq!(classify("not a number"), NumberType::Unknown);
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
