//! A page of calls with every field of `Call` runs as many SQL statements for 500 rows as for
//! 5: per-row fields are batched by DataLoaders, not queried row by row.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::Request;
use axum::Router;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::helpers::app::TestApp;

/// Counts every statement a connection sends.
struct Statements(Arc<AtomicUsize>);

impl Instrumentation for Statements {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The app's router over a pool of its own whose connections count their statements.
fn counting_router(app: &TestApp, statements: Arc<AtomicUsize>) -> Router {
    let mut config = ManagerConfig::default();
    // No liveness check on checkout: it would count once per reused connection and not for a
    // new one, so the count would follow the pool's timing rather than the code's statements.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| {
        let statements = statements.clone();
        Box::pin(async move {
            let mut conn = AsyncPgConnection::establish(url).await?;
            conn.set_instrumentation(Statements(statements));
            Ok(conn)
        })
    });
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(&app.db.url, config);
    let mut state = app.state.clone();
    state.db = Pool::builder(manager).max_size(4).build().unwrap();
    ringcast::server::router(state)
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))))
}

async fn post(router: &Router, token: &str, query: &str) -> Value {
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(json!({ "query": query }).to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert!(body["errors"].is_null(), "{body}");
    body
}

/// Every field of `type_name` with no required argument, object fields expanded the same way,
/// read from the schema so that a field added later is counted too.
fn selection(types: &[Value], type_name: &str) -> String {
    let ty = types
        .iter()
        .find(|t| t["name"] == type_name)
        .unwrap_or_else(|| panic!("no type {type_name}"));
    let mut fields = Vec::new();
    for field in ty["fields"].as_array().unwrap() {
        let required_arg = field["args"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["type"]["kind"] == "NON_NULL");
        if required_arg {
            continue;
        }
        let mut of = &field["type"];
        while of["name"].is_null() {
            of = &of["ofType"];
        }
        let name = field["name"].as_str().unwrap();
        match of["kind"].as_str().unwrap() {
            "OBJECT" => fields.push(format!(
                "{name} {{ {} }}",
                selection(types, of["name"].as_str().unwrap())
            )),
            _ => fields.push(name.to_owned()),
        }
    }
    fields.join(" ")
}

const TYPES: &str = "{ __schema { types { name fields { name
    args { type { kind } }
    type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

/// `count` finished calls of the user, each with a hold, a charge, a release for every other
/// one, a status event and a keypress.
async fn seed_calls(app: &TestApp, user_id: &str, count: usize) {
    let account = uuid::Uuid::new_v4();
    app.execute_sql(&format!(
        "INSERT INTO twilio_accounts (id, name, account_sid, auth_token_sealed, auth_token_last4, api_base_url)
         VALUES ('{account}', 'n+1', 'AC{}', 'sealed', 'abcd', 'http://127.0.0.1:9')",
        uuid::Uuid::new_v4().simple()
    ))
    .await;
    app.execute_sql(&format!(
        "INSERT INTO calls (id, owner_id, twilio_account_id, twilio_sid, direction, from_number, to_number,
                            status, duration_secs, answered_at, ended_at, attempt)
         SELECT gen_random_uuid(), '{user_id}', '{account}', 'CA' || replace(gen_random_uuid()::text, '-', ''), 'OUTBOUND',
                '+84900000000', '+849' || lpad(n::text, 8, '0'), 'COMPLETED', n % 300, now(), now(), 1
         FROM generate_series(1, {count}) AS n"
    ))
    .await;
    let rate = r#"{"prefix": "84", "per_minute": 1200, "initial_increment": 60, "billing_increment": 6,
                   "connection_fee": 0, "description": null, "updated_at": "2026-01-01T00:00:00Z"}"#;
    app.execute_sql(&format!(
        "INSERT INTO ledger_entries (user_id, kind, amount, held_change, posted_after, available_after, call_id, rate)
         SELECT owner_id, 'CALL_HOLD', 0, 6000, 0, 0, id, '{rate}'::jsonb FROM calls WHERE owner_id = '{user_id}'
         UNION ALL
         SELECT owner_id, 'CALL_CHARGE', -duration_secs * 20, 0, 0, 0, id, NULL FROM calls WHERE owner_id = '{user_id}'
         UNION ALL
         SELECT owner_id, 'HOLD_RELEASE', 0, -6000, 0, 0, id, NULL FROM calls
         WHERE owner_id = '{user_id}' AND duration_secs % 2 = 0"
    ))
    .await;
    app.execute_sql(&format!(
        "INSERT INTO call_events (call_id, kind, source, status, sequence_number, detail, applied, occurred_at)
         SELECT id, 'STATUS', 'WEBHOOK', 'completed', 1, '{{}}', true, now() FROM calls WHERE owner_id = '{user_id}'
         UNION ALL
         SELECT id, 'GATHER', 'WEBHOOK', NULL, NULL,
                jsonb_build_object('digits', (duration_secs % 10)::text), true, now()
         FROM calls WHERE owner_id = '{user_id}'"
    ))
    .await;
}

