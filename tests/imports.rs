//! `importContacts` against hostile and foreign files: a header of 50,000 columns, NUL bytes,
//! UTF-16 with a byte-order mark, a legacy code page, and thirty imports at once against a
//! small pool; and NUL in a campaign's spoken text. Imports run in the background
//! (`background`): the answer before the file is read, the refused rows paged, cancelling,
//! other tenants, the campaign held until its imports end, a job run twice, the live progress.

mod background;

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::imports::{self, errors};
use crate::helpers::TestApp;

const CREATE: &str =
    "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }";

async fn campaign(app: &TestApp, token: &str) -> String {
    app.gql_as(
        token,
        CREATE,
        json!({"i": {"name": "import", "purpose": "REMINDER", "message": {"text": "hi"}}}),
    )
    .await
    .str("createCampaign.campaign.id")
}

/// The finished import of `file` into `campaign`.
async fn import(app: &TestApp, token: &str, campaign: &str, file: &[u8]) -> Value {
    imports::run(app, token, campaign, file).await
}

fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

/// (phone, name, vars) of the campaign's contacts, in list order.
async fn contacts(app: &TestApp, token: &str, campaign: &str) -> Vec<(String, String, Value)> {
    let r = app
        .gql_as(
            token,
            "query($c: ID!) { contacts(campaignId: $c, first: 100) { edges { node { phone name vars } } } }",
            json!({"c": campaign}),
        )
        .await;
    r.assert_ok();
    r.data("contacts.edges")
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["phone"].as_str().unwrap().to_owned(),
                n["name"].as_str().unwrap().to_owned(),
                n["vars"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_header_of_fifty_thousand_columns_is_refused_and_oversized_rows_are_bad_rows() {
    let app = TestApp::new().await;
    let (_, _, token, _) = app.user().await;
    let id = campaign(&app, &token).await;

    // The file that grew 350 KB into 187 MB of stored variables.
    let mut wide = String::from("phone");
    for i in 0..50_000 {
        wide.push_str(&format!(",c{i}"));
    }
    wide.push('\n');
    for row in 0..3 {
        wide.push_str(&format!("091234567{row}"));
        wide.push_str(&",x".repeat(50_000));
        wide.push('\n');
    }
    let r = import(&app, &token, &id, wide.as_bytes()).await;
    assert_eq!(r["status"], "FAILED", "{r}");
    let message = r["failureReason"].as_str().unwrap();
    assert!(message.contains("at most 52"), "{message}");
    assert_eq!(app.count("campaign_contacts").await, 0);

    // Within the column limit, a row is held to addContacts' limits on its variables.
    let long = "y".repeat(5000);
    let file = format!("phone,name,note\n0912345671,An,short\n0912345672,Binh,{long}\n");
    let r = import(&app, &token, &id, file.as_bytes()).await;
    assert_eq!(r["rowsImported"], 1, "{r}");
    assert_eq!(r["invalid"], 1, "{r}");
    let invalid = errors(&r);
    assert_eq!(invalid[0]["row"], 2);
    assert!(
        invalid[0]["reason"]
            .as_str()
            .unwrap()
            .contains("4096 bytes"),
        "{r}"
    );
    let added = app
        .gql_as(
            &token,
            "mutation($i: AddContactsInput!) { addContacts(input: $i) { added invalid { reason } } }",
            json!({"i": {"campaignId": id, "contacts": [{"phone": "0912345673", "vars": {"note": long}}]}}),
        )
        .await;
    assert_eq!(
        added.data("addContacts.invalid")[0]["reason"],
        invalid[0]["reason"],
        "the same limit, the same words"
    );
}

#[tokio::test]
async fn nul_bytes_are_bad_rows_and_nul_in_spoken_text_is_bad_input() {
    let app = TestApp::new().await;
    let (_, _, token, _) = app.user().await;
    let id = campaign(&app, &token).await;
    let file = b"phone,name,note\n0912345671,An,ok\n0912345672,Bi\0nh,ok\n0912345673,Chi,n\0te\n0912\x0045674,Dung,ok\n";
    let r = import(&app, &token, &id, file).await;
    assert_eq!(r["status"], "COMPLETED", "{r}");
    assert_eq!(r["rowsRead"], 4);
    assert_eq!(r["rowsImported"], 1, "{r}");
    assert_eq!(r["invalid"], 3, "{r}");
    let invalid = errors(&r);
    let rows: Vec<i64> = invalid.iter().map(|i| i["row"].as_i64().unwrap()).collect();
    assert_eq!(rows, [2, 3, 4]);
    assert!(
        invalid[0]["reason"].as_str().unwrap().contains("NUL"),
        "{r}"
    );
    assert_eq!(contacts(&app, &token, &id).await.len(), 1);

    // A NUL through addContacts' variables is a bad row too, not a failed request.
    let added = app
        .gql_as(
            &token,
            "mutation($i: AddContactsInput!) { addContacts(input: $i) { added invalid { reason } } }",
            json!({"i": {"campaignId": id, "contacts": [{"phone": "0912345675", "vars": {"note": "a\u{0}b"}}]}}),
        )
        .await;
    added.assert_ok();
    assert_eq!(added.data("addContacts.added"), 0);

    for (input, field) in [
        (
            json!({"name": "nul text", "purpose": "REMINDER", "message": {"text": "xin\u{0}chào"}}),
            "message.text",
        ),
        (
            json!({"name": "nul prompt", "purpose": "REMINDER", "message": {"text": "hi"},
                "menu": {"prompt": "nhấn\u{0}1", "options": [{"digit": "1", "action": "HANGUP"}]}}),
            "menu.prompt",
        ),
    ] {
        let r = app.gql_as(&token, CREATE, json!({"i": input})).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
        assert_eq!(r.field(), field, "{}", r.body);
    }
    let r = app
        .gql_as(
            &token,
            "mutation($i: UpdateCampaignInput!) { updateCampaign(input: $i) { campaign { id } } }",
            json!({"i": {"id": id, "message": {"text": "a\u{0}b"}}}),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut bytes = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        let pair = if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        };
        bytes.extend_from_slice(&pair);
    }
    bytes
}

#[tokio::test]
async fn utf16_with_a_byte_order_mark_is_decoded_and_a_utf8_mark_is_skipped() {
    let app = TestApp::new().await;
    let (_, _, token, _) = app.user().await;
    let text = "sdt,tên,địa_chỉ\r\n0912345671,Nguyễn Văn An,Hà Nội\r\n";
    let files = [
        ("UTF-16LE", utf16(text, false)),
        ("UTF-16BE", utf16(text, true)),
        (
            "UTF-8 with BOM",
            [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat(),
        ),
    ];
    for (encoding, file) in files {
        let id = campaign(&app, &token).await;
        let r = import(&app, &token, &id, &file).await;
        assert_eq!(r["status"], "COMPLETED", "{encoding}: {r}");
        assert_eq!(r["rowsImported"], 1, "{encoding}: {r}");
        let stored = contacts(&app, &token, &id).await;
        assert_eq!(stored[0].0, "+84912345671", "{encoding}");
        assert_eq!(stored[0].1, "Nguyễn Văn An", "{encoding}");
        assert_eq!(stored[0].2, json!({"địa_chỉ": "Hà Nội"}), "{encoding}");
    }
}

#[tokio::test]
async fn a_windows_1258_file_is_refused_naming_the_encoding_and_the_line() {
    let app = TestApp::new().await;
    let (_, _, token, _) = app.user().await;
    let id = campaign(&app, &token).await;
    // "Nguyễn Văn Bình" in Windows-1258: base letters with combining tone marks, single bytes.
    let file =
        b"phone,name\n0912345671,An\n0912345672,Nguy\xEA\xDEn V\xE3n B\xECnh\n0912345673,Chi\n";
    let r = import(&app, &token, &id, file).await;
    assert_eq!(r["status"], "FAILED", "{r}");
    let message = r["failureReason"].as_str().unwrap();
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("UTF-8"), "{message}");
    assert_eq!(
        app.count("campaign_contacts").await,
        0,
        "nothing of a refused file is kept"
    );
}

/// Connections to the test database right now, counted from outside it.
async fn connections(db: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(
        &format!("{}/postgres", crate::helpers::postgres_base_url()),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
            &[&db],
        )
        .await
        .unwrap();
    row.get(0)
}

#[tokio::test]
async fn thirty_imports_at_once_stay_within_the_pool() {
    let app = TestApp::new().await;
    // Ten users with three imports each: the most one user may have under way.
    let mut uploads = Vec::new();
    for _ in 0..10 {
        let (_, _, token, _) = app.user().await;
        let id = campaign(&app, &token).await;
        for f in 0..3 {
            let mut csv = String::from("phone,name\n");
            for row in 0..2000 {
                csv.push_str(&format!("09{f:02}{row:06},Khách {row}\n"));
            }
            uploads.push((token.clone(), id.clone(), csv.into_bytes()));
        }
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    let work = async {
        let answers = futures_util::future::join_all(
            uploads
                .iter()
                .map(|(token, id, file)| imports::upload(&app, token, id, file)),
        )
        .await;
        app.drain_jobs().await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        answers
    };
    let sample = async {
        let mut most = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            most = most.max(connections(&app.db.name).await);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        most
    };
    let (answers, most) = tokio::join!(work, sample);
    for (r, (token, _, _)) in answers.iter().zip(&uploads) {
        assert_eq!(
            r["data"]["importContacts"]["import"]["status"], "QUEUED",
            "{r}"
        );
        let id = r["data"]["importContacts"]["import"]["id"]
            .as_str()
            .unwrap();
        let done = imports::get(&app, token, id).await;
        assert_eq!(done["status"], "COMPLETED", "{done}");
        assert_eq!(done["rowsImported"], 2000, "{done}");
    }
    assert_eq!(app.count("campaign_contacts").await, 60_000);
    assert_eq!(
        app.count("import_file_parts").await,
        0,
        "files are dropped when done"
    );
    let pool = app.state.config.database_pool_size as i64;
    assert!(
        most <= pool,
        "at most the pool's {pool} connections at once, saw {most}"
    );
}
