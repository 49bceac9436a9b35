//! Campaign counters against a recount after the writes that change what they count: imports,
//! `addContacts`, multi-row changes of states and skip reasons, calls and charges written
//! outside the application, and deletion. (The 2,000-call chaos campaign and the killed
//! dispatcher in `faults` check them after real campaigns.)

use serde_json::json;

use crate::helpers::counters::assert_counters_match_recount;
use crate::helpers::TestApp;

const CREATE: &str =
    "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }";

async fn campaign(app: &TestApp, token: &str, name: &str) -> String {
    app.gql_as(
        token,
        CREATE,
        json!({"i": {"name": name, "purpose": "REMINDER", "message": {"text": "hi"}}}),
    )
    .await
    .str("createCampaign.campaign.id")
}

#[tokio::test]
async fn counters_equal_a_recount_after_imports_additions_bulk_changes_and_deletion() {
    let app = TestApp::new().await;
    let (_, _, token, _) = app.user().await;
    let kept = campaign(&app, &token, "kept").await;
    let deleted = campaign(&app, &token, "deleted").await;
    for id in [&kept, &deleted] {
        let file = b"phone,name\n0912000101,A\n0912000102,B\n0912000102,B again\nnot a number,C\n";
        let import = crate::helpers::imports::run(&app, &token, id, file).await;
        assert_eq!(import["rowsImported"], 2, "{import}");
    }
    app.gql_as(
        &token,
        "mutation($i: AddContactsInput!) { addContacts(input: $i) { added } }",
        json!({"i": {"campaignId": kept, "contacts": [
            {"phone": "0912000103"}, {"phone": "0912000104"}, {"phone": "0912000101"}
        ]}}),
    )
    .await
    .assert_ok();
    assert_counters_match_recount(&app).await;

    // Multi-row statements moving contacts between states and reasons, a call and a charge:
    // every path into these tables is counted, not only the application's.
    // Both campaigns in one statement.
    app.execute_sql(
        "UPDATE campaign_contacts SET state = 'SKIPPED', skip_reason = 'DO_NOT_CALL'
         WHERE phone LIKE '%101' OR phone LIKE '%102'",
    )
    .await;
    app.execute_sql(&format!(
        "UPDATE campaign_contacts SET skip_reason = 'QUIET_HOURS'
         WHERE campaign_id = '{kept}' AND state = 'PENDING' AND phone LIKE '%103'"
    ))
    .await;
    app.execute_sql(&format!(
        "UPDATE campaign_contacts SET state = 'OPTED_OUT', skip_reason = NULL
         WHERE campaign_id = '{kept}' AND phone LIKE '%101'"
    ))
    .await;
    assert_counters_match_recount(&app).await;
    let stats = app
        .gql_as(
            &token,
            "query($id: ID!) { campaign(id: $id) { contactCounts { total pending optedOut skipped } } }",
            json!({"id": kept}),
        )
        .await
        .data("campaign")
        .clone();
    assert_eq!(
        stats["contactCounts"],
        json!({"total": 4, "pending": 2, "optedOut": 1, "skipped": 1}),
        "{stats}"
    );

    app.execute_sql(&format!(
        "DELETE FROM campaign_contacts WHERE campaign_id = '{kept}' AND phone LIKE '%104'"
    ))
    .await;
    app.gql_as(
        &token,
        "mutation($i: DeleteCampaignInput!) { deleteCampaign(input: $i) { deletedId } }",
        json!({"i": {"id": deleted}}),
    )
    .await
    .assert_ok();
    assert_counters_match_recount(&app).await;
}