#[tokio::test]
async fn a_page_of_calls_with_every_field_runs_as_many_statements_for_500_rows_as_for_5() {
    // The cost limit is not what this test is about: every field of 500 calls must run.
    let app = TestApp::builder()
        .config(|c| c.graphql.max_complexity = 1_000_000)
        .build()
        .await;
    let (_, _, token, user_id) = app.user().await;
    seed_calls(&app, &user_id, 500).await;
    // Another tenant's calls are on the same tables and must not leak into the batches.
    let (_, _, _, other) = app.user().await;
    seed_calls(&app, &other, 20).await;

    let statements = Arc::new(AtomicUsize::new(0));
    let router = counting_router(&app, statements.clone());
    let schema = post(&router, &token, TYPES).await;
    let fields = selection(
        schema["data"]["__schema"]["types"].as_array().unwrap(),
        "Call",
    );
    for expected in ["cost", "held", "pricePerMinute", "events", "digits"] {
        assert!(
            fields.contains(expected),
            "{expected} missing from {fields}"
        );
    }

    let mut counts = Vec::new();
    let mut pages = Vec::new();
    for first in [5, 500] {
        let query = format!("{{ calls(first: {first}) {{ nodes {{ {fields} }} }} }}");
        let before = statements.load(Ordering::SeqCst);
        let page = post(&router, &token, &query).await;
        counts.push(statements.load(Ordering::SeqCst) - before);
        pages.push(page["data"]["calls"]["nodes"].as_array().unwrap().clone());
    }
    println!("statements: 5 rows {}, 500 rows {}", counts[0], counts[1]);

    let (small, large) = (&pages[0], &pages[1]);
    assert_eq!((small.len(), large.len()), (5, 500));
    // Batched answers land on their own rows: the first five rows read alike in both pages.
    assert_eq!(small[..], large[..5]);
    for call in large {
        let duration = call["durationSecs"].as_i64().unwrap();
        assert_eq!(call["cost"], json!(duration * 20), "{call}");
        assert_eq!(call["pricePerMinute"], json!(1200), "{call}");
        let held = if duration % 2 == 0 { 0 } else { 6000 };
        assert_eq!(call["held"], json!(held), "{call}");
        assert_eq!(
            call["digits"],
            json!([(duration % 10).to_string()]),
            "{call}"
        );
        assert_eq!(call["events"].as_array().unwrap().len(), 2, "{call}");
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 5 rows vs 500 rows: per-row queries are back"
    );
}

/// Statements a query runs through `router`, answered without errors.
async fn statements_for(
    router: &Router,
    statements: &AtomicUsize,
    token: &str,
    query: &str,
) -> (usize, Value) {
    let before = statements.load(Ordering::SeqCst);
    let body = post(router, token, query).await;
    (statements.load(Ordering::SeqCst) - before, body)
}

#[tokio::test]
async fn pages_of_campaigns_and_users_with_every_field_run_as_many_statements_for_20_rows_as_for_2()
{
    let app = TestApp::builder()
        .config(|c| c.graphql.max_complexity = 1_000_000)
        .build()
        .await;
    let admin = app.admin_token().await;
    let (_, _, token, user_id) = app.user().await;
    let campaign = app
        .gql_as(
            &token,
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
            json!({"i": {"name": "n+1", "purpose": "REMINDER",
                "consent": {"basis": "EXISTING_CUSTOMER", "source": "contract", "collectedAt": "2026-01-01T00:00:00Z"},
                "message": {"text": "Xin chào"}}}),
        )
        .await
        .str("createCampaign.campaign.id");
    // Nineteen copies, each with contacts in several states, calls and a charge.
    app.execute_sql(&format!(
        "INSERT INTO campaigns
         SELECT (jsonb_populate_record(c, jsonb_build_object('id', gen_random_uuid()))).*
         FROM campaigns c, generate_series(1, 19) WHERE c.id = '{campaign}'"
    ))
    .await;
    seed_calls(&app, &user_id, 40).await;
    app.execute_sql(&format!(
        "INSERT INTO campaign_contacts (campaign_id, phone, state, skip_reason)
         SELECT id, '+8491' || lpad(n::text, 7, '0'), (ARRAY['PENDING', 'DONE', 'SKIPPED'])[n % 3 + 1],
                CASE WHEN n % 3 = 2 THEN 'QUIET_HOURS' END
         FROM campaigns, generate_series(1, 6) AS n WHERE owner_id = '{user_id}'"
    ))
    .await;
    app.execute_sql(&format!(
        "UPDATE calls SET campaign_id = c.id
         FROM (SELECT id, row_number() OVER (ORDER BY id) AS i FROM campaigns WHERE owner_id = '{user_id}') c
         WHERE calls.owner_id = '{user_id}' AND c.i = (abs(hashtext(calls.id::text)) % 20) + 1"
    ))
    .await;
    app.execute_sql(
        "UPDATE ledger_entries l SET campaign_id = calls.campaign_id FROM calls WHERE l.call_id = calls.id",
    )
    .await;
    for _ in 0..19 {
        app.user().await;
    }

    let statements = Arc::new(AtomicUsize::new(0));
    let router = counting_router(&app, statements.clone());
    let schema = post(&router, &token, TYPES).await;
    let types = schema["data"]["__schema"]["types"].as_array().unwrap();
    let (campaign_fields, user_fields) = (selection(types, "Campaign"), selection(types, "User"));
    assert!(campaign_fields.contains("stats") && campaign_fields.contains("contactCounts"));
    assert!(user_fields.contains("balance"));

    for (viewer, root, fields) in [
        (&token, "campaigns", &campaign_fields),
        (&admin, "users", &user_fields),
    ] {
        let query = |n: usize| format!("{{ {root}(first: {n}) {{ nodes {{ {fields} }} }} }}");
        let (small, small_page) = statements_for(&router, &statements, viewer, &query(2)).await;
        let (large, large_page) = statements_for(&router, &statements, viewer, &query(20)).await;
        println!("{root}: 2 rows {small} statements, 20 rows {large}");
        let nodes = |page: &Value| page["data"][root]["nodes"].as_array().unwrap().clone();
        let (small_page, large_page) = (nodes(&small_page), nodes(&large_page));
        assert_eq!(large_page.len(), 20, "{root}");
        assert_eq!(small_page[..], large_page[..2], "{root}");
        assert_eq!(small, large, "{root}: statements for 2 rows vs 20 rows");
    }
}
