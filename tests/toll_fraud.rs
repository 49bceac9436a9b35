//! Toll fraud: premium, satellite and high-cost numbers are refused at every input and at
//! dial time; forwarded and transferred legs are checked, held for and charged like any call.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use ringcast::dispatcher::Dispatcher;
use serde_json::{json, Value};

use crate::helpers::calling_hours::vn_morning;
use crate::helpers::campaign;
use crate::helpers::carrier::Carrier;
use crate::helpers::verdict::{set_default_rate, RATE};
use crate::helpers::{eventually, TestApp};

/// Numbers seen in the fraud report: Vietnam 1900 (premium), NANP 900 (premium), the Isle of
/// Man's abused mobile range, Inmarsat, Iridium, an international network.
const REFUSED: [&str; 7] = [
    "+841900123451",
    "+8419001231",
    "+19005551234",
    "+447624123456",
    "+870772123456",
    "+8816212345678",
    "+882161234567",
];

/// What a leg of `seconds` costs at the test rate.
fn charge(seconds: i64) -> i64 {
    let (per_minute, first, step, fee) = RATE;
    let billed = match seconds {
        0 => 0,
        s if s <= first => first,
        s => first + (s - first + step - 1) / step * step,
    };
    (billed * per_minute + 59) / 60 + fee
}

#[derive(QueryableByName, Debug)]
struct LegRow {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Integer>)]
    duration_secs: Option<i32>,
    #[diesel(sql_type = Text)]
    to_number: String,
    #[diesel(sql_type = BigInt)]
    charged: i64,
    #[diesel(sql_type = BigInt)]
    held: i64,
}

async fn legs(app: &TestApp, kind: &str) -> Vec<LegRow> {
    let mut conn = app.state.db.get().await.unwrap();
    diesel::sql_query(
        "SELECT c.status, c.duration_secs, c.to_number,
                (SELECT coalesce(-sum(amount), 0)::bigint FROM ledger_entries l WHERE l.call_id = c.id) AS charged,
                (SELECT coalesce(sum(held_change), 0)::bigint FROM ledger_entries l WHERE l.call_id = c.id) AS held
         FROM calls c WHERE c.leg = $1 ORDER BY c.created_at",
    )
    .bind::<Text, _>(kind)
    .load(&mut conn)
    .await
    .unwrap()
}

const SET_FORWARDING: &str =
    "mutation($i: SetDidForwardingInput!) { setDidForwarding(input: $i) { did { forwardTo } } }";
const ADD_CONTACTS: &str = "mutation($i: AddContactsInput!) { addContacts(input: $i) { added invalid { row value reason } } }";
const UPDATE_CAMPAIGN: &str = "mutation($i: UpdateCampaignInput!) { updateCampaign(input: $i) { campaign { menu { options { digit transferTo } } } } }";

fn transfer_menu(to: &str) -> Value {
    json!({"prompt": "Nhấn 1 để gặp nhân viên", "options": [
        {"digit": "1", "action": "TRANSFER", "transferTo": to}]})
}

