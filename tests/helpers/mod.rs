//! Test harness: databases, the in-process app, GraphQL and websocket clients.

pub mod app;
pub mod calling_hours;
pub mod campaign;
pub mod carrier;
pub mod counters;
pub mod db;
pub mod imports;
pub mod node;
pub mod remote;
pub mod verdict;
pub mod ws;

use std::future::Future;
use std::time::{Duration, Instant};

pub use app::TestApp;

/// Polls `check` until it returns `Some`, failing the test after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The input type a mutation takes under the schema's naming scheme: `startCampaign` →
/// `StartCampaignInput`.
pub fn input_type(mutation: &str) -> String {
    let mut chars = mutation.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase());
    format!(
        "{}{}Input",
        first.into_iter().collect::<String>(),
        chars.as_str()
    )
}

pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", uuid::Uuid::new_v4().simple())
}

pub fn postgres_base_url() -> String {
    std::env::var("TEST_DATABASE_BASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A GraphQL multipart request (the upload spec every client library speaks).
pub fn upload(
    query: &str,
    variables: serde_json::Value,
    file_path: &str,
    file: &[u8],
    token: &str,
) -> axum::http::Request<axum::body::Body> {
    let boundary = "----ringcast-test-boundary";
    let operations = serde_json::json!({"query": query, "variables": variables}).to_string();
    let mut body = Vec::new();
    let mut part = |name: &str, extra: &str, content: &[u8]| {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part("operations", "", operations.as_bytes());
    part(
        "map",
        "",
        serde_json::json!({"0": [file_path]}).to_string().as_bytes(),
    );
    part(
        "0",
        "; filename=\"upload.csv\"\r\nContent-Type: text/csv",
        file,
    );
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    axum::http::Request::post("/graphql")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::from(body))
        .unwrap()
}
