//! The payment webhooks are open to anyone until a request is verified, so what a stranger
//! can make us keep is bounded: bodies over 64 KiB get 413, a rejected body is kept as its
//! first 4 KiB and its hash, and past 20 rejections a minute an address gets 429 and nothing
//! is kept. Also: a bank aggregator configured alone makes bank top-ups real.

use ringcast::config::Secret;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::TestApp;

const ENDPOINTS: [&str; 4] = ["momo", "zalopay", "bank/sepay", "bank/casso"];

async fn post_raw(url: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> u16 {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn rejected_rows(app: &TestApp) -> i64 {
    app.count("webhook_events WHERE kind = 'rejected'").await
}

#[tokio::test]
async fn an_oversized_payment_webhook_gets_413_and_a_rejected_one_is_kept_truncated_with_its_hash()
{
    let app = TestApp::builder().listening().build().await;
    let base = format!("{}/webhooks/payments", app.state.public_url);
    for endpoint in ENDPOINTS {
        let huge = vec![b'x'; 1_900_000];
        assert_eq!(
            post_raw(&format!("{base}/{endpoint}"), huge, &[]).await,
            413,
            "{endpoint}"
        );
        let just_over = vec![b'x'; 64 * 1024 + 1];
        assert_eq!(
            post_raw(&format!("{base}/{endpoint}"), just_over, &[]).await,
            413,
            "{endpoint}"
        );
    }
    assert_eq!(
        rejected_rows(&app).await,
        0,
        "nothing kept of an oversized body"
    );

    // Under the cap but forged: kept as its first 4 KiB, its size and its SHA-256.
    let body = format!("{{\"id\": 1, \"junk\": \"{}\"}}", "y".repeat(60_000)).into_bytes();
    let hash = hex::encode(Sha256::digest(&body));
    let status = post_raw(
        &format!("{base}/bank/sepay"),
        body.clone(),
        &[("authorization", "Apikey guess")],
    )
    .await;
    assert_eq!(status, 401);
    let mut conn = app.state.db.get().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Kept {
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        payload: Value,
    }
    let kept: Kept = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SELECT payload FROM webhook_events WHERE kind = 'rejected'"),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(kept.payload["sha256"], hash);
    assert_eq!(kept.payload["bytes"], body.len());
    assert_eq!(kept.payload["truncated"], true);
    assert_eq!(kept.payload["head"].as_str().unwrap().len(), 4096);
}

#[tokio::test]
async fn past_twenty_rejections_a_minute_an_address_gets_429_and_nothing_is_kept() {
    let app = TestApp::builder()
        .config(|c| c.trust_proxy = true)
        .listening()
        .build()
        .await;
    let base = format!("{}/webhooks/payments", app.state.public_url);
    let mut answers = Vec::new();
    for i in 0..40 {
        let endpoint = ENDPOINTS[i % ENDPOINTS.len()];
        let body = json!({"attempt": i}).to_string().into_bytes();
        answers.push(
            post_raw(
                &format!("{base}/{endpoint}"),
                body,
                &[("x-forwarded-for", "203.0.113.5")],
            )
            .await,
        );
    }
    assert!(answers[..20].iter().all(|s| *s != 429), "{answers:?}");
    assert!(answers[20..].iter().all(|s| *s == 429), "{answers:?}");
    assert_eq!(rejected_rows(&app).await, 20);

    // Another address has its own budget.
    let status = post_raw(
        &format!("{base}/bank/casso"),
        b"{}".to_vec(),
        &[("x-forwarded-for", "203.0.113.6")],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(rejected_rows(&app).await, 21);

    // A verified notification from the throttled address is still taken: the gateway is never
    // locked out by someone else's noise.
    let (_, _, token, _) = app.user().await;
    let top_up = app
        .gql_as(
            &token,
            "mutation { createTopUp(input: {method: BANK_TRANSFER, amount: 40000}) { topUp { id transferMemo } } }",
            json!({}),
        )
        .await;
    let memo = top_up.str("createTopUp.topUp.transferMemo");
    let key = app
        .state
        .config
        .payments
        .bank
        .sepay_api_key
        .as_ref()
        .unwrap()
        .expose()
        .to_owned();
    let transfer = json!({"id": 9001, "gateway": "VCB", "transactionDate": "2026-12-07 10:00:00",
        "accountNumber": "1", "code": null, "content": memo, "transferType": "in",
        "transferAmount": 40_000, "accumulated": 0, "subAccount": null, "referenceCode": "r", "description": ""});
    let status = post_raw(
        &format!("{base}/bank/sepay"),
        transfer.to_string().into_bytes(),
        &[
            ("x-forwarded-for", "203.0.113.5"),
            ("authorization", &format!("Apikey {key}")),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let id = top_up.str("createTopUp.topUp.id");
    let r = app
        .gql_as(
            &token,
            "query($id: ID!) { topUp(id: $id) { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(r.str("topUp.status"), "SUCCEEDED");
}

#[tokio::test]
async fn with_only_a_sepay_key_bank_top_ups_are_real_and_confirmed_by_sepay() {
    let app = TestApp::builder()
        .config(|c| c.payments.bank.sepay_api_key = Some(Secret::new("the-real-sepay-key")))
        .listening()
        .build()
        .await;
    let (_, _, token, _) = app.user().await;
    let create = "mutation($m: TopUpMethod!) { createTopUp(input: {method: $m, amount: 50000}) { topUp { id simulated payUrl transferMemo } } }";
    let bank = app
        .gql_as(&token, create, json!({"m": "BANK_TRANSFER"}))
        .await;
    bank.assert_ok();
    assert_eq!(
        bank.data("createTopUp.topUp.simulated"),
        false,
        "{:?}",
        bank.body
    );
    assert!(bank
        .str("createTopUp.topUp.payUrl")
        .starts_with("https://img.vietqr.io/"));
    let momo = app.gql_as(&token, create, json!({"m": "MOMO"})).await;
    assert_eq!(
        momo.data("createTopUp.topUp.simulated"),
        true,
        "MoMo is still simulated"
    );

    let base = format!("{}/webhooks/payments", app.state.public_url);
    let transfer = json!({"id": 77, "gateway": "VCB", "transactionDate": "2026-12-07 10:00:00",
        "accountNumber": "1", "code": null, "content": bank.str("createTopUp.topUp.transferMemo"),
        "transferType": "in", "transferAmount": 50_000, "accumulated": 0, "subAccount": null,
        "referenceCode": "r", "description": ""});
    // Casso was not configured: nothing it (or anyone) signs is accepted.
    let casso = post_raw(
        &format!("{base}/bank/casso"),
        b"{\"error\":0,\"data\":{}}".to_vec(),
        &[("x-casso-signature", "t=1,v1=00")],
    )
    .await;
    assert_eq!(casso, 401);
    let status = post_raw(
        &format!("{base}/bank/sepay"),
        transfer.to_string().into_bytes(),
        &[("authorization", "Apikey the-real-sepay-key")],
    )
    .await;
    assert_eq!(status, 200);
    let r = app
        .gql_as(
            &token,
            "query($id: ID!) { topUp(id: $id) { status } }",
            json!({"id": bank.str("createTopUp.topUp.id")}),
        )
        .await;
    assert_eq!(r.str("topUp.status"), "SUCCEEDED");
}