#[tokio::test]
async fn premium_satellite_and_high_cost_numbers_are_refused_at_every_input() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let id = campaign::create(&app, &token, &did, vec![], json!({})).await;

    // addContacts: each refused number is reported with its row and type, the rest are added.
    let mut contacts: Vec<Value> = REFUSED.iter().map(|p| json!({"phone": p})).collect();
    contacts.push(json!({"phone": "0912345670"}));
    let r = app
        .gql_as(
            &token,
            ADD_CONTACTS,
            json!({"i": {"campaignId": id, "contacts": contacts}}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.data("addContacts.added"), 1);
    let invalid = r.data("addContacts.invalid").as_array().unwrap().clone();
    assert_eq!(
        invalid
            .iter()
            .map(|i| i["row"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>(),
        "{invalid:?}"
    );
    for (row, expected) in invalid.iter().zip([
        "PREMIUM_RATE",
        "PREMIUM_RATE",
        "PREMIUM_RATE",
        "HIGH_COST",
        "SATELLITE",
        "SATELLITE",
        "SATELLITE",
    ]) {
        assert!(row["reason"].as_str().unwrap().contains(expected), "{row}");
    }

    // importContacts: the same, per row of the file.
    let mut csv = String::from("phone,name\n");
    for number in REFUSED {
        csv.push_str(&format!("{number},X\n"));
    }
    csv.push_str("0912345679,Ok\n");
    let report = crate::helpers::imports::run(&app, &token, &id, csv.as_bytes()).await;
    assert_eq!(report["rowsImported"], 1, "{report}");
    assert_eq!(report["invalid"], 7, "{report}");

    // A transfer target and a forwarding number: refused as input.
    for number in REFUSED {
        let r = app
            .gql_as(
                &token,
                UPDATE_CAMPAIGN,
                json!({"i": {"id": id, "menu": transfer_menu(number)}}),
            )
            .await;
        assert_eq!(
            (r.code(), r.field()),
            ("BAD_USER_INPUT", "menu.options"),
            "{number}"
        );
        let r = app
            .gql_as(
                &token,
                SET_FORWARDING,
                json!({"i": {"didId": did, "forwardTo": number}}),
            )
            .await;
        assert_eq!(
            (r.code(), r.field()),
            ("BAD_USER_INPUT", "forwardTo"),
            "{number}"
        );
    }
    assert_eq!(
        app.count("dids WHERE forward_to IS NOT NULL").await,
        0,
        "no refused number was stored"
    );

    // A transfer target is stored as E.164, whatever way it was typed.
    let r = app
        .gql_as(
            &token,
            UPDATE_CAMPAIGN,
            json!({"i": {"id": id, "menu": transfer_menu("091 234-5670")}}),
        )
        .await;
    r.assert_ok();
    assert_eq!(
        r.data("updateCampaign.campaign.menu.options")[0]["transferTo"],
        "+84912345670"
    );
}

#[tokio::test]
async fn a_campaign_never_dials_a_premium_number_that_got_into_its_table() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    set_default_rate(&app, &admin).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let contacts = vec![
        json!({"phone": "0912345670"}),
        json!({"phone": "0912345680"}),
    ];
    let id = campaign::create(&app, &token, &did, contacts, json!({"menu": null})).await;
    // As an older import (or a direct write) could have left it.
    app.execute_sql(&format!(
        "UPDATE campaign_contacts SET phone = '+841900123451' WHERE campaign_id = '{id}' AND phone = '+84912345680'"
    ))
    .await;
    campaign::start(&app, &token, &id).await;
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(vn_morning));
    let runner = app.runner();
    eventually(
        Duration::from_secs(60),
        "the campaign to complete",
        || async {
            dispatcher.tick().await.unwrap();
            runner.drain().await.unwrap();
            let c = app
                .gql_as(
                    &token,
                    "query($id: ID!) { campaign(id: $id) { status } }",
                    json!({"id": id}),
                )
                .await;
            (c.str("campaign.status") == "COMPLETED").then_some(())
        },
    )
    .await;
    runner.drain().await.unwrap();
    let dialed: Vec<String> = carrier
        .emulator
        .ledger()
        .into_iter()
        .map(|e| e.to)
        .collect();
    assert_eq!(dialed, vec!["+84912345670".to_owned()]);
    assert_eq!(
        app.count("campaign_contacts WHERE phone = '+841900123451' AND state = 'SKIPPED' AND skip_reason = 'NUMBER_TYPE'")
            .await,
        1
    );
}

