//! Calling windows: the platform's hours in the callee's local time, narrowed (never widened)
//! by the campaign's own schedule.

use chrono::{DateTime, Datelike, Duration, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use super::Purpose;

/// `[start, end)` in local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DailyWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl DailyWindow {
    pub fn hours(start: u32, end: u32) -> Self {
        let at = |h: u32| NaiveTime::from_hms_opt(h.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
        Self {
            start: at(start),
            end: if end >= 24 {
                NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN)
            } else {
                at(end)
            },
        }
    }

    pub fn contains(&self, local: NaiveTime) -> bool {
        local >= self.start && local < self.end
    }
}

/// Vietnam: 08:00-17:00 for marketing (Decree 91), 08:00-20:00 otherwise; elsewhere 08:00-21:00.
pub fn platform_window(country: &str, purpose: Purpose) -> DailyWindow {
    match (country, purpose) {
        ("VN", Purpose::Marketing) => DailyWindow::hours(8, 17),
        ("VN", _) => DailyWindow::hours(8, 20),
        _ => DailyWindow::hours(8, 21),
    }
}

/// The window holds at `at` in every zone the callee may be in.
pub fn open_everywhere(at: DateTime<Utc>, zones: &[Tz], window: DailyWindow) -> bool {
    !zones.is_empty()
        && zones
            .iter()
            .all(|tz| window.contains(at.with_timezone(tz).time()))
}

/// A campaign's own schedule, in its own time zone.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignSchedule {
    pub time_zone: Tz,
    pub start_at: Option<DateTime<Utc>>,
    pub end_at: Option<DateTime<Utc>>,
    pub daily: Option<DailyWindow>,
    /// Empty means every day.
    pub days: Vec<Weekday>,
}

impl CampaignSchedule {
    pub fn allows(&self, at: DateTime<Utc>) -> bool {
        if self.start_at.is_some_and(|s| at < s) || self.end_at.is_some_and(|e| at >= e) {
            return false;
        }
        let local = at.with_timezone(&self.time_zone);
        if !self.days.is_empty() && !self.days.contains(&local.weekday()) {
            return false;
        }
        self.daily.is_none_or(|w| w.contains(local.time()))
    }

    pub fn is_over(&self, at: DateTime<Utc>) -> bool {
        self.end_at.is_some_and(|e| at >= e)
    }
}

/// How far ahead we look for an opening before calling the attempt impossible.
pub const HORIZON: Duration = Duration::days(8);

/// The first whole minute from `from` at which `open` holds, within `HORIZON`.
pub fn next_opening(
    from: DateTime<Utc>,
    open: impl Fn(DateTime<Utc>) -> bool,
) -> Option<DateTime<Utc>> {
    let start = from
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(from)
        + Duration::minutes(1);
    let mut at = start;
    while at - start <= HORIZON {
        if open(at) {
            return Some(at);
        }
        at += Duration::minutes(1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid time")
    }

    #[test]
    fn vietnam_marketing_is_eight_to_five_local() {
        let vn = [chrono_tz::Asia::Ho_Chi_Minh];
        let w = platform_window("VN", Purpose::Marketing);
        assert!(
            !open_everywhere(utc(2026, 11, 24, 0, 59), &vn, w),
            "07:59 local"
        );
        assert!(
            open_everywhere(utc(2026, 11, 24, 1, 0), &vn, w),
            "08:00 local"
        );
        assert!(
            !open_everywhere(utc(2026, 11, 24, 10, 0), &vn, w),
            "17:00 local"
        );
        assert!(open_everywhere(
            utc(2026, 11, 24, 10, 0),
            &vn,
            platform_window("VN", Purpose::Reminder)
        ));
    }

    #[test]
    fn a_multi_zone_country_needs_every_zone_open() {
        let us = super::super::zones::zones_of("US").expect("US");
        let w = platform_window("US", Purpose::Reminder);
        // 14:00 in New York is 09:00 in Honolulu (winter): open everywhere.
        assert!(open_everywhere(utc(2026, 1, 15, 19, 0), &us, w));
        // 10:00 in New York is 05:00 in Honolulu: closed.
        assert!(!open_everywhere(utc(2026, 1, 15, 15, 0), &us, w));
        let next =
            next_opening(utc(2026, 1, 15, 15, 0), |t| open_everywhere(t, &us, w)).expect("opens");
        assert_eq!(next, utc(2026, 1, 15, 18, 0), "08:00 in Honolulu");
    }

    #[test]
    fn a_campaign_schedule_narrows_the_window() {
        let schedule = CampaignSchedule {
            time_zone: chrono_tz::Asia::Ho_Chi_Minh,
            start_at: None,
            end_at: Some(utc(2026, 11, 30, 0, 0)),
            daily: Some(DailyWindow::hours(9, 11)),
            days: vec![Weekday::Mon, Weekday::Tue],
        };
        assert!(schedule.allows(utc(2026, 11, 24, 2, 30)), "Tue 09:30 local");
        assert!(!schedule.allows(utc(2026, 11, 25, 2, 30)), "Wednesday");
        assert!(!schedule.allows(utc(2026, 11, 24, 4, 0)), "11:00 local");
        assert!(schedule.is_over(utc(2026, 11, 30, 0, 0)));
    }
}
