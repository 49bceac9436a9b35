//! Top-ups end to end: our gateway clients against the simulators over HTTP, the simulators'
//! signed callbacks into our webhooks, and the balance moving exactly once.

use std::time::Duration;

use ringcast::payments::protocol::{casso, momo, vietqr, zalopay};
use serde_json::{json, Value};

use crate::helpers::TestApp;

const CREATE: &str = "mutation($i: CreateTopUpInput!) { createTopUp(input: $i) { topUp { id status method amount expiresAt payUrl deeplink qrPayload transferMemo simulated bankAccount { bankBin accountNumber accountName } } } }";

async fn paying_app() -> (TestApp, String, String) {
    let app = TestApp::builder().listening().build().await;
    let (_, _, token, id) = app.user().await;
    (app, token, id)
}

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
    app.gql_as(token, "{ me { balance { posted available } } }", json!({}))
        .await
        .data("me.balance.posted")
        .as_i64()
        .unwrap()
}

async fn status(app: &TestApp, token: &str, id: &str) -> Value {
    app.gql_as(
        token,
        "query($id: ID!) { topUp(id: $id) { status receivedAmount statusReason } }",
        json!({"id": id}),
    )
    .await
    .data("topUp")
    .clone()
}

async fn topup_credits(app: &TestApp, top_up_id: &str) -> i64 {
    app.count(&format!(
        "ledger_entries WHERE kind = 'TOPUP' AND top_up_id = '{top_up_id}'"
    ))
    .await
}

