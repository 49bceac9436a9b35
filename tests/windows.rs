//! Calling windows at the dispatcher: a fixed clock swept over a day in half-hour steps, and the
//! carrier's ledger shows no call started outside the callee's local hours, in 13 countries.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Timelike, Utc};
use ringcast::dispatcher::Dispatcher;
use serde_json::{json, Value};

use crate::helpers::calling_hours::open;
use crate::helpers::carrier::Carrier;
use crate::helpers::{campaign, eventually, TestApp};

/// One number per country; the US, Australia, Brazil and Russia span several zones.
const NUMBERS: [(&str, &str); 13] = [
    ("VN", "+84912345678"),
    ("TH", "+66812345678"),
    ("SG", "+6581234568"),
    ("JP", "+819012345678"),
    ("IN", "+919812345678"),
    ("AE", "+971501234568"),
    ("DE", "+4915112345678"),
    ("GB", "+447400123458"),
    ("FR", "+33612345678"),
    ("BR", "+5511912345678"),
    ("US", "+14155552678"),
    ("AU", "+61412345678"),
    ("RU", "+79123456788"),
];

#[tokio::test]
async fn with_a_fixed_clock_no_call_starts_outside_the_callees_window() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let contacts: Vec<Value> = NUMBERS.iter().map(|(_, n)| json!({"phone": n})).collect();
    let id = campaign::create(&app, &token, &did, contacts, json!({"purpose": "SURVEY"})).await;
    campaign::start(&app, &token, &id).await;
    let runner = app.runner();

    let midnight = Utc.with_ymd_and_hms(2026, 11, 24, 0, 10, 0).unwrap();
    let mut judged = 0;
    let mut calls_at = Vec::new();
    for step in 0..48 {
        let at = midnight + chrono::Duration::minutes(30 * step);
        let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(move || at));
        while dispatcher.tick().await.unwrap() > 0 {}
        // Every attempt recorded at this instant reaches the carrier before the clock moves on.
        let recorded = app.count("calls").await as usize;
        let ledger = eventually(
            Duration::from_secs(10),
            "the carrier to see the calls",
            || async {
                let ledger = carrier.emulator.ledger();
                (ledger.len() == recorded).then_some(ledger)
            },
        )
        .await;
        for entry in &ledger[judged..] {
            let (country, _) = NUMBERS.iter().find(|(_, n)| *n == entry.to).unwrap();
            assert!(
                open(country, at),
                "{country} called at {at} ({:02}:{:02} UTC)",
                at.hour(),
                at.minute()
            );
            calls_at.push((*country, at));
        }
        judged = ledger.len();
        runner.drain().await.unwrap();
    }
    let mut dialed: Vec<&str> = calls_at.iter().map(|(c, _)| *c).collect();
    dialed.sort_unstable();
    dialed.dedup();
    assert_eq!(
        dialed.len(),
        NUMBERS.len(),
        "every country was called once its window opened: {calls_at:?}"
    );
    assert_eq!(calls_at.len(), NUMBERS.len(), "and only once");
    // Each call came at the first half-hour step of its window, not later.
    for (country, at) in &calls_at {
        let earlier = *at - chrono::Duration::minutes(30);
        assert!(
            !open(country, earlier) || *at == midnight,
            "{country} waited past its opening"
        );
    }
    let skipped = app
        .count("campaign_contacts WHERE skip_reason IS NOT NULL AND state = 'SKIPPED'")
        .await;
    assert_eq!(skipped, 0, "outside the window means later, never skipped");
}
