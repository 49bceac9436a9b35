//! The calling rules judged at the real dispatcher (fixed clock, emulated carrier): caller IDs
//! come only from the owner's live numbers, Vietnam's marketing hours close at 17:00, and a
//! daylight-saving change moves a multi-zone country's window exactly as its zones say. The
//! expectations are written here from chrono-tz, not taken from the gate.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use ringcast::dispatcher::Dispatcher;
use serde_json::{json, Value};

use crate::helpers::campaign;
use crate::helpers::carrier::Carrier;
use crate::helpers::{eventually, TestApp};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap()
}

/// Runs the dispatcher at `at` until it has nothing left to claim, and waits for the carrier
/// to see every call it recorded; returns the numbers dialed at `at`.
async fn dispatch_at(app: &TestApp, carrier: &Carrier, at: DateTime<Utc>) -> BTreeSet<String> {
    let before = carrier.emulator.ledger().len();
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(move || at));
    while dispatcher.tick().await.unwrap() > 0 {}
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
    ledger[before..].iter().map(|e| e.to.clone()).collect()
}

/// Every call has ended and its jobs have run: nothing is left in the queue.
async fn wind_down(app: &TestApp) {
    let runner = app.runner();
    eventually(Duration::from_secs(30), "every call to end", || async {
        runner.drain().await.unwrap();
        (app.count("calls WHERE ended_at IS NULL").await == 0).then_some(())
    })
    .await;
    runner.drain().await.unwrap();
}

const CONTACTS: &str = "query($id: ID!) { contacts(campaignId: $id, first: 100) { edges { node { phone state nextAttemptAt skipReason } } } }";

/// Each contact of the campaign by phone.
async fn contacts(app: &TestApp, token: &str, id: &str) -> HashMap<String, Value> {
    let r = app.gql_as(token, CONTACTS, json!({"id": id})).await;
    r.data("contacts.edges")
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["phone"].as_str().unwrap().to_owned(),
                e["node"].clone(),
            )
        })
        .collect()
}

