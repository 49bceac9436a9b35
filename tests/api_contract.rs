//! What the front-end contract adds, tried as the front end and as a hostile tenant would:
//! money beyond 32 bits, counted lists, `node(id:)`, object edges, `updateMe`, `voices`,
//! `cloneCampaign`, password reset links and `topUpUpdated`.

use std::time::Duration;

use serde_json::json;

use crate::helpers::carrier::Carrier;
use crate::helpers::{campaign, TestApp};

#[tokio::test]
async fn money_beyond_32_bits_travels_exactly_and_nonsense_is_refused() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (_, _, token, user) = app.user().await;
    let adjust = "mutation($i: AdjustBalanceInput!) { adjustBalance(input: $i) { entry { amount postedAfter } } }";
    let big = 3_000_000_000_i64;
    let r = app
        .gql_as(
            &admin,
            adjust,
            json!({"i": {"userId": user, "amount": big, "reason": "big"}}),
        )
        .await;
    assert_eq!(r.data("adjustBalance.entry.amount"), big, "{:?}", r.body);
    let balance = app
        .gql_as(&token, "{ me { balance { posted } } }", json!({}))
        .await;
    assert!(balance
        .data("me.balance.posted")
        .as_i64()
        .is_some_and(|b| b > big));
    for bad in [json!(9_007_199_254_740_992_i64), json!(1.5), json!("1000")] {
        let r = app
            .gql_as(
                &admin,
                adjust,
                json!({"i": {"userId": user, "amount": bad, "reason": "x"}}),
            )
            .await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{bad}: {:?}", r.body);
    }
}

