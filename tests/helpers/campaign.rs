//! Campaigns as a user builds them through GraphQL.

use serde_json::{json, Value};

use super::TestApp;

/// A REMINDER campaign calling from `did` with a menu (1 records, 9 opts out), `extra` merged
/// over the defaults, and `contacts` added; returns its id.
pub async fn create(
    app: &TestApp,
    token: &str,
    did: &str,
    contacts: Vec<Value>,
    extra: Value,
) -> String {
    let mut input = json!({
        "name": "Nhắc lịch",
        "purpose": "REMINDER",
        "consent": {"basis": "EXISTING_CUSTOMER", "source": "contract", "collectedAt": "2026-01-01T00:00:00Z"},
        "message": {"text": "Chào {{name}}, lịch hẹn của bạn lúc {{time}}."},
        "menu": {"prompt": "Nhấn 1 để xác nhận, 9 để từ chối", "options": [
            {"digit": "1", "action": "RECORD_DIGITS"}, {"digit": "9", "action": "OPT_OUT"}]},
        "callerIds": [did],
        "pacing": {"callsPerSecond": 50, "maxConcurrent": 50},
    });
    for (k, v) in extra.as_object().expect("extra settings are an object") {
        input[k] = v.clone();
    }
    let id = app
        .gql_as(
            token,
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
            json!({"i": input}),
        )
        .await
        .str("createCampaign.campaign.id");
    for chunk in contacts.chunks(5000) {
        app.gql_as(
            token,
            "mutation($i: AddContactsInput!) { addContacts(input: $i) { added } } ",
            json!({"i": {"campaignId": id, "contacts": chunk}}),
        )
        .await
        .assert_ok();
    }
    id
}

pub async fn start(app: &TestApp, token: &str, id: &str) {
    app.gql_as(
        token,
        "mutation($i: StartCampaignInput!) { startCampaign(input: $i) { campaign { status } } }",
        json!({"i": {"id": id}}),
    )
    .await
    .assert_ok();
}
