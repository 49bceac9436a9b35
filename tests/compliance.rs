//! Do-not-call lists: per user and platform-wide, opt-outs, CSV import, isolation.

use serde_json::{json, Value};

use crate::helpers::{upload, TestApp};

const ADD: &str = "mutation($i: AddDoNotCallInput!) { addDoNotCall(input: $i) { added entry { id phone scope source } } }";
const LIST: &str = "query($f: DoNotCallEntryFilter) { doNotCallEntries(filter: $f) { edges { node { id phone scope } } } }";
const REMOVE: &str =
    "mutation($i: DeleteDoNotCallInput!) { deleteDoNotCall(input: $i) { deletedId } }";

#[tokio::test]
async fn users_keep_their_own_lists_and_only_admins_the_platform_list() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (_, _, alice, _) = app.user().await;
    let (_, _, bob, _) = app.user().await;

    let added = app
        .gql_as(
            &alice,
            ADD,
            json!({"i": {"phone": "0912 345 678", "reason": "asked us"}}),
        )
        .await;
    added.assert_ok();
    assert_eq!(added.str("addDoNotCall.entry.phone"), "+84912345678");
    assert_eq!(added.str("addDoNotCall.entry.scope"), "USER");
    assert_eq!(added.data("addDoNotCall.added"), true);
    let id = added.str("addDoNotCall.entry.id");
    let again = app
        .gql_as(&alice, ADD, json!({"i": {"phone": "+84912345678"}}))
        .await;
    assert_eq!(
        again.data("addDoNotCall.added"),
        false,
        "adding twice is harmless"
    );

    let bad = app
        .gql_as(
            &alice,
            ADD,
            json!({"i": {"phone": "+999999999999999999999"}}),
        )
        .await;
    assert_eq!((bad.code(), bad.field()), ("BAD_USER_INPUT", "phone"));
    let platform = app
        .gql_as(
            &alice,
            ADD,
            json!({"i": {"phone": "0912000111", "scope": "PLATFORM"}}),
        )
        .await;
    assert_eq!(platform.code(), "FORBIDDEN");
    assert_eq!(
        app.gql_as(&alice, LIST, json!({"f": {"scope": "PLATFORM"}}))
            .await
            .code(),
        "FORBIDDEN"
    );

    assert_eq!(
        app.gql_as(&bob, LIST, json!({}))
            .await
            .data("doNotCallEntries.edges")
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.gql_as(&bob, REMOVE, json!({"i": {"id": id}}))
            .await
            .code(),
        "NOT_FOUND"
    );

    let platform = app
        .gql_as(
            &admin,
            ADD,
            json!({"i": {"phone": "0912000111", "scope": "PLATFORM"}}),
        )
        .await;
    assert_eq!(platform.str("addDoNotCall.entry.scope"), "PLATFORM");
    let all = app.gql_as(&admin, LIST, json!({})).await;
    assert_eq!(
        all.data("doNotCallEntries.edges").as_array().unwrap().len(),
        2
    );
    let alices = app.gql_as(&alice, LIST, json!({})).await;
    assert_eq!(
        alices
            .data("doNotCallEntries.edges")
            .as_array()
            .unwrap()
            .len(),
        1,
        "the platform list is not shown to users"
    );

    app.gql_as(&alice, REMOVE, json!({"i": {"id": id}}))
        .await
        .assert_ok();
    assert_eq!(
        app.gql_as(&alice, LIST, json!({}))
            .await
            .data("doNotCallEntries.edges")
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn an_opt_out_can_be_lifted_only_by_an_admin() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (_, _, alice, alice_id) = app.user().await;
    let mut conn = app.state.db.get().await.unwrap();
    ringcast::compliance::service::opt_out(
        &mut conn,
        alice_id.parse().unwrap(),
        &ringcast::phone::parse("+84912345678", "VN").unwrap().e164,
        "pressed 9",
    )
    .await
    .ok()
    .unwrap();
    let (platform, own) =
        ringcast::compliance::service::blocks(&mut conn, alice_id.parse().unwrap(), "+84912345678")
            .await
            .ok()
            .unwrap();
    assert!(!platform && own);
    drop(conn);
    let entry = app
        .gql_as(
            &alice,
            "{ doNotCallEntries { edges { node { id source } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        entry.data("doNotCallEntries.edges")[0]["node"]["source"],
        "OPT_OUT"
    );
    let id = entry.data("doNotCallEntries.edges")[0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.gql_as(&alice, REMOVE, json!({"i": {"id": id}}))
            .await
            .code(),
        "FORBIDDEN"
    );
    app.gql_as(&admin, REMOVE, json!({"i": {"id": id}}))
        .await
        .assert_ok();
}

