//! Where a number's callee may be: the time zones of its country. A number whose country spans
//! several zones is called only when the window is open in all of them.

/// IANA zones per country for the countries we call; countries not listed are blocked.
const ZONES: &[(&str, &[&str])] = &[
    ("VN", &["Asia/Ho_Chi_Minh"]),
    ("TH", &["Asia/Bangkok"]),
    ("KH", &["Asia/Phnom_Penh"]),
    ("LA", &["Asia/Vientiane"]),
    ("SG", &["Asia/Singapore"]),
    ("MY", &["Asia/Kuala_Lumpur"]),
    ("PH", &["Asia/Manila"]),
    ("HK", &["Asia/Hong_Kong"]),
    ("TW", &["Asia/Taipei"]),
    ("CN", &["Asia/Shanghai"]),
    ("JP", &["Asia/Tokyo"]),
    ("KR", &["Asia/Seoul"]),
    ("IN", &["Asia/Kolkata"]),
    ("AE", &["Asia/Dubai"]),
    ("GB", &["Europe/London"]),
    ("IE", &["Europe/Dublin"]),
    ("FR", &["Europe/Paris"]),
    ("DE", &["Europe/Berlin"]),
    ("NL", &["Europe/Amsterdam"]),
    ("IT", &["Europe/Rome"]),
    ("ES", &["Europe/Madrid", "Atlantic/Canary"]),
    ("PL", &["Europe/Warsaw"]),
    ("NZ", &["Pacific/Auckland"]),
    ("ID", &["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]),
    (
        "AU",
        &[
            "Australia/Perth",
            "Australia/Darwin",
            "Australia/Adelaide",
            "Australia/Brisbane",
            "Australia/Sydney",
        ],
    ),
    (
        "US",
        &[
            "America/New_York",
            "America/Chicago",
            "America/Denver",
            "America/Phoenix",
            "America/Los_Angeles",
            "America/Anchorage",
            "Pacific/Honolulu",
        ],
    ),
    (
        "CA",
        &[
            "America/St_Johns",
            "America/Halifax",
            "America/Toronto",
            "America/Winnipeg",
            "America/Edmonton",
            "America/Vancouver",
        ],
    ),
    (
        "MX",
        &[
            "America/Cancun",
            "America/Mexico_City",
            "America/Chihuahua",
            "America/Tijuana",
        ],
    ),
    (
        "BR",
        &[
            "America/Noronha",
            "America/Sao_Paulo",
            "America/Manaus",
            "America/Rio_Branco",
        ],
    ),
    (
        "RU",
        &[
            "Europe/Kaliningrad",
            "Europe/Moscow",
            "Asia/Yekaterinburg",
            "Asia/Novosibirsk",
            "Asia/Krasnoyarsk",
            "Asia/Irkutsk",
            "Asia/Vladivostok",
            "Asia/Kamchatka",
        ],
    ),
];

pub fn zones_of(country: &str) -> Option<Vec<chrono_tz::Tz>> {
    let (_, names) = ZONES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(country))?;
    names.iter().map(|n| n.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_zone_parses() {
        for (country, names) in ZONES {
            assert_eq!(
                zones_of(country).map(|z| z.len()),
                Some(names.len()),
                "{country}"
            );
        }
        assert!(zones_of("ZZ").is_none());
    }
}
