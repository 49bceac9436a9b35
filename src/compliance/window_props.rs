//! Properties of the calling window as the gate applies it. The oracle states the hours as the
//! README does and finds local time from each zone's UTC offset rather than `with_timezone`, so a
//! wrong zone, boundary, day or search shows up as a counterexample.

use chrono::{
    DateTime, Datelike, Duration, DurationRound, NaiveDateTime, NaiveTime, Offset, TimeZone,
    Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use super::gate::{check, Attempt, Facts, Verdict};
use super::window::{next_opening, CampaignSchedule, DailyWindow, HORIZON};
use super::zones::zones_of;
use super::{Purpose, SkipReason};

/// Every country we call, and one we do not.
const COUNTRIES: &[&str] = &[
    "VN", "TH", "KH", "LA", "SG", "MY", "PH", "HK", "TW", "CN", "JP", "KR", "IN", "AE", "GB", "IE",
    "FR", "DE", "NL", "IT", "ES", "PL", "NZ", "ID", "AU", "US", "CA", "MX", "BR", "RU", "ZZ",
];
const PURPOSES: [Purpose; 4] = [
    Purpose::Transactional,
    Purpose::Reminder,
    Purpose::Survey,
    Purpose::Marketing,
];
/// Campaign zones with and without DST, and with half-hour offsets.
const SCHEDULE_ZONES: &[&str] = &[
    "Asia/Ho_Chi_Minh",
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "America/St_Johns",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "Pacific/Honolulu",
];
const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// 2024-01-01T00:00Z; instants span nine years of DST changes from there.
const EPOCH: i64 = 1_704_067_200;
const QUARTERS: i64 = 9 * 365 * 96;

/// Mostly quarter hours give or take a second, where every platform boundary falls in every
/// listed zone (offsets are whole half hours), and some arbitrary seconds.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        (0..QUARTERS, -1i64..=1).prop_map(|(q, s)| EPOCH + q * 900 + s),
        (0..QUARTERS * 900).prop_map(|s| EPOCH + s),
    ]
    .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or_default())
}

fn minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::minutes(1)).unwrap_or(t)
}

/// Wall-clock time in `tz` at `at`.
fn local(at: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    let offset = tz.offset_from_utc_datetime(&at.naive_utc()).fix();
    at.naive_utc() + Duration::seconds(offset.local_minus_utc().into())
}

/// README: 08:00-17:00 for marketing in Vietnam, 08:00-20:00 for anything else there, 08:00-21:00
/// elsewhere, in every zone of the country; a country we have no zones for is never open.
fn platform_open(at: DateTime<Utc>, country: &str, purpose: Purpose) -> bool {
    let close = match (country, purpose) {
        ("VN", Purpose::Marketing) => 17,
        ("VN", _) => 20,
        _ => 21,
    };
    let hours = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
    zones_of(country).is_some_and(|zones| {
        !zones.is_empty()
            && zones.iter().all(|tz| {
                let t = local(at, *tz).time();
                t >= hours(8) && t < hours(close)
            })
    })
}

fn schedule_allows(s: &CampaignSchedule, at: DateTime<Utc>) -> bool {
    let l = local(at, s.time_zone);
    s.start_at.is_none_or(|start| at >= start)
        && s.end_at.is_none_or(|end| at < end)
        && (s.days.is_empty() || s.days.contains(&l.weekday()))
        && s.daily
            .is_none_or(|w| l.time() >= w.start && l.time() < w.end)
}

fn attempt<'a>(
    country: &'a str,
    purpose: Purpose,
    schedule: Option<&'a CampaignSchedule>,
) -> Attempt<'a> {
    Attempt {
        to: "+10000000000",
        country: Some(country),
        purpose,
        caller_id_ok: true,
        schedule,
    }
}

/// A campaign schedule around `now`, on whole minutes as the API takes them.
fn schedule_near(now: DateTime<Utc>) -> impl Strategy<Value = CampaignSchedule> {
    let base = minute(now);
    (
        select(SCHEDULE_ZONES),
        proptest::option::of(-3 * 1440i64..3 * 1440),
        proptest::option::of(1i64..10 * 1440),
        proptest::option::of((0u32..1439, 1u32..1439)),
        subsequence(WEEKDAYS.to_vec(), 0..=7),
    )
        .prop_map(move |(zone, start, length, daily, days)| {
            let start_at = start.map(|m| base + Duration::minutes(m));
            let at_min =
                |m: u32| NaiveTime::from_hms_opt(m / 60, m % 60, 0).unwrap_or(NaiveTime::MIN);
            CampaignSchedule {
                time_zone: zone.parse().unwrap_or(Tz::UTC),
                start_at,
                end_at: length.map(|m| start_at.unwrap_or(base) + Duration::minutes(m)),
                daily: daily.map(|(s, len)| DailyWindow {
                    start: at_min(s),
                    end: at_min((s + len).min(1439)),
                }),
                days,
            }
        })
}

