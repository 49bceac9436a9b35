//! Secrets stay secret: a node logging at debug level (trace for our own code) runs Twilio
//! accounts, a campaign and every kind of top-up, and then neither its log, nor any GraphQL
//! response it gave, nor a dump of the database holds a Twilio auth token, a gateway key or
//! any other credential in clear. Keys are looked for in every form a careless line could
//! write them: as configured, hex in either case, base64 standard or URL-safe with or without
//! padding, and for the encryption key the same forms of the 32 bytes it decodes to.

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

/// `key` as configured and every encoding of its bytes: hex in both cases, base64 standard and
/// URL-safe, padded and not.
fn encodings(what: &str, key: &str) -> Vec<(String, String)> {
    let mut out = vec![
        (what.to_owned(), key.to_owned()),
        (format!("{what} in upper case"), key.to_uppercase()),
    ];
    out.extend(
        byte_encodings(key.as_bytes())
            .into_iter()
            .map(|(how, v)| (format!("{what} as {how}"), v)),
    );
    out
}

fn byte_encodings(bytes: &[u8]) -> Vec<(&'static str, String)> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    vec![
        ("hex", hex::encode(bytes)),
        ("upper-case hex", hex::encode_upper(bytes)),
        ("base64", STANDARD.encode(bytes)),
        ("unpadded base64", STANDARD_NO_PAD.encode(bytes)),
        ("URL-safe base64", URL_SAFE.encode(bytes)),
        ("unpadded URL-safe base64", URL_SAFE_NO_PAD.encode(bytes)),
    ]
}

/// The encryption key is base64 of 32 bytes: those bytes, encoded any way, are the key too.
fn decoded_key_encodings(key: &str) -> Vec<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key)
        .expect("ENCRYPTION_KEY is base64");
    assert_eq!(bytes.len(), 32, "an AES-256 key");
    let mut out: Vec<_> = byte_encodings(&bytes)
        .into_iter()
        .map(|(how, v)| (format!("the encryption key's bytes as {how}"), v))
        .collect();
    // As a `Debug` of the byte array would print them.
    out.push((
        "the encryption key's bytes as a list".into(),
        format!("{bytes:?}"),
    ));
    out
}

const TOP_UP: &str =
    "mutation($i: CreateTopUpInput!) { createTopUp(input: $i) { topUp { id payUrl transferMemo } } }";

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
        "mutation($id: ID!) { testTwilioAccount(input: {id: $id}) { twilioAccount { status } } }",
        json!({"id": account}),
    )
    .await;
    api.ok(
        "mutation($id: ID!) { syncTwilioAccount(input: {id: $id}) { imported } }",
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
            "mutation($id: ID!) { testTwilioAccount(input: {id: $id}) { twilioAccount { status lastError } } }",
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
    let pay_url = momo["createTopUp"]["topUp"]["payUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let (sim, order) = pay_url.split_once("/momo/pay/").unwrap();
    let sim = sim.to_owned();
    control(format!("{sim}/momo/orders/{order}/pay"), json!({})).await;
    let zalopay = api
        .ok(
            TOP_UP,
            json!({"i": {"method": "ZALOPAY", "amount": 100_000}}),
        )
        .await;
    let pay_url = zalopay["createTopUp"]["topUp"]["payUrl"].as_str().unwrap();
    let order = pay_url.rsplit('/').next().unwrap();
    control(format!("{sim}/zalopay/orders/{order}/pay"), json!({})).await;
    for via in ["sepay", "casso"] {
        let bank = api
            .ok(
                TOP_UP,
                json!({"i": {"method": "BANK_TRANSFER", "amount": 100_000}}),
            )
            .await;
        let memo = bank["createTopUp"]["topUp"]["transferMemo"].clone();
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
    // Destructured whole: a new gateway setting is a compile error until it is sorted here.
    let SimKeys {
        // Identifiers sent in the clear in every order and shown on payment pages.
        momo_partner_code: _,
        zalopay_app_id: _,
        momo_access_key,
        momo_secret_key,
        zalopay_key1,
        zalopay_key2,
        sepay_api_key,
        casso_checksum_key,
    } = sim_keys;
    let keys_to_hide = [
        ("the Twilio auth token", carrier.auth_token.clone()),
        ("the wrong Twilio auth token", wrong_token.clone()),
        ("the MoMo access key", momo_access_key),
        ("the MoMo secret key", momo_secret_key),
        ("the ZaloPay key1", zalopay_key1),
        ("the ZaloPay key2", zalopay_key2),
        ("the SePay API key", sepay_api_key),
        ("the Casso checksum key", casso_checksum_key),
        ("the JWT secret", app.jwt_secret.clone()),
        (
            "the encryption key",
            keys.encryption_key.expose().to_owned(),
        ),
    ];
    let mut secrets: Vec<(String, String)> = keys_to_hide
        .iter()
        .flat_map(|(what, key)| encodings(what, key))
        .collect();
    secrets.extend(decoded_key_encodings(keys.encryption_key.expose()));
    let sessions = [
        ("the admin password", app.admin_password.clone()),
        ("an access token", access_token.clone()),
        ("a refresh token", refresh_token),
    ];
    secrets.extend(sessions.iter().map(|(w, v)| (w.to_string(), v.clone())));
    secrets.extend([
        (
            "the Twilio basic credentials".to_owned(),
            basic(&carrier.account_sid, &carrier.auth_token),
        ),
        (
            "the wrong basic credentials".to_owned(),
            basic(&wrong.account_sid, &wrong_token),
        ),
    ]);

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
    let mut found = Vec::new();
    for (what, secret) in &secrets {
        if log.contains(secret.as_str()) {
            found.push(format!("{what} is in the log"));
        }
        if dump.contains(secret.as_str()) {
            found.push(format!("{what} is in the database"));
        }
        // A login response carries the session's own tokens, by design.
        let own_session = sessions.iter().any(|(w, _)| w == what);
        if !own_session && responses.contains(secret.as_str()) {
            found.push(format!("{what} is in a GraphQL response"));
        }
    }
    assert!(
        found.is_empty(),
        "{} of {} forms found:\n{}",
        found.len(),
        secrets.len(),
        found.join("\n")
    );
    node.stop().await;
}
