//! The calling-hours rule written out independently of the gate, and numbers that may be
//! called right now by processes running on the real clock. The platform bench includes this
//! file too (its `ringcast worker` processes run on the real clock), so both use one set of
//! plans, checked here for every hour of the day.

use chrono::{DateTime, Duration, Timelike, Utc};
use ringcast::compliance::zones::zones_of;

/// 08:00-20:00 in Vietnam, 08:00-21:00 elsewhere (non-marketing), in every zone of the country.
pub fn open(country: &str, at: DateTime<Utc>) -> bool {
    let close = if country == "VN" { 20 } else { 21 };
    zones_of(country).is_some_and(|zones| {
        zones.iter().all(|zone| {
            let hour = at.with_timezone(zone).hour();
            (8..close).contains(&hour)
        })
    })
}

/// (country, prefix, digits after it): mobile ranges with room for 100,000 numbers ending in 1
/// (the emulator answers them). Between them these countries cover every hour of the day with
/// at least 30 minutes to spare, in summer and in winter.
const PLANS: [(&str, &str, usize); 5] = [
    ("GB", "+447400", 6),
    ("JP", "+819012", 6),
    ("US", "+14152", 6),
    ("IN", "+919812", 6),
    ("NZ", "+64211", 6),
];

/// `count` distinct numbers (from `offset`), all ending in 1, in a country whose calling hours
/// are open at `at` and for the next 30 minutes (for the next two hours when one is).
/// The country and the numbers.
pub fn numbers_open_at(
    at: DateTime<Utc>,
    offset: usize,
    count: usize,
) -> Result<(&'static str, Vec<String>), String> {
    let open_for = |country: &str, span: Duration| open(country, at) && open(country, at + span);
    let (country, prefix, width) = PLANS
        .iter()
        .find(|(c, _, _)| open_for(c, Duration::hours(2)))
        .or_else(|| {
            PLANS
                .iter()
                .find(|(c, _, _)| open_for(c, Duration::minutes(30)))
        })
        .ok_or_else(|| format!("no country of the plans is inside its calling hours at {at}"))?;
    let capacity = 10usize.pow(*width as u32) / 10;
    if offset + count > capacity {
        return Err(format!("{country}: only {capacity} numbers in the plan"));
    }
    let numbers = (offset..offset + count)
        .map(|i| format!("{prefix}{:0width$}", i * 10 + 1, width = *width))
        .collect();
    Ok((country, numbers))
}

/// `count` distinct numbers ending in 1 in a country whose calling hours are open now and for
/// the next 30 minutes.
pub fn numbers_open_now(count: usize) -> Vec<String> {
    numbers_open_at(Utc::now(), 0, count)
        .expect("some country is inside its calling hours")
        .1
}

/// 10:00 in Vietnam (03:00 UTC) on the latest day when that is not in the future: inside the
/// calling window, and never ahead of the real clock. Retry delays and call times are stamped
/// by the real clock, so a test clock ahead of it would find a delay already past (between
/// 00:00 and 03:00 UTC, "today at 03:00" is up to three hours ahead).
pub fn vn_morning() -> DateTime<Utc> {
    let now = Utc::now();
    let today = now
        .date_naive()
        .and_hms_opt(3, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    if today <= now {
        today
    } else {
        today - Duration::days(1)
    }
}

#[cfg(test)]
mod tests {
    // Imports inside the tests: the bench includes this file without running them.

    /// Every ten minutes of a winter and a summer day (both hemispheres change clocks): some
    /// plan is picked, and its country stays open for the next 30 minutes.
    #[test]
    fn every_hour_of_the_day_has_an_open_country() {
        use super::{numbers_open_at, open};
        use chrono::{Duration, TimeZone, Utc};
        for day in [(2026, 1, 15), (2026, 7, 15)] {
            let day = Utc
                .with_ymd_and_hms(day.0, day.1, day.2, 0, 0, 0)
                .single()
                .unwrap();
            for step in 0..24 * 6 {
                let at = day + Duration::minutes(10 * step);
                let (country, _) =
                    numbers_open_at(at, 0, 1).unwrap_or_else(|e| panic!("at {at}: {e}"));
                for later in [0, 10, 20, 29] {
                    assert!(
                        open(country, at + Duration::minutes(later)),
                        "{country} picked at {at} is closed {later} minutes later"
                    );
                }
            }
        }
    }

    /// Every number of every plan, through the whole range, is a valid mobile or fixed line of
    /// the plan's country: whichever the hour picks, the gate can dial it.
    #[test]
    fn every_plan_yields_valid_numbers_of_its_country() {
        use super::PLANS;
        use ringcast::phone::NumberType;
        for (country, prefix, width) in PLANS {
            let capacity = 10usize.pow(width as u32) / 10;
            for i in (0..capacity).step_by(7).chain([capacity - 1]) {
                let number = format!("{prefix}{:0width$}", i * 10 + 1);
                let parsed = ringcast::phone::parse(&number, "VN")
                    .unwrap_or_else(|e| panic!("{number} ({country}): {e:?}"));
                assert_eq!(parsed.country.as_deref(), Some(country), "{number}");
                assert!(
                    matches!(
                        parsed.number_type,
                        NumberType::Mobile | NumberType::FixedLine | NumberType::FixedLineOrMobile
                    ),
                    "{number} is a {:?}",
                    parsed.number_type
                );
            }
        }
    }
}
