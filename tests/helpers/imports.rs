//! Contact imports as a client runs them: upload with `importContacts`, then follow the import
//! (here by draining the job queue, then reading `import(id:)`).

use serde_json::{json, Value};

use super::TestApp;

pub const IMPORT: &str =
    "mutation($i: ImportContactsInput!) { importContacts(input: $i) { import { id status } } }";

/// The `Import` fields tests read.
pub const FIELDS: &str = "id status failureReason rowsRead rowsImported duplicates invalid \
     errors(first: 500) { totalCount edges { node { row value reason } } }";

/// The GraphQL response to uploading `file` for `campaign`.
pub async fn upload(app: &TestApp, token: &str, campaign: &str, file: &[u8]) -> Value {
    let (status, body) = app
        .send(super::upload(
            IMPORT,
            json!({"i": {"campaignId": campaign, "file": null}}),
            "variables.i.file",
            file,
            token,
        ))
        .await;
    assert_eq!(status, axum::http::StatusCode::OK);
    serde_json::from_slice(&body).unwrap()
}

/// The import as `token` reads it (`FIELDS`).
pub async fn get(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app
        .gql_as(
            token,
            &format!("query($id: ID!) {{ import(id: $id) {{ {FIELDS} }} }}"),
            json!({"id": id}),
        )
        .await;
    r.assert_ok();
    r.data("import").clone()
}

/// Uploads `file`, runs the queue, and returns the finished import (`FIELDS`).
pub async fn run(app: &TestApp, token: &str, campaign: &str, file: &[u8]) -> Value {
    let r = upload(app, token, campaign, file).await;
    assert!(r.get("errors").is_none(), "{r}");
    let id = r["data"]["importContacts"]["import"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.drain_jobs().await;
    get(app, token, &id).await
}

/// The refused rows of an import read with `FIELDS`.
pub fn errors(import: &Value) -> Vec<Value> {
    import["errors"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}
