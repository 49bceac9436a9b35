//! The compliance gate: one pure function, run for every attempt just before dialing.

use chrono::{DateTime, Duration, Utc};

use super::numbers::NumberFact;
use super::window::{next_opening, open_everywhere, platform_window, CampaignSchedule};
use super::zones::zones_of;
use super::{Purpose, SkipReason};

/// What is being dialed, by whom and why.
#[derive(Clone, Debug)]
pub struct Attempt<'a> {
    /// E.164.
    pub to: &'a str,
    /// ISO country of `to`; `None` when the numbering plan does not say.
    pub country: Option<&'a str>,
    pub purpose: Purpose,
    /// The caller ID is a number we own, assigned to the campaign's owner, ACTIVE.
    pub caller_id_ok: bool,
    pub schedule: Option<&'a CampaignSchedule>,
}

/// Platform limits on calls to one destination (admin-set; users may only be stricter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    pub max_per_24h: u32,
    pub min_gap: Duration,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            max_per_24h: 2,
            min_gap: Duration::hours(1),
        }
    }
}

/// What the database knows about the destination, read in the same transaction as the claim.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub on_platform_dnc: bool,
    pub on_user_dnc: bool,
    /// Attempts to this number by anyone, in the last 24 h.
    pub attempts_24h: Vec<DateTime<Utc>>,
    /// Attempts to this number by this user, in the last 24 h.
    pub user_attempts_24h: Vec<DateTime<Utc>>,
    /// The platform's caps, over everyone's attempts.
    pub caps: Caps,
    /// The user's own (stricter) caps, over their attempts.
    pub user_caps: Option<Caps>,
    /// The destination's kind (premium, satellite, ...) and whether it may be called.
    pub number: NumberFact,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Dial,
    /// Never dial this attempt.
    Skip(SkipReason),
    /// Not now; try again at `until` (the reason is recorded on the attempt).
    Defer {
        until: DateTime<Utc>,
        reason: SkipReason,
    },
}

/// Rules about the number itself, whoever asks.
fn check_destination(facts: &Facts) -> Option<SkipReason> {
    if facts.on_platform_dnc || facts.on_user_dnc {
        return Some(SkipReason::Dnc);
    }
    if !facts.number.allowed {
        return Some(SkipReason::NumberType);
    }
    None
}

/// Every leg of every call passes here: a campaign's attempt, and a forwarded or transferred
/// leg (`calls::leg`), with the same facts (`facts::gather`) and the same rules.
pub fn check(attempt: &Attempt<'_>, facts: &Facts, now: DateTime<Utc>) -> Verdict {
    if let Some(reason) = check_destination(facts) {
        return Verdict::Skip(reason);
    }
    if !attempt.caller_id_ok {
        return Verdict::Skip(SkipReason::CallerId);
    }
    // Unknown country or zones: we cannot know the callee's local time, so we do not call.
    let Some(country) = attempt.country else {
        return Verdict::Skip(SkipReason::Window);
    };
    let Some(zones) = zones_of(country) else {
        return Verdict::Skip(SkipReason::Window);
    };
    if attempt.schedule.is_some_and(|s| s.is_over(now)) {
        return Verdict::Skip(SkipReason::Window);
    }
    let window = platform_window(country, attempt.purpose);
    let open = |at: DateTime<Utc>| {
        open_everywhere(at, &zones, window) && attempt.schedule.is_none_or(|s| s.allows(at))
    };
    if !open(now) {
        return match next_opening(now, open) {
            Some(until) => Verdict::Defer {
                until,
                reason: SkipReason::Window,
            },
            None => Verdict::Skip(SkipReason::Window),
        };
    }
    if let Some(until) = cap_opens_at(attempt, facts, now) {
        return Verdict::Defer {
            until: super::caps::coarse_deferral(until),
            reason: SkipReason::Cap,
        };
    }
    Verdict::Dial
}

/// When the per-number caps next allow a call, if they forbid one now.
fn cap_opens_at(attempt: &Attempt<'_>, facts: &Facts, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let day = Duration::hours(24);
    let mut until = caps_open_at(&facts.attempts_24h, facts.caps, now);
    let mut later = |t: Option<DateTime<Utc>>| {
        if let Some(t) = t {
            until = Some(until.map_or(t, |u| u.max(t)));
        }
    };
    if let Some(own) = facts.user_caps {
        later(caps_open_at(&facts.user_attempts_24h, own, now));
    }
    // Decree 91: at most one advertising call per advertiser per number per 24 h.
    if attempt.purpose == Purpose::Marketing && attempt.country == Some("VN") {
        let last = facts
            .user_attempts_24h
            .iter()
            .filter(|t| now - **t < day)
            .max();
        later(last.map(|last| *last + day));
    }
    until
}

