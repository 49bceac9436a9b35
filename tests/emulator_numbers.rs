//! Every emulator holds numbers of its own, a sync says which numbers it could not take, and
//! the emulator's IncomingPhoneNumber carries every field of Twilio's API definition.

use serde_json::{json, Value};

use crate::helpers::carrier::Carrier;
use crate::helpers::TestApp;

/// `api.v2010.account.incoming_phone_number` in Twilio's OpenAPI definition (twilio_api_v2010.json).
const SPEC_PROPERTIES: &[&str] = &[
    "account_sid",
    "address_requirements",
    "address_sid",
    "api_version",
    "beta",
    "bundle_sid",
    "capabilities",
    "date_created",
    "date_updated",
    "emergency_address_sid",
    "emergency_address_status",
    "emergency_status",
    "friendly_name",
    "identity_sid",
    "origin",
    "phone_number",
    "sid",
    "sms_application_sid",
    "sms_fallback_method",
    "sms_fallback_url",
    "sms_method",
    "sms_url",
    "status",
    "status_callback",
    "status_callback_method",
    "trunk_sid",
    "type",
    "uri",
    "voice_application_sid",
    "voice_caller_id_lookup",
    "voice_fallback_method",
    "voice_fallback_url",
    "voice_method",
    "voice_receive_mode",
    "voice_url",
];

const SYNC: &str = "mutation($id: ID!) { syncTwilioAccount(input: {id: $id}) { imported onTwilio skipped { phoneNumber twilioSid reason } } }";

async fn sync(app: &TestApp, admin: &str, id: &str) -> Value {
    let r = app.gql_as(admin, SYNC, json!({"id": id})).await;
    r.assert_ok();
    r.data("syncTwilioAccount").clone()
}

#[tokio::test]
async fn two_emulated_accounts_sync_every_number_and_a_taken_one_is_reported() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let first = Carrier::start(4).await;
    let second = Carrier::start(4).await;
    let a = app.add_carrier_account(&admin, &first).await;
    let b = app.add_carrier_account(&admin, &second).await;
    assert_eq!(
        sync(&app, &admin, &a).await,
        json!({"imported": 4, "onTwilio": 4, "skipped": []})
    );
    assert_eq!(
        sync(&app, &admin, &b).await,
        json!({"imported": 4, "onTwilio": 4, "skipped": []})
    );
    assert_eq!(app.count("dids").await, 8);

    // A number the platform already holds under another account is reported, not dropped.
    let taken = first.numbers()[0].clone();
    second.emulator.restore_number(
        &second.account_sid,
        &taken,
        "PN00000000000000000000000000000001",
        None,
        None,
    );
    let report = sync(&app, &admin, &b).await;
    assert_eq!(report["imported"], 0);
    assert_eq!(report["onTwilio"], 5);
    assert_eq!(report["skipped"][0]["phoneNumber"], taken.as_str());
    assert_eq!(
        report["skipped"][0]["twilioSid"],
        "PN00000000000000000000000000000001"
    );
    assert!(report["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("another Twilio account"));
}

#[tokio::test]
async fn an_incoming_phone_number_has_every_property_of_twilios_definition() {
    let carrier = Carrier::start(1).await;
    let list: Value = reqwest::Client::new()
        .get(format!(
            "{}/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
            carrier.base, carrier.account_sid
        ))
        .basic_auth(&carrier.account_sid, Some(&carrier.auth_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = list["incoming_phone_numbers"][0]
        .as_object()
        .unwrap_or_else(|| panic!("one number: {list}"));
    let missing: Vec<&&str> = SPEC_PROPERTIES
        .iter()
        .filter(|p| !number.contains_key(**p))
        .collect();
    assert!(missing.is_empty(), "missing {missing:?} in {number:?}");
    for (key, value) in [
        ("sms_fallback_method", "POST"),
        ("emergency_address_status", "unregistered"),
    ] {
        assert_eq!(number[key], value);
    }
}
