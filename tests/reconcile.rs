//! Reconciliation with Twilio: lost answers adopted, silent calls asked about, never-placed
//! requests closed, and nothing dialed again.

use std::time::Duration;

use ringcast::calls::Call;
use ringcast::twilio::types::CreateCall;

use crate::helpers::carrier::Carrier;
use crate::helpers::{eventually, TestApp};

async fn stored(app: &TestApp, id: uuid::Uuid) -> Call {
    let mut conn = app.state.db.get().await.unwrap();
    Call::find(&mut conn, id).await.unwrap()
}

#[tokio::test]
async fn lost_answers_silent_calls_and_never_placed_requests_all_converge() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let (_, _, _, user) = app.user().await;
    let from = carrier.numbers()[0].clone();
    let client = carrier.client();

    // 1. Twilio placed the call but our request never got the answer: no SID on our side.
    let lost = app
        .call_row(&user, &account, &from, "+84912345671", 3)
        .await;
    // 2. A placed call whose callbacks never came.
    let silent = app
        .call_row(&user, &account, &from, "+84912345673", 20)
        .await;
    // 3. A request that never reached Twilio.
    let never = app
        .call_row(&user, &account, &from, "+84912345670", 11)
        .await;

    // Each attempt holds money, as the dispatcher's would; reconciliation must settle them.
    {
        let mut conn = app.state.db.get().await.unwrap();
        let rate = ringcast::billing::rates::for_number(&mut conn, "+84912345670")
            .await
            .ok()
            .unwrap();
        for id in [lost, silent, never] {
            let call = Call::find(&mut conn, id).await.unwrap();
            ringcast::billing::ledger::hold_call(&mut conn, call.billed(), &rate, 10_000)
                .await
                .ok()
                .unwrap();
        }
    }

    let twiml = Some("<Response><Say>hi</Say></Response>".to_owned());
    let placed = client
        .create_call(&CreateCall {
            to: "+84912345671".into(),
            from: from.clone(),
            twiml: twiml.clone(),
            ..CreateCall::default()
        })
        .await
        .unwrap();
    let silent_sid = client
        .create_call(&CreateCall {
            to: "+84912345673".into(),
            from: from.clone(),
            twiml,
            ..CreateCall::default()
        })
        .await
        .unwrap()
        .sid;
    app.execute_sql(&format!(
        "UPDATE calls SET twilio_sid = '{silent_sid}' WHERE id = '{silent}'"
    ))
    .await;
    for sid in [&placed.sid, &silent_sid] {
        eventually(
            Duration::from_secs(10),
            "the carrier to finish the calls",
            || async {
                let c = client.fetch_call(sid).await.unwrap();
                matches!(c.status.as_str(), "completed" | "busy").then_some(())
            },
        )
        .await;
    }

    let report = ringcast::calls::reconcile::run(&app.state)
        .await
        .ok()
        .unwrap();
    assert_eq!(
        (report.checked, report.adopted, report.never_placed),
        (3, 1, 1),
        "{report:?}"
    );

    // Judged by the carrier's own record of each call, not by what we stored.
    let carrier_lost = client.fetch_call(&placed.sid).await.unwrap();
    let carrier_silent = client.fetch_call(&silent_sid).await.unwrap();
    assert_eq!(
        (carrier_lost.status.as_str(), carrier_silent.status.as_str()),
        ("completed", "busy")
    );
    let carrier_seconds = carrier_lost.duration_secs().unwrap();
    assert!(carrier_seconds > 0, "the emulator's answered call talks");
    let lost_call = stored(&app, lost).await;
    assert_eq!(
        lost_call.twilio_sid.as_deref(),
        Some(placed.sid.as_str()),
        "adopted, not re-dialed"
    );
    assert_eq!(lost_call.status.as_str(), "COMPLETED");
    assert_eq!(
        lost_call.duration_secs.map(i64::from),
        Some(carrier_seconds),
        "the carrier's duration"
    );
    let silent_call = stored(&app, silent).await;
    assert_eq!(silent_call.status.as_str(), "BUSY");
    assert_eq!(silent_call.duration_secs.unwrap_or(0), 0);
    let never_call = stored(&app, never).await;
    assert_eq!(never_call.status.as_str(), "FAILED");
    let mut conn = app.state.db.get().await.unwrap();
    let timeline = Call::events(&mut conn, never).await.unwrap();
    assert_eq!(timeline[0].source.as_str(), "RECONCILE");
    assert_eq!(
        carrier.emulator.ledger().len(),
        2,
        "reconciliation never dials"
    );

    // Once every outcome is known no hold is left open, and only the answered call cost money.
    assert_eq!(
        app.count("ledger_entries WHERE kind = 'HOLD_RELEASE'")
            .await,
        3
    );
    assert_eq!(
        app.count(&format!("balances WHERE user_id = '{user}' AND held = 0"))
            .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "ledger_entries WHERE kind = 'CALL_CHARGE' AND call_id = '{lost}' AND amount < 0"
        ))
        .await,
        1,
        "the adopted call is charged once"
    );
    assert_eq!(
        app.count("ledger_entries WHERE kind = 'CALL_CHARGE'").await,
        1,
        "nothing else is charged"
    );

    // Running it again changes nothing.
    let again = ringcast::calls::reconcile::run(&app.state)
        .await
        .ok()
        .unwrap();
    assert_eq!(again.checked, 0);
}