/// The first whole minute after `from` at which `open` holds, by walking every minute.
fn first_open_minute(
    from: DateTime<Utc>,
    open: impl Fn(DateTime<Utc>) -> bool,
) -> Option<DateTime<Utc>> {
    let start = minute(from) + Duration::minutes(1);
    (0..=HORIZON.num_minutes())
        .map(|m| start + Duration::minutes(m))
        .find(|t| open(*t))
}

/// A deferral is exact and stable: `until` is the first open minute, asking again at any moment
/// before it gives the same answer (the dispatcher re-checks), and at `until` the call goes.
fn assert_deferral_exact(
    attempt: &Attempt<'_>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    open: impl Fn(DateTime<Utc>) -> bool,
    fraction: f64,
) -> Result<(), TestCaseError> {
    prop_assert!(!open(now), "deferred at an open moment {now}");
    prop_assert_eq!(first_open_minute(now, &open), Some(until));
    let again = now + Duration::seconds(((until - now).num_seconds() as f64 * fraction) as i64);
    prop_assert_eq!(
        check(attempt, &Facts::default(), again),
        Verdict::Defer {
            until,
            reason: SkipReason::Window
        },
        "asked again at {}",
        again
    );
    prop_assert_eq!(check(attempt, &Facts::default(), until), Verdict::Dial);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Without a campaign schedule the gate dials exactly when every zone of the callee's country
    /// is within the platform hours, and otherwise waits for the first minute they all are.
    #[test]
    fn the_gate_dials_exactly_inside_the_platform_hours(
        now in instant(),
        country in select(COUNTRIES),
        purpose in select(PURPOSES.to_vec()),
        fraction in 0.0..1.0f64,
    ) {
        let attempt = attempt(country, purpose, None);
        let open = |t| platform_open(t, country, purpose);
        match check(&attempt, &Facts::default(), now) {
            Verdict::Dial => prop_assert!(open(now)),
            Verdict::Skip(reason) => {
                prop_assert_eq!(reason, SkipReason::Window);
                prop_assert!(zones_of(country).is_none(), "{} skipped", country);
            }
            Verdict::Defer { until, reason } => {
                prop_assert_eq!(reason, SkipReason::Window);
                assert_deferral_exact(&attempt, now, until, open, fraction)?;
            }
        }
    }
}

proptest! {
    // Each case may walk eight days of minutes.
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// A campaign schedule narrows the platform hours and never widens them: the gate dials only
    /// when both allow, defers to the first minute both allow (never earlier than without the
    /// schedule), and gives up only when no such minute comes within the horizon.
    #[test]
    fn a_schedule_only_narrows_the_window(
        (now, schedule) in instant().prop_flat_map(|now| (Just(now), schedule_near(now))),
        country in select(&COUNTRIES[..COUNTRIES.len() - 1]),
        purpose in select(PURPOSES.to_vec()),
        fraction in 0.0..1.0f64,
    ) {
        let narrowed = attempt(country, purpose, Some(&schedule));
        let open = |t| platform_open(t, country, purpose) && schedule_allows(&schedule, t);
        let platform_only = check(&attempt(country, purpose, None), &Facts::default(), now);
        match check(&narrowed, &Facts::default(), now) {
            Verdict::Dial => {
                prop_assert!(open(now));
                prop_assert_eq!(platform_only, Verdict::Dial);
            }
            Verdict::Skip(reason) => {
                prop_assert_eq!(reason, SkipReason::Window);
                let over = schedule.end_at.is_some_and(|end| now >= end);
                prop_assert!(over || first_open_minute(now, open).is_none());
            }
            Verdict::Defer { until, reason } => {
                prop_assert_eq!(reason, SkipReason::Window);
                if let Verdict::Defer { until: sooner, .. } = platform_only {
                    prop_assert!(sooner <= until);
                }
                assert_deferral_exact(&narrowed, now, until, open, fraction)?;
            }
        }
    }

    /// `next_opening` over a predicate that first holds `first` minutes after the first whole
    /// minute past `from`, then every `period` minutes: it finds that minute, up to and including
    /// the horizon's last, and nothing past it.
    #[test]
    fn next_opening_finds_the_first_open_minute_within_the_horizon(
        from in instant(),
        first in prop_oneof![
            0..=HORIZON.num_minutes() + 2,
            (HORIZON.num_minutes() - 1)..=(HORIZON.num_minutes() + 1),
        ],
        period in 1i64..3000,
    ) {
        let start = minute(from) + Duration::minutes(1);
        let open = |t: DateTime<Utc>| {
            let m = (t - start).num_minutes() - first;
            t.second() == 0 && m >= 0 && m % period == 0
        };
        let expected = (first <= HORIZON.num_minutes()).then(|| start + Duration::minutes(first));
        prop_assert_eq!(next_opening(from, open), expected);
    }
}