fn next_attempt_at(contact: &Value) -> Option<DateTime<Utc>> {
    contact["nextAttemptAt"]
        .as_str()
        .map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

async fn started(app: &TestApp, token: &str, did: &str, phones: &[String], extra: Value) -> String {
    let contacts = phones.iter().map(|p| json!({"phone": p})).collect();
    let id = campaign::create(app, token, did, contacts, extra).await;
    campaign::start(app, token, &id).await;
    id
}

async fn admin_gql(app: &TestApp, admin: &str, mutation: &str, input: Value) {
    app.gql_as(admin, mutation, json!({"i": input}))
        .await
        .assert_ok();
}

const ASSIGN: &str = "mutation($i: AssignDidInput!) { assignDid(input: $i) { did { id } } }";
const UNASSIGN: &str = "mutation($i: UnassignDidInput!) { unassignDid(input: $i) { did { id } } }";
const RELEASE: &str = "mutation($i: ReleaseDidInput!) { releaseDid(input: $i) { did { id } } }";

/// Each number on the carrier, id -> phone.
async fn numbers(app: &TestApp, admin: &str) -> HashMap<String, String> {
    let r = app
        .gql_as(
            admin,
            "{ dids(first: 100) { edges { node { id phoneNumber } } } }",
            json!({}),
        )
        .await;
    r.data("dids.edges")
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["id"].as_str().unwrap().to_owned(),
                e["node"]["phoneNumber"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_caller_id_no_longer_the_owners_live_number_is_never_dialed_from() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(5).await;
    let (token, owner, live) = app.user_with_number(&admin, &carrier).await;
    let (_, _, _, other_user) = app.user().await;
    let phone_of = numbers(&app, &admin).await;
    let mut others: Vec<String> = phone_of.keys().filter(|d| **d != live).cloned().collect();
    others.sort();
    let [released, unassigned, reassigned, unhealthy] = <[String; 4]>::try_from(others).unwrap();
    for did in [&released, &unassigned, &reassigned, &unhealthy] {
        admin_gql(&app, &admin, ASSIGN, json!({"didId": did, "userId": owner})).await;
    }
    let lost = vec![
        released.clone(),
        unassigned.clone(),
        reassigned.clone(),
        unhealthy.clone(),
    ];
    let mut mixed_ids = lost.clone();
    mixed_ids.push(live.clone());
    // Both campaigns start while every number is the owner's and ACTIVE.
    let mixed: Vec<String> = (0..20).map(|i| format!("09120{i:04}1")).collect();
    let stranded: Vec<String> = (0..5).map(|i| format!("09130{i:04}1")).collect();
    let vn_morning = utc(2026, 11, 24, 3, 0);
    let mixed_id = started(&app, &token, &live, &mixed, json!({"callerIds": mixed_ids})).await;
    let stranded_id = started(&app, &token, &live, &stranded, json!({"callerIds": lost})).await;

    // Then four of the numbers stop being the owner's live numbers, each in its own way.
    admin_gql(&app, &admin, RELEASE, json!({"didId": released})).await;
    admin_gql(&app, &admin, UNASSIGN, json!({"didId": unassigned})).await;
    admin_gql(
        &app,
        &admin,
        ASSIGN,
        json!({"didId": reassigned, "userId": other_user}),
    )
    .await;
    app.execute_sql(&format!(
        "UPDATE dids SET status = 'UNHEALTHY' WHERE id = '{unhealthy}'"
    ))
    .await;

    let dialed = dispatch_at(&app, &carrier, vn_morning).await;
    // What the owner holds and ACTIVE, as the owner sees it.
    let held = app
        .gql_as(
            &token,
            "{ myDids { edges { node { phoneNumber status } } } }",
            json!({}),
        )
        .await;
    let live_numbers: BTreeSet<&str> = held
        .data("myDids.edges")
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["status"] == "ACTIVE")
        .map(|e| e["node"]["phoneNumber"].as_str().unwrap())
        .collect();
    assert_eq!(
        live_numbers,
        BTreeSet::from([phone_of[&live].as_str()]),
        "{}",
        held.body
    );
    let ledger = carrier.emulator.ledger();
    let from: BTreeSet<&str> = ledger.iter().map(|e| e.from.as_str()).collect();
    assert_eq!(
        from, live_numbers,
        "calls placed from a number not the owner's live one"
    );
    let expected: BTreeSet<String> = mixed.iter().map(|p| format!("+84{}", &p[1..])).collect();
    assert_eq!(
        dialed, expected,
        "every contact with a live caller ID, once"
    );
    assert_eq!(ledger.len(), mixed.len());

    // With no live number left the contacts are skipped as CALLER_ID and the campaign says so.
    let skipped = contacts(&app, &token, &stranded_id).await;
    assert_eq!(skipped.len(), stranded.len());
    for contact in skipped.values() {
        assert_eq!(
            (contact["state"].as_str(), contact["skipReason"].as_str()),
            (Some("SKIPPED"), Some("CALLER_ID")),
            "{contact}"
        );
    }
    let stats = app
        .gql_as(&token, "query($id: ID!) { campaign(id: $id) { status stats { skippedByReason { reason contacts } } } }", json!({"id": stranded_id}))
        .await;
    assert_eq!(stats.str("campaign.status"), "COMPLETED", "{}", stats.body);
    assert_eq!(
        stats.data("campaign.stats.skippedByReason"),
        &json!([{"reason": "CALLER_ID", "contacts": 5}])
    );
    let preflight = |id: String| {
        let app = &app;
        let token = &token;
        async move {
            let r = app
                .gql_as(token, "query($id: ID!) { campaignPreflight(id: $id) { blockers { code } warnings { code } } }", json!({"id": id}))
                .await;
            let codes = |kind: &str| -> Vec<String> {
                r.data(&format!("campaignPreflight.{kind}"))
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["code"].as_str().unwrap().to_owned())
                    .collect()
            };
            (codes("blockers"), codes("warnings"))
        }
    };
    let (blockers, warnings) = preflight(stranded_id).await;
    assert_eq!(
        blockers
            .iter()
            .filter(|c| *c == "CALLER_ID_NOT_YOURS")
            .count(),
        3,
        "{blockers:?}"
    );
    assert!(
        blockers.contains(&"NO_USABLE_CALLER_ID".to_owned()),
        "{blockers:?}"
    );
    assert!(
        warnings.contains(&"CALLER_ID_UNHEALTHY".to_owned()),
        "{warnings:?}"
    );
    let (blockers, _) = preflight(mixed_id).await;
    assert!(
        !blockers.contains(&"NO_USABLE_CALLER_ID".to_owned()),
        "{blockers:?}"
    );
    wind_down(&app).await;
}