#[tokio::test]
async fn an_admin_allowing_a_type_or_prefix_makes_it_callable_and_is_audited() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let id = campaign::create(&app, &token, &did, vec![], json!({})).await;
    let add = |phone: &'static str| {
        let app = &app;
        let token = token.clone();
        let id = id.clone();
        async move {
            app.gql_as(
                &token,
                ADD_CONTACTS,
                json!({"i": {"campaignId": id, "contacts": [{"phone": phone}]}}),
            )
            .await
            .data("addContacts.added")
            .as_i64()
            .unwrap()
        }
    };
    assert_eq!(add("+19005551234").await, 0);
    assert_eq!(add("+870772123456").await, 0);
    let check = "query($p: String!) { numberCheck(phone: $p) { e164 numberType callable } }";
    let r = app
        .gql_as(&token, check, json!({"p": "+1 900 555 1234"}))
        .await;
    assert_eq!(r.data("numberCheck.numberType"), "PREMIUM_RATE");
    assert_eq!(r.data("numberCheck.callable"), false);

    // Users cannot allow anything.
    let allow_type = "mutation($i: AllowNumberTypeInput!) { allowNumberType(input: $i) { allowance { id kind value } } }";
    let allow_prefix = "mutation($i: AllowNumberPrefixInput!) { allowNumberPrefix(input: $i) { allowance { id kind value } } }";
    assert_eq!(
        app.gql_as(
            &token,
            allow_type,
            json!({"i": {"numberType": "PREMIUM_RATE"}})
        )
        .await
        .code(),
        "FORBIDDEN"
    );
    let premium = app
        .gql_as(
            &admin,
            allow_type,
            json!({"i": {"numberType": "PREMIUM_RATE", "note": "hotline partner"}}),
        )
        .await
        .str("allowNumberType.allowance.id");
    let inmarsat = app
        .gql_as(&admin, allow_prefix, json!({"i": {"prefix": "+870"}}))
        .await;
    assert_eq!(inmarsat.data("allowNumberPrefix.allowance.value"), "870");
    assert_eq!(add("+19005551234").await, 1);
    assert_eq!(add("+870772123456").await, 1);
    // The allowance is for that range only.
    assert_eq!(add("+8816212345678").await, 0);
    assert_eq!(
        app.count(
            "audit_log WHERE action = 'number_allowance.add' AND target_type = 'number_allowance'"
        )
        .await,
        2
    );
    let listed = app
        .gql_as(
            &admin,
            "{ numberAllowances { kind value note } }",
            json!({}),
        )
        .await;
    assert_eq!(listed.data("numberAllowances").as_array().unwrap().len(), 2);

    app.gql_as(
        &admin,
        "mutation($i: RevokeNumberAllowanceInput!) { revokeNumberAllowance(input: $i) { allowance { id } } }",
        json!({"i": {"id": premium}}),
    )
    .await
    .assert_ok();
    assert_eq!(add("+19005551235").await, 0);
    assert_eq!(
        app.count("audit_log WHERE action = 'number_allowance.remove'")
            .await,
        1
    );
}

/// The DID's number on the carrier, with its webhooks pointing at `app`.
async fn number_of(app: &TestApp, admin: &str, did: &str) -> String {
    app.gql_as(
        admin,
        "mutation { configureWebhooks(input: {}) { updated } }",
        json!({}),
    )
    .await
    .assert_ok();
    let dids = app
        .gql_as(
            admin,
            "{ dids { edges { node { id phoneNumber } } } }",
            json!({}),
        )
        .await;
    dids.data("dids.edges")
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["id"] == did)
        .and_then(|e| e["node"]["phoneNumber"].as_str())
        .unwrap()
        .to_owned()
}

/// Places a call to `to` on the carrier and waits for it to end; its transcript.
async fn call_in(carrier: &Carrier, to: &str) -> Vec<(String, String)> {
    let sid = carrier
        .emulator
        .inbound_call("+84987654321", to)
        .expect("the number is on the carrier");
    eventually(
        Duration::from_secs(30),
        "the inbound call to end",
        || async {
            carrier
                .emulator
                .call(&sid)
                .filter(|c| c.status == "completed")
                .map(|c| {
                    c.transcript
                        .into_iter()
                        .map(|l| (l.kind.to_owned(), l.detail))
                        .collect()
                })
        },
    )
    .await
}

/// A user holding one number that forwards to `forward_to`, on a carrier that can call it.
struct Forwarding {
    app: TestApp,
    admin: String,
    carrier: Carrier,
    user_id: String,
    number: String,
}