#[tokio::test]
async fn admins_import_a_csv_into_the_platform_list() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (_, _, user, _) = app.user().await;
    let import = "mutation($i: ImportDoNotCallInput!) { importDoNotCall(input: $i) { added duplicates invalid { row value reason } } }";
    let csv = b"ten,sdt\nAn,0912345678\nBinh,0912345678\nChi,hello\nDung,+14155552671\n\x00\xff\xfe,\x01\n";
    let (_, body) = app
        .send(upload(
            import,
            json!({"i": {"file": null}}),
            "variables.i.file",
            csv,
            &admin,
        ))
        .await;
    let r: Value = serde_json::from_slice(&body).unwrap();
    assert!(r.get("errors").is_none(), "{r}");
    assert_eq!(r["data"]["importDoNotCall"]["added"], 2);
    assert_eq!(
        r["data"]["importDoNotCall"]["duplicates"], 0,
        "duplicates inside the file are folded before insert"
    );
    let rows: Vec<i64> = r["data"]["importDoNotCall"]["invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["row"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, vec![4, 6]);
    let (_, body) = app
        .send(upload(
            import,
            json!({"i": {"file": null}}),
            "variables.i.file",
            csv,
            &admin,
        ))
        .await;
    let r: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (
            r["data"]["importDoNotCall"]["added"].as_i64(),
            r["data"]["importDoNotCall"]["duplicates"].as_i64()
        ),
        (Some(0), Some(2))
    );
    let (_, body) = app
        .send(upload(
            import,
            json!({"i": {"file": null}}),
            "variables.i.file",
            csv,
            &user,
        ))
        .await;
    let r: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn admins_set_the_platform_caps_and_users_may_only_tighten_their_own() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (_, _, alice, alice_id) = app.user().await;
    let (_, _, bob, _) = app.user().await;
    const SET_PLATFORM: &str = "mutation($i: SetPlatformCallingCapsInput!) { setPlatformCallingCaps(input: $i) { caps { maxPer24h minGapMinutes } } }";
    const SET_OWN: &str = "mutation($i: SetUserCallingCapsInput!) { setUserCallingCaps(input: $i) { caps { userId own { maxPer24h minGapMinutes } platform { maxPer24h } } } }";

    let defaults = app
        .gql_as(
            &alice,
            "{ platformCallingCaps { maxPer24h minGapMinutes } }",
            json!({}),
        )
        .await;
    defaults.assert_ok();
    assert_eq!(
        defaults.data("platformCallingCaps"),
        &json!({"maxPer24h": 2, "minGapMinutes": 60})
    );
    let refused = app
        .gql_as(
            &alice,
            SET_PLATFORM,
            json!({"i": {"maxPer24h": 5, "minGapMinutes": 0}}),
        )
        .await;
    assert_eq!(refused.code(), "FORBIDDEN");
    let absurd = app
        .gql_as(
            &admin,
            SET_PLATFORM,
            json!({"i": {"maxPer24h": 0, "minGapMinutes": 60}}),
        )
        .await;
    assert_eq!(
        (absurd.code(), absurd.field()),
        ("BAD_USER_INPUT", "maxPer24h")
    );
    app.gql_as(
        &admin,
        SET_PLATFORM,
        json!({"i": {"maxPer24h": 3, "minGapMinutes": 30}}),
    )
    .await
    .assert_ok();

    let looser = app
        .gql_as(
            &alice,
            SET_OWN,
            json!({"i": {"caps": {"maxPer24h": 4, "minGapMinutes": 60}}}),
        )
        .await;
    assert_eq!(
        (looser.code(), looser.field()),
        ("BAD_USER_INPUT", "maxPer24h")
    );
    let shorter_gap = app
        .gql_as(
            &alice,
            SET_OWN,
            json!({"i": {"caps": {"maxPer24h": 1, "minGapMinutes": 10}}}),
        )
        .await;
    assert_eq!(shorter_gap.field(), "minGapMinutes");
    let own = app
        .gql_as(
            &alice,
            SET_OWN,
            json!({"i": {"caps": {"maxPer24h": 1, "minGapMinutes": 120}}}),
        )
        .await;
    assert_eq!(
        own.data("setUserCallingCaps.caps.own"),
        &json!({"maxPer24h": 1, "minGapMinutes": 120})
    );
    assert_eq!(own.data("setUserCallingCaps.caps.platform.maxPer24h"), 3);

    // Nobody else reads or changes them, except an admin.
    let peek = app
        .gql_as(
            &bob,
            "query($u: ID) { userCallingCaps(userId: $u) { own { maxPer24h } } }",
            json!({"u": alice_id}),
        )
        .await;
    assert_eq!(peek.code(), "NOT_FOUND");
    let meddle = app
        .gql_as(
            &bob,
            SET_OWN,
            json!({"i": {"userId": alice_id, "caps": null}}),
        )
        .await;
    assert_eq!(meddle.code(), "NOT_FOUND");
    let seen = app
        .gql_as(
            &admin,
            "query($u: ID) { userCallingCaps(userId: $u) { own { maxPer24h } } }",
            json!({"u": alice_id}),
        )
        .await;
    assert_eq!(seen.data("userCallingCaps.own.maxPer24h"), 1);
    let cleared = app
        .gql_as(
            &admin,
            SET_OWN,
            json!({"i": {"userId": alice_id, "caps": null}}),
        )
        .await;
    assert!(
        cleared.data("setUserCallingCaps.caps.own").is_null(),
        "{:?}",
        cleared.data("setUserCallingCaps.caps")
    );
}