#[tokio::test]
async fn lists_count_what_their_filter_matches_and_only_what_the_viewer_may_see() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let contacts = (0..3)
        .zip(["Lan", "Lâm", "Minh"])
        .map(|(i, name)| json!({"phone": format!("+8490123450{i}"), "name": name}))
        .collect();
    let id = campaign::create(&app, &token, &did, contacts, json!({})).await;
    campaign::create(&app, &token, &did, vec![], json!({"name": "Another"})).await;
    let (other, _, other_did) = app.user_with_number(&admin, &carrier).await;
    campaign::create(&app, &other, &other_did, vec![], json!({})).await;

    let r = app
        .gql_as(
            &token,
            "query($c: ID!) { campaigns(first: 1) { totalCount edges { node { id } } }
               named: campaigns(filter: {search: \"Another\"}) { totalCount }
               contacts(campaignId: $c, first: 1) { totalCount }
               pending: contacts(campaignId: $c, filter: {states: [PENDING, DONE, PENDING]}) { totalCount }
               done: contacts(campaignId: $c, filter: {states: [DONE]}) { totalCount }
               by_name: contacts(campaignId: $c, filter: {search: \"l\"}) { totalCount nodes { name } }
               phone: contacts(campaignId: $c, filter: {search: \"090 123 4502\"}) { totalCount nodes { name } }
               none: contacts(campaignId: $c, filter: {search: \"%\", states: [PENDING]}) { totalCount nodes { name } }
               drafts: campaigns(filter: {statuses: [DRAFT, RUNNING]}) { totalCount }
               running: campaigns(filter: {statuses: [RUNNING]}) { totalCount }
               calls { totalCount } topUps { totalCount } myDids { totalCount } }",
            json!({"c": id}),
        )
        .await;
    assert_eq!(r.data("campaigns.totalCount"), 2, "{:?}", r.body);
    assert_eq!(r.data("campaigns.edges").as_array().map(Vec::len), Some(1));
    assert_eq!(r.data("named.totalCount"), 1);
    assert_eq!(r.data("contacts.totalCount"), 3);
    assert_eq!(r.data("pending.totalCount"), 3);
    assert_eq!(r.data("done.totalCount"), 0);
    // A name is searched by its start in any case; a number exactly, in any format.
    assert_eq!(r.data("by_name.totalCount"), 2);
    assert_eq!(
        r.data("by_name.nodes"),
        &json!([{"name": "Lan"}, {"name": "Lâm"}])
    );
    assert_eq!(r.data("phone.nodes"), &json!([{"name": "Minh"}]));
    assert_eq!(
        r.data("none.totalCount"),
        0,
        "a LIKE wildcard is literal text"
    );
    assert_eq!(r.data("drafts.totalCount"), 2);
    assert_eq!(r.data("running.totalCount"), 0);
    assert_eq!(r.data("calls.totalCount"), 0);
    assert_eq!(r.data("myDids.totalCount"), 1);
    let all = app
        .gql_as(
            &admin,
            "{ campaigns { totalCount } users { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(all.data("campaigns.totalCount"), 3, "{:?}", all.body);
    // A call filter's number is read like any number a user types, or refused clearly.
    let national = app
        .gql_as(
            &token,
            "{ calls(filter: {to: \"0901 234 500\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(national.data("calls.totalCount"), 0, "{:?}", national.body);
    let nonsense = app
        .gql_as(
            &token,
            "{ calls(filter: {from: \"abc\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (nonsense.code(), nonsense.field()),
        ("BAD_USER_INPUT", "from")
    );
    // Someone else's campaign is not counted into, it is NOT_FOUND.
    let theirs = app
        .gql_as(
            &other,
            "query($c: ID!) { contacts(campaignId: $c) { totalCount } }",
            json!({"c": id}),
        )
        .await;
    assert_eq!(theirs.code(), "NOT_FOUND");
}

#[tokio::test]
async fn node_refetches_what_the_viewer_may_see_and_nothing_else() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    let (token, user, did) = app.user_with_number(&admin, &carrier).await;
    let (other, other_user, _) = app.user_with_number(&admin, &carrier).await;
    let id = campaign::create(&app, &token, &did, vec![], json!({})).await;
    let node = "query($id: ID!) { node(id: $id) { __typename id ... on Campaign { name owner { id } } ... on Did { phoneNumber assignedUser { id } } ... on User { email } } }";

    let mine = app.gql_as(&token, node, json!({"id": id})).await;
    assert_eq!(mine.data("node.__typename"), "Campaign", "{:?}", mine.body);
    assert_eq!(mine.data("node.id"), id.as_str());
    assert_eq!(mine.data("node.owner.id"), user.as_str());
    let number = app.gql_as(&token, node, json!({"id": did})).await;
    assert_eq!(number.data("node.__typename"), "Did", "{:?}", number.body);
    assert_eq!(number.data("node.assignedUser.id"), user.as_str());
    assert_eq!(
        app.gql_as(&token, node, json!({"id": user}))
            .await
            .data("node.__typename"),
        "User"
    );
    // Another tenant's campaign, number or account is NOT_FOUND, like an id of nothing.
    for theirs in [&id, &did, &user] {
        assert_eq!(
            app.gql_as(&other, node, json!({"id": theirs})).await.code(),
            "NOT_FOUND"
        );
    }
    let nothing = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        app.gql_as(&token, node, json!({"id": nothing}))
            .await
            .code(),
        "NOT_FOUND"
    );
    assert_eq!(
        app.gql_as(&token, node, json!({"id": "x"})).await.code(),
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.gql(node, json!({"id": id})).await.code(),
        "UNAUTHENTICATED"
    );
    let by_admin = app.gql_as(&admin, node, json!({"id": other_user})).await;
    assert_eq!(by_admin.data("node.__typename"), "User");
}

#[tokio::test]
async fn update_me_changes_only_the_callers_own_name() {
    let app = TestApp::new().await;
    let (_, _, token, user) = app.user().await;
    let update = "mutation($i: UpdateMeInput!) { updateMe(input: $i) { user { id name role } } }";
    let r = app
        .gql_as(&token, update, json!({"i": {"name": "  Lan  "}}))
        .await;
    assert_eq!(r.data("updateMe.user.name"), "Lan", "{:?}", r.body);
    assert_eq!(r.data("updateMe.user.id"), user.as_str());
    assert_eq!(r.data("updateMe.user.role"), "USER");
    let kept = app.gql_as(&token, update, json!({"i": {}})).await;
    assert_eq!(kept.data("updateMe.user.name"), "Lan");
    let long = "x".repeat(101);
    let bad = app
        .gql_as(&token, update, json!({"i": {"name": long}}))
        .await;
    assert_eq!((bad.code(), bad.field()), ("BAD_USER_INPUT", "name"));
    let role = app
        .gql_as(&token, update, json!({"i": {"role": "ADMIN"}}))
        .await;
    assert!(
        !role.body["errors"].is_null(),
        "role is not a field of updateMe"
    );
    assert_eq!(
        app.gql(update, json!({"i": {"name": "x"}})).await.code(),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn voices_list_what_a_message_may_use_and_a_mismatch_is_refused() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let r = app
        .gql_as(
            &token,
            "{ voices(language: \"vi-VN\") { name language gender } }",
            json!({}),
        )
        .await;
    let voices = r.data("voices").as_array().cloned().unwrap_or_default();
    assert!(voices.len() >= 4, "{:?}", r.body);
    assert!(voices.iter().all(|v| v["language"] == "vi-VN"));
    assert!(voices.iter().any(|v| v["gender"] == "MALE"));
    let input = json!({"name": "x", "purpose": "REMINDER", "callerIds": [did],
        "consent": {"basis": "EXISTING_CUSTOMER", "source": "contract", "collectedAt": "2026-01-01T00:00:00Z"},
        "message": {"text": "Xin chào", "voice": "Google.vi-VN-Wavenet-A", "language": "en-US"}});
    let r = app
        .gql_as(
            &token,
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
            json!({"i": input}),
        )
        .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "message.voice"));
}

#[tokio::test]
async fn clone_campaign_copies_settings_into_a_draft_for_its_owner_only() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let (other, _, _) = app.user_with_number(&admin, &carrier).await;
    let contacts = vec![json!({"phone": "+84901234500"})];
    let id = campaign::create(&app, &token, &did, contacts, json!({})).await;
    let clone = "mutation($i: CloneCampaignInput!) { cloneCampaign(input: $i) { campaign { id name status callerIds message { text } contactCounts { total } } } }";
    let r = app
        .gql_as(&token, clone, json!({"i": {"id": id, "name": "Lần 2"}}))
        .await;
    assert_eq!(
        r.data("cloneCampaign.campaign.name"),
        "Lần 2",
        "{:?}",
        r.body
    );
    assert_eq!(r.data("cloneCampaign.campaign.status"), "DRAFT");
    assert_eq!(r.data("cloneCampaign.campaign.callerIds"), &json!([did]));
    assert_eq!(r.data("cloneCampaign.campaign.contactCounts.total"), 0);
    assert_ne!(r.data("cloneCampaign.campaign.id"), id.as_str());
    let text = "Chào {{name}}, lịch hẹn của bạn lúc {{time}}.";
    assert_eq!(r.data("cloneCampaign.campaign.message.text"), text);
    let theirs = app
        .gql_as(&other, clone, json!({"i": {"id": id, "name": "mine now"}}))
        .await;
    assert_eq!(theirs.code(), "NOT_FOUND");
    let by_admin = app
        .gql_as(&admin, clone, json!({"i": {"id": id, "name": "admin"}}))
        .await;
    assert_eq!(by_admin.code(), "FORBIDDEN");
    let unnamed = app
        .gql_as(&token, clone, json!({"i": {"id": id, "name": " "}}))
        .await;
    assert_eq!(
        (unnamed.code(), unnamed.field()),
        ("BAD_USER_INPUT", "name")
    );
}

#[tokio::test]
async fn a_reset_link_sets_a_password_once_and_ends_the_old_sessions() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (email, password, token, user) = app.user().await;
    let (_, old_refresh) = app.tokens(&email, &password).await;
    let issue = "mutation($i: IssuePasswordResetInput!) { issuePasswordReset(input: $i) { token resetUrl expiresAt } }";
    let refused = app
        .gql_as(&token, issue, json!({"i": {"userId": user}}))
        .await;
    assert_eq!(refused.code(), "FORBIDDEN");
    let first = app
        .gql_as(&admin, issue, json!({"i": {"userId": user}}))
        .await
        .str("issuePasswordReset.token");
    let issued = app
        .gql_as(&admin, issue, json!({"i": {"userId": user}}))
        .await;
    let link = issued.str("issuePasswordReset.token");
    assert!(issued.str("issuePasswordReset.resetUrl").ends_with(&link));

    let reset = "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { accessToken user { id } } }";
    let new_password = "another good password";
    // The earlier link was replaced by the newer one.
    let stale = app
        .gql(
            reset,
            json!({"i": {"token": first, "newPassword": new_password}}),
        )
        .await;
    assert_eq!((stale.code(), stale.field()), ("BAD_USER_INPUT", "token"));
    let short = app
        .gql(reset, json!({"i": {"token": link, "newPassword": "short"}}))
        .await;
    assert_eq!(short.code(), "BAD_USER_INPUT");
    let done = app
        .gql(
            reset,
            json!({"i": {"token": link, "newPassword": new_password}}),
        )
        .await;
    assert_eq!(
        done.data("resetPassword.user.id"),
        user.as_str(),
        "{:?}",
        done.body
    );
    let again = app
        .gql(
            reset,
            json!({"i": {"token": link, "newPassword": "yet another password"}}),
        )
        .await;
    assert_eq!((again.code(), again.field()), ("BAD_USER_INPUT", "token"));

    assert_eq!(app.login(&email, &password).await.code(), "UNAUTHENTICATED");
    app.login(&email, new_password).await.assert_ok();
    let refresh = app
        .gql(
            "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken } }",
            json!({"i": {"refreshToken": old_refresh}}),
        )
        .await;
    assert_eq!(refresh.code(), "UNAUTHENTICATED");
    assert_eq!(
        app.gql_as(&token, "{ me { id } }", json!({})).await.code(),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn top_up_updated_pushes_the_current_state_then_each_change() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (_, _, token, _) = app.user().await;
    let (_, _, other, _) = app.user().await;
    let created = app
        .gql_as(&token, "mutation { createTopUp(input: {method: BANK_TRANSFER, amount: 50000}) { topUp { id } } }", json!({}))
        .await;
    let id = created.str("createTopUp.topUp.id");
    let sub = format!("subscription {{ topUpUpdated(id: \"{id}\") {{ id status amount }} }}");
    let mut socket = app.subscribe_as(&token, &sub).await;
    let first = socket.next_payload(Duration::from_secs(10)).await;
    assert_eq!(
        first["data"]["topUpUpdated"]["status"], "PENDING",
        "{first}"
    );
    app.gql_as(
        &admin,
        "mutation($i: ConfirmTopUpInput!) { confirmTopUp(input: $i) { topUp { status } } }",
        json!({"i": {"id": id}}),
    )
    .await
    .assert_ok();
    let paid = socket
        .payload_where(Duration::from_secs(10), |p| {
            p["data"]["topUpUpdated"]["status"] == "SUCCEEDED"
        })
        .await;
    assert_eq!(paid["data"]["topUpUpdated"]["amount"], 50000);

    let mut theirs = app.ws_as(&other).await;
    theirs.subscribe("1", &sub).await;
    let refused = theirs.next_message(Duration::from_secs(10)).await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
}

#[tokio::test]
async fn admin_lists_filter_by_status_actor_action_and_target() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (_, _, token, user) = app.user().await;
    for _ in 0..2 {
        app.gql_as(
            &token,
            "mutation { createTopUp(input: {method: BANK_TRANSFER, amount: 50000}) { topUp { id } } }",
            json!({}),
        )
        .await
        .assert_ok();
    }
    let r = app
        .gql_as(
            &admin,
            "query($u: ID!) { mine: allTopUps(filter: {userId: $u}) { totalCount }
               pending: allTopUps(filter: {userId: $u, statuses: [PENDING, FAILED]}) { totalCount }
               paid: allTopUps(filter: {userId: $u, statuses: [SUCCEEDED]}) { totalCount }
               credits: auditLog(filter: {targetType: \"user\", targetId: $u}) { totalCount nodes { action } }
               none: auditLog(filter: {action: \"no.such.action\"}) { totalCount } }",
            json!({"u": user}),
        )
        .await;
    assert_eq!(r.data("mine.totalCount"), 2, "{:?}", r.body);
    assert_eq!(r.data("pending.totalCount"), 2);
    assert_eq!(r.data("paid.totalCount"), 0);
    assert!(
        r.data("credits.totalCount")
            .as_i64()
            .is_some_and(|n| n >= 1),
        "{:?}",
        r.body
    );
    assert_eq!(r.data("none.totalCount"), 0);
    let loose = app
        .gql_as(
            &admin,
            "{ auditLog(filter: {targetId: \"x\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (loose.code(), loose.field()),
        ("BAD_USER_INPUT", "targetId")
    );
}

#[tokio::test]
async fn numbered_rows_are_nodes_with_their_kind_in_the_id() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    let (token, user, did) = app.user_with_number(&admin, &carrier).await;
    let (other, _, _) = app.user_with_number(&admin, &carrier).await;
    let id = campaign::create(
        &app,
        &token,
        &did,
        vec![json!({"phone": "0912000001", "name": "An"})],
        json!({}),
    )
    .await;
    let contact = app
        .gql_as(
            &token,
            "query($id: ID!) { contacts(campaignId: $id) { edges { node { id } } } }",
            json!({"id": id}),
        )
        .await
        .data("contacts.edges")[0]["node"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(contact.starts_with("Contact:"), "{contact}");
    let adjust = "mutation($i: AdjustBalanceInput!) { adjustBalance(input: $i) { entry { id } } }";
    let entry = app
        .gql_as(
            &admin,
            adjust,
            json!({"i": {"userId": user, "amount": 5000, "reason": "gift"}}),
        )
        .await
        .str("adjustBalance.entry.id");
    assert!(entry.starts_with("LedgerEntry:"), "{entry}");
    let audit = app
        .gql_as(
            &admin,
            "{ auditLog(first: 1) { edges { node { id action } } } }",
            json!({}),
        )
        .await
        .data("auditLog.edges")[0]["node"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(audit.starts_with("AuditEntry:"), "{audit}");

    let node = "query($id: ID!) { node(id: $id) { __typename id ... on Contact { phone } ... on LedgerEntry { amount } ... on AuditEntry { action } } }";
    let seen = app.gql_as(&token, node, json!({"id": contact})).await;
    assert_eq!(seen.data("node.__typename"), "Contact", "{:?}", seen.body);
    assert_eq!(seen.data("node.phone"), "+84912000001");
    let seen = app.gql_as(&token, node, json!({"id": entry})).await;
    assert_eq!(
        seen.data("node.__typename"),
        "LedgerEntry",
        "{:?}",
        seen.body
    );
    assert_eq!(seen.data("node.amount"), 5000);
    let seen = app.gql_as(&admin, node, json!({"id": audit})).await;
    assert_eq!(
        seen.data("node.__typename"),
        "AuditEntry",
        "{:?}",
        seen.body
    );
    assert_eq!(
        app.gql_as(&admin, node, json!({"id": contact}))
            .await
            .data("node.id"),
        contact.as_str()
    );

    // Another tenant's contact or entry, a user asking for the audit trail, a number that
    // names nothing and an unknown kind: all NOT_FOUND, like any id of nothing.
    for (who, id) in [
        (&other, contact.as_str()),
        (&other, entry.as_str()),
        (&token, audit.as_str()),
        (&token, "Contact:999999999"),
        (&token, "Campaign:1"),
    ] {
        assert_eq!(
            app.gql_as(who, node, json!({"id": id})).await.code(),
            "NOT_FOUND",
            "{id}"
        );
    }
    assert_eq!(
        app.gql_as(&token, node, json!({"id": "Contact:x"}))
            .await
            .code(),
        "BAD_USER_INPUT"
    );
}