async fn forwarding(app: TestApp, forward_to: &str) -> Forwarding {
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    set_default_rate(&app, &admin).await;
    let (token, user_id, did) = app.user_with_number(&admin, &carrier).await;
    let number = number_of(&app, &admin, &did).await;
    app.gql_as(
        &token,
        SET_FORWARDING,
        json!({"i": {"didId": did, "forwardTo": forward_to}}),
    )
    .await
    .assert_ok();
    Forwarding {
        app,
        admin,
        carrier,
        user_id,
        number,
    }
}

fn assert_nothing_dialed(transcript: &[(String, String)]) {
    assert!(
        !transcript.iter().any(|(kind, _)| kind == "dial"),
        "{transcript:?}"
    );
}

#[tokio::test]
async fn forwarding_is_held_for_and_charged_from_the_forwarded_legs_duration() {
    let Forwarding {
        app,
        carrier,
        user_id,
        number,
        ..
    } = forwarding(TestApp::builder().listening().build().await, "0912 000 110").await;

    let transcript = call_in(&carrier, &number).await;
    assert!(
        transcript.contains(&("dial".to_owned(), "+84912000110".to_owned())),
        "{transcript:?}"
    );
    // The carrier dialed the leg once; it talked 20 s (the emulator's answered leg).
    let placed: Vec<_> = carrier
        .emulator
        .ledger()
        .into_iter()
        .filter(|e| e.to == "+84912000110")
        .collect();
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0].duration, Some(20));
    let forwarded = legs(&app, "FORWARD").await;
    assert_eq!(forwarded.len(), 1, "{forwarded:?}");
    assert_eq!(forwarded[0].status, "COMPLETED");
    assert_eq!(forwarded[0].duration_secs, Some(20));
    assert_eq!(forwarded[0].charged, charge(20));
    assert_eq!(forwarded[0].held, 0, "the hold was settled");
    assert_eq!(
        app.count(&format!(
            "ledger_entries WHERE user_id = '{user_id}' AND kind = 'CALL_CHARGE'"
        ))
        .await,
        1
    );

    // With too little money for the longest call, the caller hears an apology, nothing is dialed.
    app.credit(
        &user_id,
        -(crate::helpers::app::STARTING_BALANCE - charge(20) - 1000),
    )
    .await;
    let transcript = call_in(&carrier, &number).await;
    assert_nothing_dialed(&transcript);
    assert!(transcript.iter().any(|(kind, _)| kind == "say"));
    assert_eq!(legs(&app, "FORWARD").await.len(), 1);
    assert_eq!(
        carrier
            .emulator
            .ledger()
            .iter()
            .filter(|e| e.to == "+84912000110")
            .count(),
        1
    );
}

#[tokio::test]
async fn forwarding_to_a_number_made_premium_after_input_is_refused_at_dial_time() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    set_default_rate(&app, &admin).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let number = number_of(&app, &admin, &did).await;
    let allow = app
        .gql_as(
            &admin,
            "mutation { allowNumberPrefix(input: {prefix: \"84190\"}) { allowance { id } } }",
            json!({}),
        )
        .await
        .str("allowNumberPrefix.allowance.id");
    app.gql_as(
        &token,
        SET_FORWARDING,
        json!({"i": {"didId": did, "forwardTo": "+841900123450"}}),
    )
    .await
    .assert_ok();
    app.gql_as(
        &admin,
        "mutation($i: RevokeNumberAllowanceInput!) { revokeNumberAllowance(input: $i) { allowance { id } } }",
        json!({"i": {"id": allow}}),
    )
    .await
    .assert_ok();
    let transcript = call_in(&carrier, &number).await;
    assert_nothing_dialed(&transcript);
    assert!(legs(&app, "FORWARD").await.is_empty());
}

