//! Money that settles no order is put in front of an admin (`unmatchedPayments`), who credits
//! it, records a refund made outside, or ignores it, once and audited; never silently dropped.

use ringcast::payments::protocol::{momo, zalopay};
use serde_json::{json, Value};

use crate::helpers::TestApp;

const CREATE: &str =
    "mutation($i: CreateTopUpInput!) { createTopUp(input: $i) { topUp { id payUrl transferMemo } } }";
const UNMATCHED: &str = "{ unmatchedPayments(first: 20, filter: {statuses: [NEEDS_REVIEW]}) { nodes { id provider txnId amount topUpId userId reason reference status } } }";
const RESOLVE: &str = "mutation($i: ResolveUnmatchedPaymentInput!) { resolveUnmatchedPayment(input: $i) { unmatchedPayment { status resolutionNote resolvedBy } } }";

fn sim(app: &TestApp) -> &ringcast::emulator::payments::PaymentSimulator {
    app.payments
        .as_ref()
        .expect("a listening app runs the payment simulator")
}

async fn top_up(app: &TestApp, token: &str, method: &str, amount: i64) -> Value {
    let r = app
        .gql_as(
            token,
            CREATE,
            json!({"i": {"method": method, "amount": amount}}),
        )
        .await;
    r.assert_ok();
    r.data("createTopUp.topUp").clone()
}

async fn posted(app: &TestApp, token: &str) -> i64 {
    app.gql_as(token, "{ me { balance { posted } } }", json!({}))
        .await
        .data("me.balance.posted")
        .as_i64()
        .unwrap()
}