#[tokio::test]
async fn vietnam_marketing_dials_at_16_59_and_defers_from_17_00_to_the_next_morning() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let vn = chrono_tz::Asia::Ho_Chi_Minh;
    let local = |d: u32, h: u32, m: u32| {
        vn.with_ymd_and_hms(2026, 11, d, h, m, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    };
    let marketing = || json!({"purpose": "MARKETING"});
    // One campaign per instant: a contact deferred at one instant is not due at the next.
    let mut deferred = Vec::new();
    for (minute, phone) in [(0, "+84912000011"), (1, "+84912000021")] {
        let at = local(24, 17, minute);
        let id = started(&app, &token, &did, &[phone.to_owned()], marketing()).await;
        let dialed = dispatch_at(&app, &carrier, at).await;
        assert!(
            dialed.is_empty(),
            "17:{minute:02} in Vietnam dialed {dialed:?}"
        );
        let contact = &contacts(&app, &token, &id).await[phone];
        assert_eq!(contact["state"], "PENDING", "{contact}");
        assert_eq!(contact["skipReason"], "WINDOW", "{contact}");
        assert_eq!(
            next_attempt_at(contact),
            Some(local(25, 8, 0)),
            "deferred to 08:00 the next morning: {contact}"
        );
        deferred.push(phone.to_owned());
    }
    let id = started(
        &app,
        &token,
        &did,
        &["+84912000031".to_owned()],
        marketing(),
    )
    .await;
    let dialed = dispatch_at(&app, &carrier, local(24, 16, 59)).await;
    assert_eq!(dialed, BTreeSet::from(["+84912000031".to_owned()]));
    assert_eq!(
        contacts(&app, &token, &id).await["+84912000031"]["skipReason"],
        Value::Null
    );

    assert!(dispatch_at(&app, &carrier, local(25, 7, 59))
        .await
        .is_empty());
    let dialed = dispatch_at(&app, &carrier, local(25, 8, 0)).await;
    assert_eq!(
        dialed,
        deferred.into_iter().collect(),
        "dialed at the opening"
    );
    wind_down(&app).await;
}

/// The country's zones, written out here: a change to the code's list fails the test.
const US: [&str; 7] = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
];
const AU: [&str; 5] = [
    "Australia/Perth",
    "Australia/Darwin",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Sydney",
];

/// 08:00-21:00 local in every zone.
fn open(zones: &[&str], at: DateTime<Utc>) -> bool {
    zones.iter().all(|zone| {
        let local = at.with_timezone(&zone.parse::<Tz>().unwrap()).time();
        local >= NaiveTime::from_hms_opt(8, 0, 0).unwrap()
            && local < NaiveTime::from_hms_opt(21, 0, 0).unwrap()
    })
}

/// The first whole minute after `at` when every zone is open.
fn opening_after(zones: &[&str], at: DateTime<Utc>) -> DateTime<Utc> {
    (1..=8 * 24 * 60)
        .map(|m| at + chrono::Duration::minutes(m))
        .find(|t| open(zones, *t))
        .unwrap()
}

