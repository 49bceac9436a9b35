//! The gate's verdict for each rule, and the calling window across ten countries.

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
