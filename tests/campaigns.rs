//! Campaigns and contacts over GraphQL: settings validation, contacts, preflight, lifecycle,
//! and isolation between users.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::carrier::Carrier;
use crate::helpers::{imports, input_type, TestApp};

const CREATE: &str = "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id name status purpose message { text voice language repeat } schedule { timeZone dailyStart } } } }";
const ADD: &str = "mutation($i: AddContactsInput!) { addContacts(input: $i) { added duplicates invalid { row value reason } } }";
const PREFLIGHT: &str = "query($id: ID!) { campaignPreflight(id: $id) { ready blockers { code } warnings { code } contactsToCall } }";

fn campaign(extra: Value) -> Value {
    let mut input = json!({
        "name": "Nhắc lịch hẹn",
        "purpose": "REMINDER",
        "message": {"text": "Xin chào {{name}}, bạn có lịch hẹn lúc {{time}}."},
        "menu": {"prompt": "Nhấn 1 để xác nhận, 9 để không nhận cuộc gọi nữa", "options": [
            {"digit": "1", "action": "RECORD_DIGITS"}, {"digit": "9", "action": "OPT_OUT"}]},
        "schedule": {"dailyStart": "08:30", "dailyEnd": "19:00"},
        "retry": {"maxAttempts": 3, "retryOn": ["BUSY", "NO_ANSWER"], "delaySecs": 600},
    });
    if let (Some(base), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    input
}

#[tokio::test]
async fn a_campaign_is_built_filled_checked_and_moved_through_its_lifecycle() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;

    let created = app
        .gql_as(&token, CREATE, json!({"i": campaign(json!({}))}))
        .await;
    created.assert_ok();
    let id = created.str("createCampaign.campaign.id");
    assert_eq!(created.str("createCampaign.campaign.status"), "DRAFT");
    assert_eq!(
        created.str("createCampaign.campaign.message.voice"),
        "Google.vi-VN-Wavenet-A"
    );
    assert_eq!(
        created.str("createCampaign.campaign.schedule.timeZone"),
        "Asia/Ho_Chi_Minh"
    );

    let preflight = app.gql_as(&token, PREFLIGHT, json!({"id": id})).await;
    let blockers: Vec<&str> = preflight
        .data("campaignPreflight.blockers")
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap())
        .collect();
    assert_eq!(blockers, vec!["NO_CONTACTS", "NO_CONSENT", "NO_CALLER_ID"]);
    let refused = app
        .gql_as(
            &token,
            "mutation($i: StartCampaignInput!) { startCampaign(input: $i) { campaign { status } } }",
            json!({"i": {"id": id}}),
        )
        .await;
    assert_eq!(refused.code(), "BAD_USER_INPUT");
    assert!(
        refused.message().contains("NO_CONTACTS"),
        "{}",
        refused.message()
    );

    let added = app
        .gql_as(
            &token,
            ADD,
            json!({"i": {"campaignId": id, "contacts": [
            {"phone": "0912345670", "name": "An", "vars": {"time": "9:00"}},
            {"phone": "+84 912 345 670"},
            {"phone": "not a number"},
            {"phone": "0912345673", "name": "Bình"},
            {"phone": "+999999999999999999999"}]}}),
        )
        .await;
    added.assert_ok();
    assert_eq!(added.data("addContacts.added"), 2);
    assert_eq!(added.data("addContacts.duplicates"), 1);
    let rows: Vec<i64> = added
        .data("addContacts.invalid")
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["row"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, vec![3, 5]);
    let contacts = app.gql_as(&token, "query($id: ID!) { contacts(campaignId: $id) { edges { node { phone name vars state } } } }", json!({"id": id})).await;
    assert_eq!(
        contacts.data("contacts.edges")[0]["node"]["phone"],
        "+84912345670"
    );
    assert_eq!(
        contacts.data("contacts.edges")[0]["node"]["vars"]["time"],
        "9:00"
    );

    let update = "mutation($i: UpdateCampaignInput!) { updateCampaign(input: $i) { campaign { callerIds consent { basis } } } }";
    let updated = app
        .gql_as(&token, update, json!({"i": {"id": id, "callerIds": [did],
            "consent": {"basis": "EXISTING_CUSTOMER", "source": "customer contract §4", "collectedAt": "2026-01-01T00:00:00Z"}}}))
        .await;
    updated.assert_ok();
    let preflight = app.gql_as(&token, PREFLIGHT, json!({"id": id})).await;
    assert_eq!(
        preflight.data("campaignPreflight.ready"),
        true,
        "{}",
        preflight.body
    );
    assert_eq!(preflight.data("campaignPreflight.contactsToCall"), 2);

    let mv = |name: &str| {
        let ty = input_type(name);
        format!("mutation($i: {ty}!) {{ {name}(input: $i) {{ campaign {{ status startedAt completedAt }} }} }}")
    };
    let started = app
        .gql_as(&token, &mv("startCampaign"), json!({"i": {"id": id}}))
        .await;
    assert_eq!(started.str("startCampaign.campaign.status"), "RUNNING");
    assert_eq!(
        app.gql_as(&token, update, json!({"i": {"id": id, "name": "x"}}))
            .await
            .code(),
        "CONFLICT"
    );
    assert_eq!(
        app.gql_as(&token, &mv("startCampaign"), json!({"i": {"id": id}}))
            .await
            .code(),
        "CONFLICT"
    );
    assert_eq!(
        app.gql_as(&token, &mv("pauseCampaign"), json!({"i": {"id": id}}))
            .await
            .str("pauseCampaign.campaign.status"),
        "PAUSED"
    );
    assert_eq!(
        app.gql_as(&token, &mv("resumeCampaign"), json!({"i": {"id": id}}))
            .await
            .str("resumeCampaign.campaign.status"),
        "RUNNING"
    );
    let cancelled = app
        .gql_as(&token, &mv("cancelCampaign"), json!({"i": {"id": id}}))
        .await;
    assert_eq!(cancelled.str("cancelCampaign.campaign.status"), "CANCELLED");
    assert!(cancelled
        .data("cancelCampaign.campaign.completedAt")
        .is_string());
    assert_eq!(
        app.gql_as(&token, &mv("resumeCampaign"), json!({"i": {"id": id}}))
            .await
            .code(),
        "CONFLICT"
    );
    let delete = app
        .gql_as(
            &token,
            "mutation($i: DeleteCampaignInput!) { deleteCampaign(input: $i) { deletedId } }",
            json!({"i": {"id": id}}),
        )
        .await;
    assert_eq!(delete.code(), "CONFLICT", "only drafts can be deleted");
}