async fn post(url: String, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn unmatched(app: &TestApp, admin: &str) -> Vec<Value> {
    let r = app.gql_as(admin, UNMATCHED, json!({})).await;
    r.assert_ok();
    r.data("unmatchedPayments.nodes")
        .as_array()
        .unwrap()
        .clone()
}

fn last_segment(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_second_sepay_transfer_for_a_settled_top_up_waits_for_an_admin_who_credits_it_once() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let (_, _, token, user_id) = app.user().await;
    let before = posted(&app, &token).await;
    let t = top_up(&app, &token, "BANK_TRANSFER", 30_000).await;
    let transfers = format!("{}/bank/transfers", sim(&app).base());
    let memo = t["transferMemo"].as_str().unwrap();
    post(
        transfers.clone(),
        &json!({"amount": 30_000, "content": memo, "via": "sepay", "id": 501}),
    )
    .await;
    assert_eq!(posted(&app, &token).await, before + 30_000);
    assert!(unmatched(&app, &admin).await.is_empty());

    // The payer sends the same transfer again: a second, real payment.
    let (_, sent) = post(
        transfers.clone(),
        &json!({"amount": 30_000, "content": memo, "via": "sepay", "id": 502}),
    )
    .await;
    assert_eq!(sent["sepay"]["status"], 200, "{sent}");
    // Delivered again by SePay: still one record.
    post(
        transfers,
        &json!({"amount": 30_000, "content": memo, "via": "sepay", "id": 502}),
    )
    .await;
    assert_eq!(
        posted(&app, &token).await,
        before + 30_000,
        "not credited by itself"
    );
    let found = unmatched(&app, &admin).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let record = &found[0];
    assert_eq!(record["provider"], "sepay");
    assert_eq!(record["txnId"], "sepay:502");
    assert_eq!(record["amount"], 30_000);
    assert_eq!(record["topUpId"], t["id"]);
    assert_eq!(record["userId"], user_id.as_str());
    assert_eq!(record["reference"], memo);
    assert_eq!(record["status"], "NEEDS_REVIEW");

    let users_try = app.gql_as(&token, UNMATCHED, json!({})).await;
    assert_eq!(users_try.code(), "FORBIDDEN");
    let credit = json!({"i": {"id": record["id"], "action": "CREDIT", "note": "paid twice; kept as credit"}});
    let resolved = app.gql_as(&admin, RESOLVE, credit.clone()).await;
    resolved.assert_ok();
    assert_eq!(
        resolved.data("resolveUnmatchedPayment.unmatchedPayment.status"),
        "CREDITED"
    );
    assert_eq!(posted(&app, &token).await, before + 60_000);
    let again = app.gql_as(&admin, RESOLVE, credit).await;
    assert_eq!(again.code(), "CONFLICT");
    assert_eq!(posted(&app, &token).await, before + 60_000);
    assert_eq!(
        app.count("audit_log WHERE action = 'payments.resolve_unmatched'")
            .await,
        1
    );
    assert!(unmatched(&app, &admin).await.is_empty());
}

#[tokio::test]
async fn a_second_momo_ipn_zalopay_callback_or_stray_casso_transfer_is_recorded_not_dropped() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let (_, _, token, user_id) = app.user().await;
    let keys = sim(&app).keys().clone();
    let webhooks = format!("{}/webhooks/payments", app.state.public_url);
    let before = posted(&app, &token).await;

    // MoMo: the order is paid; then an IPN with another transId for the same order.
    let t = top_up(&app, &token, "MOMO", 10_000).await;
    let order = last_segment(t["payUrl"].as_str().unwrap());
    let (_, paid) = post(
        format!("{}/momo/orders/{order}/pay", sim(&app).base()),
        &json!({}),
    )
    .await;
    let mut ipn: momo::Ipn = serde_json::from_value(paid["ipn"].clone()).unwrap();
    ipn.trans_id += 1;
    ipn.signature = momo::ipn_signature(&keys.momo_access_key, &keys.momo_secret_key, &ipn);
    let (code, _) = post(
        format!("{webhooks}/momo"),
        &serde_json::to_value(&ipn).unwrap(),
    )
    .await;
    assert_eq!(code, 204);

    // ZaloPay: the order is paid; then a callback with another zp_trans_id.
    let z = top_up(&app, &token, "ZALOPAY", 20_000).await;
    let reference = last_segment(z["payUrl"].as_str().unwrap());
    let (_, paid) = post(
        format!("{}/zalopay/orders/{reference}/pay", sim(&app).base()),
        &json!({}),
    )
    .await;
    let mut data: Value = serde_json::from_str(paid["callback"]["data"].as_str().unwrap()).unwrap();
    data["zp_trans_id"] = json!(data["zp_trans_id"].as_i64().unwrap() + 1);
    let data = data.to_string();
    let callback =
        json!({"data": data, "mac": zalopay::callback_mac(&keys.zalopay_key2, &data), "type": 1});
    post(format!("{webhooks}/zalopay"), &callback).await;

    // Casso: a transfer whose note names no top-up at all.
    post(
        format!("{}/bank/transfers", sim(&app).base()),
        &json!({"amount": 70_000, "content": "chuyen tien khong ghi ma", "via": "casso", "id": 601}),
    )
    .await;

    assert_eq!(
        posted(&app, &token).await,
        before + 30_000,
        "the two orders, once each"
    );
    let found = unmatched(&app, &admin).await;
    let by = |provider: &str| {
        found
            .iter()
            .find(|r| r["provider"] == provider)
            .unwrap_or_else(|| panic!("no {provider} record in {found:?}"))
            .clone()
    };
    let momo_record = by("momo");
    assert_eq!(momo_record["txnId"], format!("momo:{}", ipn.trans_id));
    assert_eq!(momo_record["topUpId"], t["id"]);
    let zalopay_record = by("zalopay");
    assert_eq!(zalopay_record["amount"], 20_000);
    assert_eq!(zalopay_record["topUpId"], z["id"]);
    let casso_record = by("casso");
    assert_eq!(casso_record["amount"], 70_000);
    assert_eq!(casso_record["topUpId"], Value::Null);

    // Refunded outside and ignored: recorded, nothing credited.
    for (record, action) in [
        (&momo_record, "REFUNDED_OUTSIDE"),
        (&zalopay_record, "IGNORE"),
    ] {
        let r = app
            .gql_as(
                &admin,
                RESOLVE,
                json!({"i": {"id": record["id"], "action": action, "note": "handled"}}),
            )
            .await;
        r.assert_ok();
    }
    // Money that named nobody needs to be told whose it is.
    let nobody = app
        .gql_as(
            &admin,
            RESOLVE,
            json!({"i": {"id": casso_record["id"], "action": "CREDIT", "note": "the user called"}}),
        )
        .await;
    assert_eq!(
        (nobody.code(), nobody.field()),
        ("BAD_USER_INPUT", "userId")
    );
    app.gql_as(
        &admin,
        RESOLVE,
        json!({"i": {"id": casso_record["id"], "action": "CREDIT", "note": "the user called", "userId": user_id}}),
    )
    .await
    .assert_ok();
    assert_eq!(posted(&app, &token).await, before + 100_000);
    assert!(unmatched(&app, &admin).await.is_empty());
}