/// At each instant in turn a new contact is due; the dispatcher must dial exactly the due
/// contacts whose zones are all open, and defer the others to the opening chrono-tz gives.
async fn across_a_dst_change(
    zones: &[&str],
    phone: impl Fn(usize) -> String,
    instants: &[DateTime<Utc>],
) {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    // phone -> (campaign, due); a contact leaves once dialed.
    let mut pending: HashMap<String, (String, DateTime<Utc>)> = HashMap::new();
    for (i, at) in instants.iter().enumerate() {
        let fresh = phone(i);
        let id = started(&app, &token, &did, std::slice::from_ref(&fresh), json!({})).await;
        pending.insert(fresh, (id, *at));
        let mut expected = BTreeSet::new();
        for (number, (_, due)) in pending.iter_mut() {
            if *due > *at {
                continue;
            }
            if open(zones, *at) {
                expected.insert(number.clone());
            } else {
                *due = opening_after(zones, *at);
            }
        }
        let dialed = dispatch_at(&app, &carrier, *at).await;
        assert_eq!(dialed, expected, "at {at}");
        pending.retain(|n, _| !expected.contains(n));
        for (number, (id, due)) in &pending {
            let contact = &contacts(&app, &token, id).await[number];
            assert_eq!(next_attempt_at(contact), Some(*due), "at {at}: {contact}");
            assert_eq!(contact["skipReason"], "WINDOW", "{contact}");
        }
    }
    assert!(
        pending.is_empty(),
        "the last instant dials everyone left: {pending:?}"
    );
    wind_down(&app).await;
}

#[tokio::test]
async fn the_us_fall_back_moves_the_close_by_an_hour_at_the_dispatcher() {
    // 2026-11-01 06:00 UTC New York goes from EDT (UTC-4) to EST (UTC-5); Honolulu (UTC-10,
    // no DST) opens last at 18:00 UTC, New York closes first: 01:00 UTC before, 02:00 after.
    let instants = [
        utc(2026, 10, 31, 17, 59), // Honolulu 07:59
        utc(2026, 10, 31, 18, 0),  // Honolulu 08:00: open
        utc(2026, 11, 1, 0, 59),   // New York 20:59 EDT
        utc(2026, 11, 1, 1, 0),    // New York 21:00 EDT: closed
        utc(2026, 11, 1, 1, 30),   // New York 21:30 EDT
        utc(2026, 11, 1, 18, 0),   // the deferred contacts go out
        utc(2026, 11, 2, 1, 0),    // New York 20:00 EST: still open
        utc(2026, 11, 2, 1, 59),   // 20:59 EST
        utc(2026, 11, 2, 2, 0),    // 21:00 EST: closed
        utc(2026, 11, 2, 18, 0),
    ];
    across_a_dst_change(&US, |i| format!("+14155552{i:02}1"), &instants).await;
}

#[tokio::test]
async fn the_australian_spring_forward_moves_the_close_by_an_hour_at_the_dispatcher() {
    // 2026-10-04 02:00 in Sydney (Oct 3 16:00 UTC) clocks go to AEDT (UTC+11); Perth (UTC+8,
    // no DST) opens at 00:00 UTC; Sydney and Brisbane close at 11:00 UTC before, Sydney at
    // 10:00 UTC after (Adelaide at 10:30).
    let instants = [
        utc(2026, 10, 3, 10, 30), // Sydney 20:30 AEST: open
        utc(2026, 10, 3, 10, 59),
        utc(2026, 10, 3, 11, 0),  // Sydney and Brisbane 21:00: closed
        utc(2026, 10, 4, 0, 0),   // Perth 08:00: the deferred contact goes out
        utc(2026, 10, 4, 9, 59),  // Sydney 20:59 AEDT
        utc(2026, 10, 4, 10, 0),  // Sydney 21:00 AEDT: closed
        utc(2026, 10, 4, 10, 30), // Adelaide 21:00 ACDT
        utc(2026, 10, 5, 0, 0),
    ];
    across_a_dst_change(&AU, |i| format!("+6141234{i:03}1"), &instants).await;
}
