//! The calling-hours rule written out independently of the gate, and numbers that may be
//! called right now by processes running on the real clock.

use chrono::{DateTime, NaiveTime, Utc};
use ringcast::compliance::zones::zones_of;

/// 08:00-20:00 in Vietnam, 08:00-21:00 elsewhere (non-marketing), in every zone of the country.
pub fn open(country: &str, at: DateTime<Utc>) -> bool {
    let close = if country == "VN" { 20 } else { 21 };
    zones_of(country)
        .expect("a known country")
        .iter()
        .all(|zone| {
            let local = at.with_timezone(zone).time();
            local >= NaiveTime::from_hms_opt(8, 0, 0).unwrap()
                && local < NaiveTime::from_hms_opt(close, 0, 0).unwrap()
        })
}

/// `count` distinct numbers ending in 1 (the emulator answers them) in a country whose
/// calling hours are open now and for the next 30 minutes. Between them these countries
/// cover every hour of the day.
pub fn numbers_open_now(count: usize) -> Vec<String> {
    const PLANS: [(&str, &str, usize); 5] = [
        ("GB", "+4474001", 5),
        ("JP", "+8190123", 5),
        ("US", "+14152", 6),
        ("IN", "+9198123", 5),
        ("NZ", "+64211", 6),
    ];
    let now = Utc::now();
    let (country, prefix, width) = PLANS
        .iter()
        .find(|(c, _, _)| open(c, now) && open(c, now + chrono::Duration::minutes(30)))
        .expect("some country is inside its calling hours");
    (0..count)
        .map(|i| {
            let number = format!("{prefix}{:0width$}", i * 10 + 1, width = *width);
            let parsed = ringcast::phone::parse(&number, "VN").expect("a valid number");
            assert_eq!(parsed.country.as_deref(), Some(*country), "{number}");
            number
        })
        .collect()
}
