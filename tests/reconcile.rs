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
            ringcast::billing::ledger::hold_call(&mut conn, &call, &rate, 10_000)
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

    let lost_call = stored(&app, lost).await;
    assert_eq!(
        lost_call.twilio_sid.as_deref(),
        Some(placed.sid.as_str()),
        "adopted, not re-dialed"
    );
    assert_eq!(lost_call.status.as_str(), "COMPLETED");
    assert_eq!(stored(&app, silent).await.status.as_str(), "BUSY");
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
    let charged = app.count("ledger_entries WHERE kind = 'CALL_CHARGE'").await;
    assert_eq!(charged, i64::from(lost_call.duration_secs.unwrap_or(0) > 0));

    // Running it again changes nothing.
    let again = ringcast::calls::reconcile::run(&app.state)
        .await
        .ok()
        .unwrap();
    assert_eq!(again.checked, 0);
}