/// A callback that stores the SID after reconciliation read the row, and before it decides.
async fn land_initiated_callback(app: &TestApp, call_id: uuid::Uuid, sid: &str) {
    use ringcast::calls::model::EventSource;
    use ringcast::calls::status::{apply, StatusUpdate};
    use ringcast::calls::CallStatus;
    apply(
        &app.state,
        StatusUpdate {
            call_id,
            status: CallStatus::Initiated,
            sequence: Some(0),
            duration_secs: None,
            answered_by: None,
            twilio_sid: Some(sid.to_owned()),
            occurred_at: chrono::Utc::now(),
            source: EventSource::Webhook,
            detail: serde_json::json!({"CallStatus": "initiated"}),
        },
    )
    .await
    .ok()
    .unwrap();
}

#[tokio::test]
async fn a_callback_between_reconciliations_read_and_decision_never_fails_a_placed_call() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let (_, _, _, user) = app.user().await;
    let from = carrier.numbers()[0].clone();
    let client = carrier.client();

    // Old enough that, seen without a SID and not found free on Twilio, it reads as never placed.
    let id = app
        .call_row(&user, &account, &from, "+84912345671", 11)
        .await;
    let placed = client
        .create_call(&CreateCall {
            to: "+84912345671".into(),
            from: from.clone(),
            twiml: Some("<Response><Say>hi</Say></Response>".to_owned()),
            ..CreateCall::default()
        })
        .await
        .unwrap();
    let finished = eventually(Duration::from_secs(10), "the carrier to finish", || async {
        let c = client.fetch_call(&placed.sid).await.unwrap();
        (c.status == "completed").then_some(c)
    })
    .await;

    let seen = stored(&app, id).await;
    assert!(seen.twilio_sid.is_none());
    land_initiated_callback(&app, id, &placed.sid).await;
    ringcast::calls::reconcile::reconcile_one(&app.state, &seen)
        .await
        .ok()
        .unwrap();

    let call = stored(&app, id).await;
    assert_eq!(call.twilio_sid.as_deref(), Some(placed.sid.as_str()));
    assert_eq!(call.status.as_str(), "COMPLETED", "the carrier's state");
    assert_eq!(
        call.duration_secs.map(i64::from),
        finished.duration_secs(),
        "the carrier's duration"
    );
    assert!(finished.duration_secs().unwrap_or(0) > 0);
    assert_eq!(carrier.emulator.ledger().len(), 1, "never dialed again");
}

#[tokio::test]
async fn a_sid_stored_after_the_read_keeps_a_call_the_list_misses_from_being_closed() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let (_, _, _, user) = app.user().await;
    let from = carrier.numbers()[0].clone();

    let id = app
        .call_row(&user, &account, &from, "+84912345672", 11)
        .await;
    let seen = stored(&app, id).await;
    // The carrier's list has nothing for this To/From, but a callback names a SID meanwhile.
    land_initiated_callback(&app, id, "CA00000000000000000000000000000001").await;
    let outcome = ringcast::calls::reconcile::reconcile_one(&app.state, &seen)
        .await
        .ok()
        .unwrap();
    assert!(
        matches!(
            outcome,
            ringcast::calls::reconcile::Outcome::Asked { applied: false, .. }
        ),
        "{outcome:?}"
    );
    let call = stored(&app, id).await;
    assert_eq!(
        call.status.as_str(),
        "INITIATED",
        "not closed as never placed"
    );
}
