//! Secrets stay secret: a node logging at debug level (trace for our own code) runs Twilio
//! accounts, a campaign and every kind of top-up, and then neither its log, nor any GraphQL
//! response it gave, nor a dump of the database holds a Twilio auth token, a gateway key or
//! any other credential in clear.

use std::time::Duration;

use base64::Engine;
use ringcast::config::Secret;
use ringcast::emulator::payments::SimKeys;
use ringcast::keys::Keys;
use serde_json::{json, Value};

use crate::helpers::calling_hours::numbers_open_now;
use crate::helpers::carrier::Carrier;
use crate::helpers::node::Node;
use crate::helpers::remote::Remote;
use crate::helpers::TestApp;

async fn control(url: String, body: Value) -> Value {
    let reply = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    reply.json().await.unwrap()
}

const TOP_UP: &str =
    "mutation($i: CreateTopUpInput!) { createTopUp(input: $i) { id payUrl transferMemo } }";

#[tokio::test]
async fn no_credential_reaches_the_log_a_response_or_the_plain_database() {
    let app = TestApp::new().await;
    // Both emulators hand out numbers from the same catalogue and the node's own simulated
    // account holds the first four; six leaves this carrier two of its own.
    let carrier = Carrier::start(6).await;
    let wrong = Carrier::start(0).await;
    let wrong_token = format!("wrong-token-{}", uuid::Uuid::new_v4().simple());
    let node = Node::serve_with(&app, &[("RUST_LOG", "debug,ringcast=trace")]).await;
    let mut api = Remote::new(node.base.as_deref().unwrap());
    let login = api.login(&app.admin_email, &app.admin_password).await;
    let access_token = login["accessToken"].as_str().unwrap().to_owned();
    let refresh_token = login["refreshToken"].as_str().unwrap().to_owned();
    let admin_id = login["user"]["id"].as_str().unwrap().to_owned();

    // Twilio: add, test and sync an account, and fail one with a wrong token.
    let add = "mutation($i: AddTwilioAccountInput!) { addTwilioAccount(input: $i) { twilioAccount { id } } }";
    let account = api
        .ok(add, json!({"i": {"name": "Real", "accountSid": carrier.account_sid, "authToken": carrier.auth_token,
                              "apiBaseUrl": carrier.base, "callsPerSecond": 20.0}}))
        .await;
    let account = account["addTwilioAccount"]["twilioAccount"]["id"].clone();
    api.ok(
        "mutation($id: ID!) { testTwilioAccount(id: $id) { twilioAccount { status } } }",
        json!({"id": account}),
    )
    .await;
    api.ok(
        "mutation($id: ID!) { syncTwilioAccount(id: $id) { imported } }",
        json!({"id": account}),
    )
    .await;
    let bad = api
        .ok(
            add,
            json!({"i": {"name": "Wrong", "accountSid": wrong.account_sid, "authToken": wrong_token,
                              "apiBaseUrl": wrong.base}}),
        )
        .await;
    let tested = api
        .ok(
            "mutation($id: ID!) { testTwilioAccount(id: $id) { twilioAccount { status lastError } } }",
            json!({"id": bad["addTwilioAccount"]["twilioAccount"]["id"]}),
        )
        .await;
    assert_eq!(
        tested["testTwilioAccount"]["twilioAccount"]["status"],
        "ERROR"
    );

    // A campaign through that account: signed REST requests out, signed webhooks in.
    let dids = api
        .ok(
            "{ dids(first: 50, filter: {unassigned: true}) { edges { node { id twilioAccountId } } } }",
            json!({}),
        )
        .await;
    let did = dids["dids"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["twilioAccountId"] == account)
        .expect("the carrier's numbers were imported")["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.give_number(&admin_id, &did).await;
    let campaign = api
        .start_campaign(
            &did,
            numbers_open_now(5),
            json!({"callsPerSecond": 10, "maxConcurrent": 5}),
        )
        .await;
    let done = api
        .campaign_until(
            &campaign,
            "the campaign to finish",
            Duration::from_secs(60),
            |c| c["status"] == "COMPLETED",
        )
        .await;
    assert_eq!(carrier.emulator.ledger().len(), 5, "{done}");

    // Every gateway, paid through its simulator: signed requests out, signed callbacks in.
    let momo = api
        .ok(TOP_UP, json!({"i": {"method": "MOMO", "amount": 100_000}}))
        .await;
    let pay_url = momo["createTopUp"]["payUrl"].as_str().unwrap().to_owned();
    let (sim, order) = pay_url.split_once("/momo/pay/").unwrap();
    let sim = sim.to_owned();
    control(format!("{sim}/momo/orders/{order}/pay"), json!({})).await;
    let zalopay = api
        .ok(
            TOP_UP,
            json!({"i": {"method": "ZALOPAY", "amount": 100_000}}),
        )
        .await;
    let pay_url = zalopay["createTopUp"]["payUrl"].as_str().unwrap();
    let order = pay_url.rsplit('/').next().unwrap();
    control(format!("{sim}/zalopay/orders/{order}/pay"), json!({})).await;
    for via in ["sepay", "casso"] {
        let bank = api
            .ok(
                TOP_UP,
                json!({"i": {"method": "BANK_TRANSFER", "amount": 100_000}}),
            )
            .await;
        let memo = bank["createTopUp"]["transferMemo"].clone();
        let sent = control(
            format!("{sim}/bank/transfers"),
            json!({"amount": 100_000, "content": memo, "via": via}),
        )
        .await;
        assert_eq!(sent[via]["status"], 200, "{sent}");
    }
    let topped = api
        .ok(
            "{ topUps(first: 10) { edges { node { status } } } }",
            json!({}),
        )
        .await;
    let succeeded = topped["topUps"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["status"] == "SUCCEEDED")
        .count();
    assert_eq!(succeeded, 4, "{topped}");

    let keys = Keys {
        jwt_secret: Secret::new(app.jwt_secret.clone()),
        encryption_key: Secret::new("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
    };
    let sim_keys = SimKeys::derive(&keys);
    let basic = |sid: &str, token: &str| {
        base64::engine::general_purpose::STANDARD.encode(format!("{sid}:{token}"))
    };
    let secrets = [
        ("the Twilio auth token", carrier.auth_token.clone()),
        (
            "the Twilio basic credentials",
            basic(&carrier.account_sid, &carrier.auth_token),
        ),
        ("the wrong Twilio auth token", wrong_token.clone()),
        (
            "the wrong basic credentials",
            basic(&wrong.account_sid, &wrong_token),
        ),
        ("the MoMo secret key", sim_keys.momo_secret_key),
        ("the ZaloPay key1", sim_keys.zalopay_key1),
        ("the ZaloPay key2", sim_keys.zalopay_key2),
        ("the SePay API key", sim_keys.sepay_api_key),
        ("the Casso checksum key", sim_keys.casso_checksum_key),
        ("the JWT secret", app.jwt_secret.clone()),
        (
            "the encryption key",
            keys.encryption_key.expose().to_owned(),
        ),
        ("the admin password", app.admin_password.clone()),
        ("an access token", access_token.clone()),
        ("a refresh token", refresh_token),
    ];

    let log = node.log();
    // The log is really at debug level and really covers the work above, or this proves nothing.
    assert!(
        log.contains("DEBUG") && log.contains(carrier.base.trim_start_matches("http://")),
        "a debug log of the run: {} lines",
        log.lines().count()
    );
    let dump = std::process::Command::new(crate::helpers::db::pg_dump())
        .args(["--data-only", "--no-owner", &app.db.url])
        .output()
        .unwrap();
    assert!(dump.status.success());
    let dump = String::from_utf8_lossy(&dump.stdout).into_owned();
    assert!(dump.contains(&carrier.account_sid), "the dump has the data");
    let responses = api.responses();
    for (what, secret) in &secrets {
        assert!(!log.contains(secret.as_str()), "{what} is in the log");
        assert!(!dump.contains(secret.as_str()), "{what} is in the database");
        if what != &"an access token" && what != &"a refresh token" && what != &"the admin password"
        {
            assert!(
                !responses.contains(secret.as_str()),
                "{what} is in a GraphQL response"
            );
        }
    }
    node.stop().await;
}