#[tokio::test]
async fn a_transfer_leg_is_billed_and_checked_against_do_not_call_at_dial_time() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    set_default_rate(&app, &admin).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(vn_morning));
    let runner = app.runner();
    let run = |contact: &'static str| {
        let (app, token, did, dispatcher, runner) = (&app, &token, &did, &dispatcher, &runner);
        async move {
            // The callee (last digit 1) presses 1: transferred to the agent line.
            let id = campaign::create(
                app,
                token,
                did,
                vec![json!({"phone": contact})],
                json!({"menu": transfer_menu("0912 000 110")}),
            )
            .await;
            campaign::start(app, token, &id).await;
            eventually(
                Duration::from_secs(60),
                "the campaign to complete",
                || async {
                    dispatcher.tick().await.unwrap();
                    runner.drain().await.unwrap();
                    let c = app
                        .gql_as(
                            token,
                            "query($id: ID!) { campaign(id: $id) { status } }",
                            json!({"id": id}),
                        )
                        .await;
                    (c.str("campaign.status") == "COMPLETED").then_some(())
                },
            )
            .await;
            runner.drain().await.unwrap();
        }
    };
    run("0912345671").await;
    let legs_now = legs(&app, "TRANSFER").await;
    assert_eq!(legs_now.len(), 1, "{legs_now:?}");
    assert_eq!(legs_now[0].to_number, "+84912000110");
    assert_eq!(legs_now[0].status, "COMPLETED");
    assert_eq!(legs_now[0].duration_secs, Some(20));
    assert_eq!(legs_now[0].charged, charge(20));
    assert_eq!(legs_now[0].held, 0);
    let to_agent = || {
        carrier
            .emulator
            .ledger()
            .iter()
            .filter(|e| e.to == "+84912000110")
            .count()
    };
    assert_eq!(to_agent(), 1);

    // The agent line goes on the user's do-not-call list: the next transfer is not dialed.
    app.gql_as(
        &token,
        "mutation($i: AddDoNotCallInput!) { addDoNotCall(input: $i) { added } }",
        json!({"i": {"phone": "+84912000110"}}),
    )
    .await
    .assert_ok();
    run("0912345681").await;
    assert_eq!(to_agent(), 1, "a do-not-call number was dialed");
    assert_eq!(legs(&app, "TRANSFER").await.len(), 1);
    assert_eq!(
        app.count("call_events WHERE detail->>'transfer_refused' = 'DNC'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_repeated_inbound_webhook_makes_one_leg_and_a_suspended_owner_none() {
    let Forwarding {
        app,
        admin,
        carrier,
        user_id,
        number,
        ..
    } = forwarding(TestApp::new().await, "+84912000110").await;
    let inbound = |call_sid: &'static str| {
        let (app, carrier, number) = (&app, &carrier, &number);
        async move {
            app.twilio_post(
                "/webhooks/twilio/inbound",
                &[
                    ("AccountSid", carrier.account_sid.as_str()),
                    ("CallSid", call_sid),
                    ("From", "+84987654321"),
                    ("To", number.as_str()),
                ],
                &carrier.auth_token,
            )
            .await
            .1
        }
    };
    // Twilio retries a request it got no answer to: the same leg, held for once.
    let first = inbound("CA00000000000000000000000000000001").await;
    let again = inbound("CA00000000000000000000000000000001").await;
    assert!(first.contains("/webhooks/twilio/dial/"), "{first}");
    assert_eq!(first, again);
    assert_eq!(
        app.count(&format!(
            "ledger_entries WHERE user_id = '{user_id}' AND kind = 'CALL_HOLD'"
        ))
        .await,
        1
    );

    app.gql_as(
        &admin,
        "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { status } } }",
        json!({"i": {"id": user_id, "status": "SUSPENDED"}}),
    )
    .await
    .assert_ok();
    let refused = inbound("CA00000000000000000000000000000002").await;
    assert!(!refused.contains("<Dial"), "{refused}");
    assert_eq!(legs(&app, "FORWARD").await.len(), 1);
}