/// When `caps` next allow one more attempt after `attempts`, if they forbid one now.
fn caps_open_at(
    attempts: &[DateTime<Utc>],
    caps: Caps,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let day = Duration::hours(24);
    let mut recent: Vec<_> = attempts
        .iter()
        .copied()
        .filter(|t| now - *t < day)
        .collect();
    recent.sort();
    let mut until = None;
    if let Some(last) = recent.last() {
        // No gap, no rule. `now` was read before the number's lock was taken, so another
        // process's attempt may be stamped after it; a zero gap compared against that would
        // defer to the next quarter hour a contact the daily cap alone should judge.
        if caps.min_gap > Duration::zero() && now - *last < caps.min_gap {
            until = Some(*last + caps.min_gap);
        }
    }
    let max = caps.max_per_24h as usize;
    if max > 0 && recent.len() >= max {
        // Once enough old attempts age out, one more fits.
        let aged = recent[recent.len() - max] + day;
        until = Some(until.map_or(aged, |u: DateTime<Utc>| u.max(aged)));
    }
    until
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        // 2026-11-24 in UTC; Vietnam is UTC+7.
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0)
            .single()
            .expect("time")
    }

    fn vn(purpose: Purpose) -> Attempt<'static> {
        Attempt {
            to: "+84912345678",
            country: Some("VN"),
            purpose,
            caller_id_ok: true,
            schedule: None,
        }
    }

    #[test]
    fn dnc_and_caller_id_skip() {
        let facts = Facts {
            on_user_dnc: true,
            ..Facts::default()
        };
        assert_eq!(
            check(&vn(Purpose::Reminder), &facts, at(3, 0)),
            Verdict::Skip(SkipReason::Dnc)
        );
        let attempt = Attempt {
            caller_id_ok: false,
            ..vn(Purpose::Reminder)
        };
        assert_eq!(
            check(&attempt, &Facts::default(), at(3, 0)),
            Verdict::Skip(SkipReason::CallerId)
        );
    }

    #[test]
    fn a_number_type_nobody_allowed_is_never_dialed() {
        let facts = Facts {
            number: NumberFact {
                number_type: crate::phone::NumberType::PremiumRate,
                allowed: false,
            },
            ..Facts::default()
        };
        assert_eq!(
            check(&vn(Purpose::Transactional), &facts, at(3, 0)),
            Verdict::Skip(SkipReason::NumberType)
        );
    }

    #[test]
    fn outside_the_window_waits_for_the_opening() {
        // 18:00 in Vietnam: marketing waits for 08:00 tomorrow, a reminder may still call.
        let verdict = check(&vn(Purpose::Marketing), &Facts::default(), at(11, 0));
        assert_eq!(
            verdict,
            Verdict::Defer {
                until: Utc
                    .with_ymd_and_hms(2026, 11, 25, 1, 0, 0)
                    .single()
                    .expect("t"),
                reason: SkipReason::Window
            }
        );
        assert_eq!(
            check(&vn(Purpose::Reminder), &Facts::default(), at(11, 0)),
            Verdict::Dial
        );
    }

    #[test]
    fn unknown_country_is_never_called() {
        let attempt = Attempt {
            country: None,
            ..vn(Purpose::Reminder)
        };
        assert_eq!(
            check(&attempt, &Facts::default(), at(3, 0)),
            Verdict::Skip(SkipReason::Window)
        );
        let attempt = Attempt {
            country: Some("ZZ"),
            ..vn(Purpose::Reminder)
        };
        assert_eq!(
            check(&attempt, &Facts::default(), at(3, 0)),
            Verdict::Skip(SkipReason::Window)
        );
    }

    #[test]
    fn caps_defer_until_they_allow_again() {
        let now = at(5, 0);
        let gap = Facts {
            attempts_24h: vec![now - Duration::minutes(20)],
            ..Facts::default()
        };
        assert_eq!(
            check(&vn(Purpose::Reminder), &gap, now),
            Verdict::Defer {
                until: now + Duration::minutes(45),
                reason: SkipReason::Cap
            }
        );
        let full = Facts {
            attempts_24h: vec![now - Duration::hours(20), now - Duration::hours(3)],
            ..Facts::default()
        };
        assert_eq!(
            check(&vn(Purpose::Reminder), &full, now),
            Verdict::Defer {
                until: now + Duration::hours(4) + Duration::minutes(15),
                reason: SkipReason::Cap
            }
        );
        let old = Facts {
            attempts_24h: vec![now - Duration::hours(30), now - Duration::hours(3)],
            ..Facts::default()
        };
        assert_eq!(check(&vn(Purpose::Reminder), &old, now), Verdict::Dial);
        // Without a gap, an attempt another process stamped just after this one's clock
        // read counts only towards the daily cap.
        let no_gap = Caps {
            max_per_24h: 2,
            min_gap: Duration::zero(),
        };
        let raced = Facts {
            attempts_24h: vec![now + Duration::seconds(1)],
            caps: no_gap,
            ..Facts::default()
        };
        assert_eq!(check(&vn(Purpose::Reminder), &raced, now), Verdict::Dial);
        let raced_full = Facts {
            attempts_24h: vec![now - Duration::seconds(2), now + Duration::seconds(1)],
            caps: no_gap,
            ..Facts::default()
        };
        assert_eq!(
            check(&vn(Purpose::Reminder), &raced_full, now),
            Verdict::Defer {
                until: super::super::caps::coarse_deferral(
                    now - Duration::seconds(2) + Duration::hours(24)
                ),
                reason: SkipReason::Cap
            }
        );
        let decree = Facts {
            user_attempts_24h: vec![now - Duration::hours(5)],
            attempts_24h: vec![now - Duration::hours(5)],
            ..Facts::default()
        };
        assert_eq!(
            check(&vn(Purpose::Marketing), &decree, now),
            Verdict::Defer {
                until: now + Duration::hours(19) + Duration::minutes(15),
                reason: SkipReason::Cap
            }
        );
        assert_eq!(check(&vn(Purpose::Reminder), &decree, now), Verdict::Dial);
    }

    #[test]
    fn admin_caps_bind_everyone_and_a_users_own_caps_bind_only_their_attempts() {
        let now = at(5, 0);
        let others = vec![now - Duration::hours(10), now - Duration::hours(5)];
        // The admin allows three a day with no gap: a third call by anyone may go.
        let loose = Facts {
            attempts_24h: others.clone(),
            caps: Caps {
                max_per_24h: 3,
                min_gap: Duration::zero(),
            },
            ..Facts::default()
        };
        assert_eq!(check(&vn(Purpose::Reminder), &loose, now), Verdict::Dial);
        // A user who allows themselves one a day is held by their own earlier call only.
        let own = Caps {
            max_per_24h: 1,
            min_gap: Duration::hours(2),
        };
        let strict = Facts {
            user_caps: Some(own),
            ..loose.clone()
        };
        assert_eq!(check(&vn(Purpose::Reminder), &strict, now), Verdict::Dial);
        let mine = Facts {
            user_attempts_24h: vec![now - Duration::hours(5)],
            ..strict
        };
        assert_eq!(
            check(&vn(Purpose::Reminder), &mine, now),
            Verdict::Defer {
                until: now + Duration::hours(19) + Duration::minutes(15),
                reason: SkipReason::Cap
            }
        );
    }

    #[test]
    fn no_call_starts_outside_the_callee_window_in_any_of_ten_countries() {
        // A fixed clock swept over two days, minute by minute, for numbers in 12 countries.
        let countries = [
            "VN", "TH", "SG", "JP", "GB", "FR", "DE", "AU", "US", "CA", "BR", "RU",
        ];
        for country in countries {
            let attempt = Attempt {
                to: "+1",
                country: Some(country),
                purpose: Purpose::Survey,
                caller_id_ok: true,
                schedule: None,
            };
            let zones = zones_of(country).expect("zones");
            let window = platform_window(country, Purpose::Survey);
            let mut t = at(0, 0);
            while t < at(0, 0) + Duration::hours(48) {
                match check(&attempt, &Facts::default(), t) {
                    Verdict::Dial => assert!(
                        zones
                            .iter()
                            .all(|z| window.contains(t.with_timezone(z).time())),
                        "{country} at {t}"
                    ),
                    Verdict::Defer { until, .. } => assert!(
                        open_everywhere(until, &zones, window),
                        "{country} opening {until}"
                    ),
                    Verdict::Skip(reason) => panic!("{country} skipped: {reason:?}"),
                }
                t += Duration::minutes(7);
            }
        }
    }
}
