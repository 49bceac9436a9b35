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
mod tests;