async fn control(path: String, body: Value) -> Value {
    reqwest::Client::new()
        .post(path)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn post_json(url: String, headers: &[(&str, String)], body: &Value) -> (u16, String) {
    let mut request = reqwest::Client::new().post(url).json(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

fn last_segment(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn momo_top_up_pays_through_the_gateway_and_ends_in_balance_changed() {
    let (app, token, _) = paying_app().await;
    let mut socket = app
        .subscribe_as(
            &token,
            "subscription { balanceChanged { posted available } }",
        )
        .await;
    let before = posted(&app, &token).await;
    let t = top_up(&app, &token, "MOMO", 150_000).await;
    assert_eq!(t["status"], "PENDING");
    assert_eq!(t["simulated"], true);
    assert!(t["deeplink"].as_str().unwrap().starts_with("momo://"));
    let pay_url = t["payUrl"].as_str().unwrap();
    assert!(pay_url.starts_with(sim(&app).base()), "{pay_url}");
    let order = last_segment(pay_url);
    let paid = control(
        format!("{}/momo/orders/{order}/pay", sim(&app).base()),
        json!({}),
    )
    .await;
    assert_eq!(
        paid["merchantStatus"], 204,
        "MoMo expects 204 No Content: {paid}"
    );
    let id = t["id"].as_str().unwrap();
    assert_eq!(status(&app, &token, id).await["status"], "SUCCEEDED");
    assert_eq!(posted(&app, &token).await, before + 150_000);
    // The user's opening credit may be pushed first: the top-up's change must follow.
    socket
        .payload_where(Duration::from_secs(10), |p| {
            p["data"]["balanceChanged"]["posted"] == before + 150_000
        })
        .await;

    // Outside MoMo's limits the order is refused before any gateway is asked.
    let low = app
        .gql_as(
            &token,
            CREATE,
            json!({"i": {"method": "MOMO", "amount": 999}}),
        )
        .await;
    assert_eq!(low.code(), "BAD_USER_INPUT");
    assert_eq!(low.field(), "amount");
}

#[tokio::test]
async fn zalopay_top_up_is_credited_by_its_callback_and_a_declined_one_fails_by_query() {
    let (app, token, _) = paying_app().await;
    let mut socket = app
        .subscribe_as(&token, "subscription { balanceChanged { posted } }")
        .await;
    let before = posted(&app, &token).await;
    let t = top_up(&app, &token, "ZALOPAY", 80_000).await;
    let app_trans_id = last_segment(t["payUrl"].as_str().unwrap());
    let vn_today = (chrono::Utc::now() + chrono::Duration::hours(7))
        .format("%y%m%d")
        .to_string();
    assert!(
        app_trans_id.starts_with(&format!("{vn_today}_")),
        "{app_trans_id}"
    );
    assert!(vietqr::verify_crc(t["qrPayload"].as_str().unwrap()));
    let paid = control(
        format!("{}/zalopay/orders/{app_trans_id}/pay", sim(&app).base()),
        json!({}),
    )
    .await;
    assert_eq!(paid["replies"][0]["return_code"], 1, "{paid}");
    assert_eq!(
        status(&app, &token, t["id"].as_str().unwrap()).await["status"],
        "SUCCEEDED"
    );
    socket
        .payload_where(Duration::from_secs(10), |p| {
            p["data"]["balanceChanged"]["posted"] == before + 80_000
        })
        .await;

    // ZaloPay sends nothing for a declined order: the sweep asks and marks it failed.
    let declined = top_up(&app, &token, "ZALOPAY", 20_000).await;
    let declined_ref = last_segment(declined["payUrl"].as_str().unwrap());
    control(
        format!("{}/zalopay/orders/{declined_ref}/decline", sim(&app).base()),
        json!({}),
    )
    .await;
    app.execute_sql("UPDATE top_ups SET created_at = created_at - interval '1 minute'")
        .await;
    ringcast::payments::service::poll(&app.state)
        .await
        .ok()
        .unwrap();
    assert_eq!(
        status(&app, &token, declined["id"].as_str().unwrap()).await["status"],
        "FAILED"
    );
    assert_eq!(posted(&app, &token).await, before + 80_000);
}

#[tokio::test]
async fn bank_transfers_by_vietqr_are_matched_by_memo_through_sepay_and_casso() {
    let (app, token, _) = paying_app().await;
    let mut socket = app
        .subscribe_as(&token, "subscription { balanceChanged { posted } }")
        .await;
    let before = posted(&app, &token).await;
    let t = top_up(&app, &token, "BANK_TRANSFER", 200_000).await;
    let memo = t["transferMemo"].as_str().unwrap().to_owned();
    let qr = t["qrPayload"].as_str().unwrap();
    assert!(vietqr::verify_crc(qr), "{qr}");
    assert!(
        qr.contains("0010A000000727") && qr.contains("QRIBFTTA") && qr.contains("5406200000"),
        "{qr}"
    );
    assert!(qr.contains(&memo), "{qr}");
    assert_eq!(t["bankAccount"]["bankBin"], "970436");
    // The bank wraps the memo in its own text, in lower case.
    let sent = control(format!("{}/bank/transfers", sim(&app).base()),
        json!({"amount": 200_000, "content": format!("MBVCB.3278907687.{}.CT tu 0123", memo.to_lowercase()), "via": "sepay"}),
    )
    .await;
    assert_eq!(sent["sepay"]["status"], 200, "{sent}");
    assert_eq!(
        status(&app, &token, t["id"].as_str().unwrap()).await["status"],
        "SUCCEEDED"
    );
    socket
        .payload_where(Duration::from_secs(10), |p| {
            p["data"]["balanceChanged"]["posted"] == before + 200_000
        })
        .await;

    let second = top_up(&app, &token, "BANK_TRANSFER", 50_000).await;
    let memo = second["transferMemo"].as_str().unwrap();
    let sent = control(
        format!("{}/bank/transfers", sim(&app).base()),
        json!({"amount": 50_000, "content": format!("{memo} nap tien"), "via": "casso"}),
    )
    .await;
    assert_eq!(sent["casso"]["status"], 200, "{sent}");
    assert_eq!(
        status(&app, &token, second["id"].as_str().unwrap()).await["status"],
        "SUCCEEDED"
    );
    assert_eq!(posted(&app, &token).await, before + 250_000);
}

#[tokio::test]
async fn the_same_notification_twenty_times_credits_once() {
    let (app, token, _) = paying_app().await;
    let before = posted(&app, &token).await;
    let webhooks = format!("{}/webhooks/payments", app.state.public_url);

    // MoMo: the IPN the simulator sent, delivered again 20 times in a row and 20 at once.
    let t = top_up(&app, &token, "MOMO", 10_000).await;
    let order = last_segment(t["payUrl"].as_str().unwrap());
    let paid = control(
        format!("{}/momo/orders/{order}/pay", sim(&app).base()),
        json!({}),
    )
    .await;
    let ipn = paid["ipn"].clone();
    for _ in 0..20 {
        assert_eq!(
            post_json(format!("{webhooks}/momo"), &[], &ipn).await.0,
            204
        );
    }
    let concurrent = futures_util::future::join_all(
        (0..20).map(|_| post_json(format!("{webhooks}/momo"), &[], &ipn)),
    )
    .await;
    assert!(concurrent.iter().all(|(s, _)| *s == 204), "{concurrent:?}");
    assert_eq!(topup_credits(&app, t["id"].as_str().unwrap()).await, 1);

    // ZaloPay: the callback replayed; duplicates answer return_code 2.
    let z = top_up(&app, &token, "ZALOPAY", 20_000).await;
    let reference = last_segment(z["payUrl"].as_str().unwrap());
    let paid = control(
        format!("{}/zalopay/orders/{reference}/pay", sim(&app).base()),
        json!({}),
    )
    .await;
    let callback = paid["callback"].clone();
    for _ in 0..20 {
        let (code, body) = post_json(format!("{webhooks}/zalopay"), &[], &callback).await;
        assert_eq!(code, 200);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["return_code"],
            2,
            "{body}"
        );
    }
    let concurrent = futures_util::future::join_all(
        (0..20).map(|_| post_json(format!("{webhooks}/zalopay"), &[], &callback)),
    )
    .await;
    assert_eq!(zalopay_codes(&concurrent), vec![2; 20], "{concurrent:?}");
    assert_eq!(topup_credits(&app, z["id"].as_str().unwrap()).await, 1);

    // ZaloPay: a first delivery raced by its own duplicates: exactly one answer says processed
    // (1) and every other says duplicate (2); anything else would make ZaloPay call again.
    let keys = sim(&app).keys().clone();
    let raced = top_up(&app, &token, "ZALOPAY", 15_000).await;
    let data = json!({"app_id": keys.zalopay_app_id, "app_trans_id": last_segment(raced["payUrl"].as_str().unwrap()),
        "app_time": 1, "app_user": "u", "amount": 15_000, "embed_data": "{}", "item": "[]", "zp_trans_id": 4_242,
        "server_time": 1, "channel": 38, "merchant_user_id": "", "user_fee_amount": 0, "discount_amount": 0})
    .to_string();
    let first =
        json!({"data": data, "mac": zalopay::callback_mac(&keys.zalopay_key2, &data), "type": 1});
    let concurrent = futures_util::future::join_all(
        (0..20).map(|_| post_json(format!("{webhooks}/zalopay"), &[], &first)),
    )
    .await;
    let mut codes = zalopay_codes(&concurrent);
    codes.sort_unstable();
    let mut expected = vec![1];
    expected.extend([2; 19]);
    assert_eq!(codes, expected, "{concurrent:?}");
    assert_eq!(topup_credits(&app, raced["id"].as_str().unwrap()).await, 1);

    // SePay: one bank transaction id delivered 40 times.
    let b = top_up(&app, &token, "BANK_TRANSFER", 30_000).await;
    let transfer =
        json!({"amount": 30_000, "content": b["transferMemo"], "via": "sepay", "id": 777_001});
    for _ in 0..20 {
        let sent = control(
            format!("{}/bank/transfers", sim(&app).base()),
            transfer.clone(),
        )
        .await;
        assert_eq!(sent["sepay"]["status"], 200, "{sent}");
    }
    let concurrent = futures_util::future::join_all((0..20).map(|_| {
        control(
            format!("{}/bank/transfers", sim(&app).base()),
            transfer.clone(),
        )
    }))
    .await;
    // SePay retries anything but a 2xx, so a duplicate must be acknowledged like the first.
    assert!(
        concurrent.iter().all(|sent| sent["sepay"]["status"] == 200),
        "{concurrent:?}"
    );
    assert_eq!(topup_credits(&app, b["id"].as_str().unwrap()).await, 1);

    assert_eq!(posted(&app, &token).await, before + 75_000);
}

/// ZaloPay reads `return_code` from a 200 answer; any other status is a failed delivery to it.
fn zalopay_codes(replies: &[(u16, String)]) -> Vec<i64> {
    replies
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            serde_json::from_str::<Value>(body).unwrap()["return_code"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn forged_notifications_credit_nothing_and_wrong_amounts_wait_for_review() {
    let (app, token, _) = paying_app().await;
    let admin = app.admin_token().await;
    let before = posted(&app, &token).await;
    let webhooks = format!("{}/webhooks/payments", app.state.public_url);
    let keys = sim(&app).keys().clone();

    // MoMo: a real IPN for an order with its amount raised: the signature no longer fits.
    let t = top_up(&app, &token, "MOMO", 10_000).await;
    let order = last_segment(t["payUrl"].as_str().unwrap());
    let mut ipn: momo::Ipn = serde_json::from_value(json!({
        "partnerCode": keys.momo_partner_code, "orderId": order, "requestId": order, "amount": 10_000,
        "orderInfo": "x", "orderType": "momo_wallet", "transId": 1, "resultCode": 0, "message": "Successful.",
        "payType": "qr", "responseTime": 1, "extraData": "", "signature": ""
    }))
    .unwrap();
    ipn.signature = momo::ipn_signature(&keys.momo_access_key, "not the secret", &ipn);
    let (code, _) = post_json(
        format!("{webhooks}/momo"),
        &[],
        &serde_json::to_value(&ipn).unwrap(),
    )
    .await;
    assert_eq!(code, 400);
    // Properly signed, but 1,000 VND short: kept for review, never credited.
    ipn.amount = 9_000;
    ipn.signature = momo::ipn_signature(&keys.momo_access_key, &keys.momo_secret_key, &ipn);
    let (code, _) = post_json(
        format!("{webhooks}/momo"),
        &[],
        &serde_json::to_value(&ipn).unwrap(),
    )
    .await;
    assert_eq!(code, 204);
    let reviewed = status(&app, &token, t["id"].as_str().unwrap()).await;
    assert_eq!(reviewed["status"], "NEEDS_REVIEW", "{reviewed}");
    assert_eq!(reviewed["receivedAmount"], 9_000);

    // ZaloPay: a callback with a mac made with the wrong key.
    let z = top_up(&app, &token, "ZALOPAY", 20_000).await;
    let data = json!({"app_id": keys.zalopay_app_id, "app_trans_id": last_segment(z["payUrl"].as_str().unwrap()),
        "app_time": 1, "app_user": "u", "amount": 20_000, "embed_data": "{}", "item": "[]", "zp_trans_id": 5,
        "server_time": 1, "channel": 38, "merchant_user_id": "", "user_fee_amount": 0, "discount_amount": 0})
    .to_string();
    let forged = json!({"data": data, "mac": zalopay::callback_mac("wrong key", &data), "type": 1});
    let (_, body) = post_json(format!("{webhooks}/zalopay"), &[], &forged).await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["return_code"],
        -1
    );
    assert_eq!(
        status(&app, &token, z["id"].as_str().unwrap()).await["status"],
        "PENDING"
    );

    // SePay with the wrong API key, Casso with a bad signature.
    let b = top_up(&app, &token, "BANK_TRANSFER", 30_000).await;
    let sepay = json!({"id": 9, "gateway": "VCB", "transactionDate": "2026-11-24 10:00:00", "accountNumber": "1",
        "code": null, "content": b["transferMemo"], "transferType": "in", "transferAmount": 30_000,
        "accumulated": 0, "subAccount": null, "referenceCode": "x", "description": ""});
    let (code, _) = post_json(
        format!("{webhooks}/bank/sepay"),
        &[("Authorization", "Apikey guessed".into())],
        &sepay,
    )
    .await;
    assert_eq!(code, 401);
    let casso_body = json!({"error": 0, "data": {"id": 10, "reference": "x", "description": b["transferMemo"],
        "amount": 30_000, "runningBalance": 0, "transactionDateTime": "2026-11-24 10:00:00", "accountNumber": "1"}});
    let header = casso::header("wrong key", "1727948258788", &casso_body);
    let (code, _) = post_json(
        format!("{webhooks}/bank/casso"),
        &[("X-Casso-Signature", header)],
        &casso_body,
    )
    .await;
    assert_eq!(code, 401);
    assert_eq!(
        status(&app, &token, b["id"].as_str().unwrap()).await["status"],
        "PENDING"
    );
    // A genuine transfer for less than the order: review, not credit.
    control(
        format!("{}/bank/transfers", sim(&app).base()),
        json!({"amount": 25_000, "content": b["transferMemo"], "via": "casso"}),
    )
    .await;
    assert_eq!(
        status(&app, &token, b["id"].as_str().unwrap()).await["status"],
        "NEEDS_REVIEW"
    );
    assert_eq!(posted(&app, &token).await, before, "nothing was credited");
    assert!(app.count("webhook_events WHERE kind = 'rejected'").await >= 4);

    // An admin credits what actually arrived; the ledger shows it once.
    let confirmed = app
        .gql_as(
            &admin,
            "mutation($i: ConfirmTopUpInput!) { confirmTopUp(input: $i) { topUp { status amount } } }",
            json!({"i": {"id": b["id"], "note": "short transfer seen on the statement"}}),
        )
        .await;
    assert_eq!(
        confirmed.data("confirmTopUp.topUp.status"),
        "SUCCEEDED",
        "{:?}",
        confirmed.body
    );
    assert_eq!(posted(&app, &token).await, before + 25_000);
    let again = app
        .gql_as(
            &admin,
            "mutation($i: ConfirmTopUpInput!) { confirmTopUp(input: $i) { topUp { status } } }",
            json!({"i": {"id": b["id"]}}),
        )
        .await;
    assert_eq!(again.code(), "CONFLICT");
    // A reason the user will read must say something, and not a book.
    for reason in [" ".to_owned(), "x".repeat(501)] {
        let refused = app
            .gql_as(
                &admin,
                "mutation($i: RejectTopUpInput!) { rejectTopUp(input: $i) { topUp { status } } }",
                json!({"i": {"id": t["id"], "reason": reason}}),
            )
            .await;
        assert_eq!(
            (refused.code(), refused.field()),
            ("BAD_USER_INPUT", "reason")
        );
    }
    let rejected = app
        .gql_as(
            &admin,
            "mutation($i: RejectTopUpInput!) { rejectTopUp(input: $i) { topUp { status statusReason } } }",
            json!({"i": {"id": t["id"], "reason": "amount does not match"}}),
        )
        .await;
    assert_eq!(rejected.data("rejectTopUp.topUp.status"), "FAILED");
    let users_try = app
        .gql_as(
            &token,
            "mutation($i: RejectTopUpInput!) { rejectTopUp(input: $i) { topUp { status } } }",
            json!({"i": {"id": z["id"], "reason": "x"}}),
        )
        .await;
    assert_eq!(users_try.code(), "FORBIDDEN");
}

#[tokio::test]
async fn ledger_statement_and_adjustments() {
    let (app, token, user_id) = paying_app().await;
    let admin = app.admin_token().await;
    let debit = app
        .gql_as(&admin, "mutation($i: AdjustBalanceInput!) { adjustBalance(input: $i) { entry { kind amount postedAfter reason } } }",
            json!({"i": {"userId": user_id, "amount": -5_000, "reason": "goodwill reversal"}}))
        .await;
    assert_eq!(debit.data("adjustBalance.entry.kind"), "ADJUSTMENT");
    let too_much = app
        .gql_as(
            &admin,
            "mutation($i: AdjustBalanceInput!) { adjustBalance(input: $i) { entry { id } } }",
            json!({"i": {"userId": user_id, "amount": -1_000_000_000, "reason": "too much"}}),
        )
        .await;
    assert_eq!(too_much.code(), "INSUFFICIENT_BALANCE");
    let by_user = app
        .gql_as(
            &token,
            "mutation($i: AdjustBalanceInput!) { adjustBalance(input: $i) { entry { id } } }",
            json!({"i": {"userId": user_id, "amount": 5_000, "reason": "mine"}}),
        )
        .await;
    assert_eq!(by_user.code(), "FORBIDDEN");
    let ledger = app
        .gql_as(&token, "{ ledger(first: 1) { edges { node { kind amount reason } } pageInfo { hasNextPage endCursor } } }", json!({}))
        .await;
    assert_eq!(ledger.data("ledger.edges")[0]["node"]["amount"], -5_000);
    assert_eq!(ledger.data("ledger.pageInfo.hasNextPage"), true);
    let cursor = ledger.str("ledger.pageInfo.endCursor");
    let older = app
        .gql_as(&token, "query($a: String) { ledger(first: 5, after: $a, filter: {kinds: [ADJUSTMENT]}) { edges { node { amount } } } }", json!({"a": cursor}))
        .await;
    assert_eq!(
        older.data("ledger.edges")[0]["node"]["amount"],
        crate::helpers::app::STARTING_BALANCE
    );
    let month = (chrono::Utc::now() + chrono::Duration::hours(7))
        .format("%Y-%m")
        .to_string();
    let statement = app
        .gql_as(&token, "query($m: String!) { statement(month: $m) { openingBalance closingBalance credits debits csv lines { kind amount } } }", json!({"m": month}))
        .await;
    assert_eq!(statement.data("statement.openingBalance"), 0);
    assert_eq!(
        statement.data("statement.closingBalance"),
        crate::helpers::app::STARTING_BALANCE - 5_000
    );
    assert_eq!(statement.data("statement.debits"), 5_000);
    assert!(statement.str("statement.csv").contains("CLOSING_BALANCE"));
    let bad = app
        .gql_as(
            &token,
            "{ statement(month: \"2026-13\") { month } }",
            json!({}),
        )
        .await;
    assert_eq!(bad.code(), "BAD_USER_INPUT");
    let rates = app
        .gql_as(&token, "{ rates { prefix perMinute } }", json!({}))
        .await;
    assert_eq!(rates.data("rates")[0]["prefix"], "");
    let gone = app
        .gql_as(
            &admin,
            "mutation { deleteRate(input: {prefix: \"\"}) { rate { prefix } } }",
            json!({}),
        )
        .await;
    assert_eq!(gone.code(), "CONFLICT");
}