#[tokio::test]
async fn bad_settings_get_field_errors() {
    let app = TestApp::new().await;
    let (_, _, token, _) = app.user().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (_, _, someone_elses_did) = app.user_with_number(&admin, &carrier).await;
    let cases = [
        (json!({"message": {"text": ""}}), "message"),
        (
            json!({"message": {"text": "hi", "audioUrl": "https://x/a.mp3"}}),
            "message",
        ),
        (
            json!({"schedule": {"timeZone": "Mars/Olympus"}}),
            "schedule.timeZone",
        ),
        (
            json!({"schedule": {"dailyStart": "25:00", "dailyEnd": "26:00"}}),
            "schedule.dailyStart",
        ),
        (
            json!({"pacing": {"callsPerSecond": 0}}),
            "pacing.callsPerSecond",
        ),
        (json!({"retry": {"maxAttempts": 50}}), "retry.maxAttempts"),
        (
            json!({"menu": {"options": [{"digit": "1", "action": "TRANSFER"}]}}),
            "menu.options",
        ),
        (json!({"name": ""}), "name"),
        (json!({"defaultCountry": "XX"}), "defaultCountry"),
    ];
    for (extra, field) in cases {
        let r = app
            .gql_as(&token, CREATE, json!({"i": campaign(extra.clone())}))
            .await;
        assert_eq!(
            (r.code(), r.field()),
            ("BAD_USER_INPUT", field),
            "{extra}: {}",
            r.body
        );
    }
    // Another user's number is not a typo but a permission: FORBIDDEN, naming the field.
    let r = app
        .gql_as(
            &token,
            CREATE,
            json!({"i": campaign(json!({"callerIds": [someone_elses_did]}))}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    assert!(r.message().starts_with("callerIds:"), "{}", r.body);
}

#[tokio::test]
async fn users_cannot_see_or_touch_each_others_campaigns() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (_, _, alice, _) = app.user().await;
    let (_, _, bob, _) = app.user().await;
    let id = app
        .gql_as(&alice, CREATE, json!({"i": campaign(json!({}))}))
        .await
        .str("createCampaign.campaign.id");

    assert_eq!(
        app.gql_as(
            &bob,
            "query($id: ID!) { campaign(id: $id) { id } }",
            json!({"id": id})
        )
        .await
        .code(),
        "NOT_FOUND"
    );
    assert_eq!(
        app.gql_as(&bob, PREFLIGHT, json!({"id": id})).await.code(),
        "NOT_FOUND"
    );
    assert_eq!(
        app.gql_as(
            &bob,
            "query($id: ID!) { contacts(campaignId: $id) { edges { cursor } } }",
            json!({"id": id})
        )
        .await
        .code(),
        "NOT_FOUND"
    );
    assert_eq!(
        app.gql_as(
            &bob,
            ADD,
            json!({"i": {"campaignId": id, "contacts": [{"phone": "0912345678"}]}})
        )
        .await
        .code(),
        "NOT_FOUND"
    );
    for mutation in [
        "startCampaign",
        "pauseCampaign",
        "cancelCampaign",
        "deleteCampaign",
    ] {
        let ty = input_type(mutation);
        let q = format!("mutation($i: {ty}!) {{ {mutation}(input: $i) {{ __typename }} }}");
        assert_eq!(
            app.gql_as(&bob, &q, json!({"i": {"id": id}})).await.code(),
            "NOT_FOUND",
            "{mutation}"
        );
    }
    let update =
        "mutation($i: UpdateCampaignInput!) { updateCampaign(input: $i) { campaign { id } } }";
    assert_eq!(
        app.gql_as(&bob, update, json!({"i": {"id": id, "name": "mine now"}}))
            .await
            .code(),
        "NOT_FOUND"
    );
    // Nor can Bob listen in on Alice's campaign.
    let mut socket = app.ws_as(&bob).await;
    for (n, field) in ["callUpdated", "campaignProgress"].iter().enumerate() {
        let selection = if *field == "callUpdated" {
            "id"
        } else {
            "campaignId"
        };
        socket
            .subscribe(
                &n.to_string(),
                &format!("subscription {{ {field}(campaignId: \"{id}\") {{ {selection} }} }}"),
            )
            .await;
        let refused = socket.next_payload(Duration::from_secs(10)).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{field}: {refused}"
        );
        assert_eq!(
            socket.next_message(Duration::from_secs(10)).await["type"],
            "complete"
        );
    }
    let bobs = app
        .gql_as(&bob, "{ campaigns { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(bobs.data("campaigns.edges").as_array().unwrap().len(), 0);
    let all = app
        .gql_as(&admin, "{ campaigns { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(
        all.data("campaigns.edges").as_array().unwrap().len(),
        1,
        "admins see every campaign"
    );
    assert_eq!(
        app.gql(CREATE, json!({"i": campaign(json!({}))}))
            .await
            .code(),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn contacts_are_imported_from_a_csv_upload_in_batches() {
    let app = TestApp::new().await;
    let (_, _, token, _) = app.user().await;
    let id = app
        .gql_as(&token, CREATE, json!({"i": campaign(json!({}))}))
        .await
        .str("createCampaign.campaign.id");
    let mut csv = String::from(
        "SDT,Ten,time\n0912345678,An,9:00\n+84 912 345 678,An again,10:00\nhello,Bad,\n",
    );
    // Enough rows for several insert batches.
    for i in 0..2500 {
        csv.push_str(&format!("09{:08},Khach {i},{i}\n", 10_000_000 + i));
    }
    // Characters COPY's text format must escape.
    csv.push_str("0987654321,\"Tab\there\\n\",\"C:\\new\\table\r\nline\"\n");
    csv.push_str("\u{0}\u{1}garbage,\u{7f},x\n");
    let report = imports::run(&app, &token, &id, csv.as_bytes()).await;
    assert_eq!(report["status"], "COMPLETED", "{report}");
    assert_eq!(report["rowsRead"], 2505);
    assert_eq!(report["rowsImported"], 2502);
    assert_eq!(report["duplicates"], 1);
    assert_eq!(report["invalid"], 2);
    assert_eq!(imports::errors(&report)[0]["row"], 3);
    let first = app
        .gql_as(&token, "query($id: ID!) { contacts(campaignId: $id, first: 1) { edges { node { phone name vars } } } }", json!({"id": id}))
        .await;
    assert_eq!(first.data("contacts.edges")[0]["node"]["name"], "An");
    assert_eq!(
        first.data("contacts.edges")[0]["node"]["vars"]["time"],
        "9:00"
    );
    let escaped = app
        .count(&format!("campaign_contacts WHERE campaign_id = '{id}' AND phone = '+84987654321' AND name = E'Tab\\there\\\\n' AND vars->>'time' = E'C:\\\\new\\\\table\\r\\nline'"))
        .await;
    assert_eq!(
        escaped, 1,
        "tabs, backslashes and line breaks survive the COPY"
    );

    // A file without a phone column: the import FAILED, saying why.
    let failed = imports::run(&app, &token, &id, b"name,email\nAn,a@b.c\n").await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert!(
        failed["failureReason"]
            .as_str()
            .unwrap()
            .contains("phone column"),
        "{failed}"
    );
    let (_, _, stranger, _) = app.user().await;
    let r = imports::upload(&app, &stranger, &id, csv.as_bytes()).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "NOT_FOUND");
}