#[tokio::test]
async fn a_legs_hold_is_released_when_the_carrier_never_placed_it() {
    let Forwarding {
        app,
        carrier,
        user_id,
        number,
        ..
    } = forwarding(TestApp::new().await, "+84912000110").await;
    // The caller hung up before the <Dial> ran: no leg on the carrier, no action report.
    let (_, twiml) = app
        .twilio_post(
            "/webhooks/twilio/inbound",
            &[
                ("AccountSid", carrier.account_sid.as_str()),
                ("CallSid", "CA00000000000000000000000000000003"),
                ("From", "+84987654321"),
                ("To", number.as_str()),
            ],
            &carrier.auth_token,
        )
        .await;
    assert!(twiml.contains("<Dial"), "{twiml}");
    assert_eq!(legs(&app, "FORWARD").await[0].held, charge(600));
    app.execute_sql(
        "UPDATE calls SET created_at = now() - interval '20 minutes', updated_at = now() - interval '20 minutes' WHERE leg = 'FORWARD'",
    )
    .await;
    ringcast::calls::reconcile::run(&app.state).await.unwrap();
    let forwarded = legs(&app, "FORWARD").await;
    assert_eq!(forwarded[0].status, "FAILED");
    assert_eq!((forwarded[0].held, forwarded[0].charged), (0, 0));
    assert_eq!(
        app.count(&format!(
            "ledger_entries WHERE user_id = '{user_id}' AND kind = 'CALL_CHARGE'"
        ))
        .await,
        0
    );
}

/// A forwarded leg passes the whole gate, not only the number rules: outside the callee's
/// calling hours it is refused (a caller on the line cannot wait for the window to open), and
/// it counts against and is stopped by the platform-wide cap per number like a campaign call.
#[tokio::test]
async fn a_forwarded_leg_outside_calling_hours_or_past_the_numbers_cap_is_refused() {
    let Forwarding {
        app,
        admin,
        carrier,
        user_id,
        number,
        ..
    } = forwarding(TestApp::builder().listening().build().await, "0912 000 120").await;
    let dialed = |carrier: &Carrier| {
        carrier
            .emulator
            .ledger()
            .iter()
            .filter(|e| e.to == "+84912000120")
            .count()
    };

    // 22:00 in Vietnam.
    let today = Utc::now().date_naive();
    app.state
        .clock
        .fix(Utc.from_utc_datetime(&today.and_hms_opt(15, 0, 0).unwrap()));
    let transcript = call_in(&carrier, &number).await;
    assert_nothing_dialed(&transcript);
    assert!(transcript.iter().any(|(kind, _)| kind == "say"));
    assert_eq!(dialed(&carrier), 0);
    assert!(legs(&app, "FORWARD").await.is_empty());

    // 10:00 in Vietnam, but the number has had the platform's two calls today (another
    // tenant's campaign): the leg would be a third.
    app.state.clock.fix(vn_morning());
    let (_, _, _, other) = app.user().await;
    let accounts = app
        .gql_as(
            &admin,
            "{ twilioAccounts { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let account = accounts.data("twilioAccounts.edges")[0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..2 {
        app.call_row(&other, &account, &number, "+84912000120", 0)
            .await;
    }
    app.execute_sql(&format!(
        "UPDATE calls SET created_at = '{}'::timestamptz - interval '3 hours' WHERE owner_id = '{other}'",
        vn_morning().to_rfc3339()
    ))
    .await;
    let transcript = call_in(&carrier, &number).await;
    assert_nothing_dialed(&transcript);
    assert_eq!(dialed(&carrier), 0);

    // Once those calls are more than a day old, the leg goes through and is itself counted.
    app.execute_sql(&format!(
        "UPDATE calls SET created_at = created_at - interval '1 day' WHERE owner_id = '{other}'"
    ))
    .await;
    let transcript = call_in(&carrier, &number).await;
    assert!(
        transcript.contains(&("dial".to_owned(), "+84912000120".to_owned())),
        "{transcript:?}"
    );
    assert_eq!(dialed(&carrier), 1);
    assert_eq!(
        app.count(&format!(
            "calls WHERE owner_id = '{user_id}' AND to_number = '+84912000120' AND direction = 'OUTBOUND'"
        ))
        .await,
        1,
        "the leg is an outbound call to the number, which later calls count"
    );
}
