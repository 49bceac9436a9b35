//! Hostile requests get clear errors; health, readiness, metrics and GraphiQL answer.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

fn post(body: impl Into<Body>) -> Request<Body> {
    Request::post("/graphql")
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap()
}

fn first_code(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap();
    v["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn a_ten_megabyte_body_is_refused_with_413() {
    let app = TestApp::new().await;
    let big = format!(
        "{{\"query\": \"{{ me {{ id }} }}\", \"pad\": \"{}\"}}",
        "a".repeat(10 * 1024 * 1024)
    );
    let (status, body) = app.send(post(big.clone())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(first_code(&body), "BAD_USER_INPUT");

    // Without a Content-Length the limit still holds while streaming.
    let chunks = futures_util::stream::iter(
        big.into_bytes()
            .chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let (status, _) = app.send(post(Body::from_stream(chunks))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn deep_wide_and_batched_queries_get_clear_errors() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let deep = format!("{{ me {}{} }}", "{ id ".repeat(100), "}".repeat(100));
    let r = app.gql_as(&admin, &deep, json!({})).await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);

    let aliases: String = (0..10_000).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let r = app
        .gql_as(&admin, &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(
        r.code(),
        "BAD_USER_INPUT",
        "{}",
        &r.body.to_string()[..200.min(r.body.to_string().len())]
    );

    let nested = "{ users { edges { node { id } } } auditLog { edges { node { id } } } }";
    app.gql_as(&admin, nested, json!({})).await.assert_ok();

    let batch = json!([{"query": "{ me { id } }"}, {"query": "{ me { id } }"}]).to_string();
    let (status, body) = app.send(post(batch)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(first_code(&body), "BAD_USER_INPUT");

    let (status, body) = app.send(post("{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(first_code(&body), "BAD_USER_INPUT");

    let r = app.gql("{ nope }", json!({})).await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

/// No field of the real schema and no handler of the real router panics on any request
/// (nothing unwraps request data outside tests), so a panic cannot be provoked through
/// `ringcast::server::router`, and a panicking route or field would be a test-only feature in
/// the product. The closest real path: the real schema types, resolvers and `Observe` extension,
/// built without the `AppState` that `schema::schema` always inserts, so the real `login`
/// resolver panics in `ContextExt::state` (`data_unchecked`). The router's `CatchPanicLayer`,
/// which covers non-GraphQL handlers, is not reached by this test.
#[tokio::test]
async fn a_panicking_resolver_answers_internal() {
    let schema = ringcast::schema::builder()
        .extension(ringcast::graphql::extension::Observe)
        .finish();
    let response = schema
        .execute(
            r#"mutation { login(input: {email: "a@example.com", password: "x"}) { accessToken } }"#,
        )
        .await;
    let body = serde_json::to_value(&response).unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INTERNAL",
        "{body}"
    );
    assert!(
        !body.to_string().contains("AppState"),
        "panic text must not reach the client: {body}"
    );
}

#[tokio::test]
async fn health_readiness_metrics_and_graphiql() {
    let app = TestApp::new().await;
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    assert_eq!(app.send(get("/healthz")).await.0, StatusCode::OK);
    let (status, body) = app.send(get("/readyz")).await;
    assert_eq!(status, StatusCode::OK);
    let ready: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["redis"], "ok");

    app.gql("query Probe { __typename }", json!({}))
        .await
        .assert_ok();
    let (status, body) = app.send(get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    for metric in [
        "graphql_requests_total{operation=\"Probe\"",
        "db_pool_connections",
        "job_queue_depth",
    ] {
        assert!(text.contains(metric), "missing {metric} in /metrics");
    }

    let (status, body) = app.send(get("/graphiql")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("/graphql/ws"));
}

#[tokio::test]
async fn large_responses_are_compressed_small_ones_are_not() {
    let app = TestApp::new().await;
    let request = |path: &str| {
        Request::get(path)
            .header("accept-encoding", "gzip")
            .body(Body::empty())
            .unwrap()
    };
    let response = tower::ServiceExt::oneshot(app.router.clone(), request("/graphiql"))
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    let response = tower::ServiceExt::oneshot(app.router.clone(), request("/healthz"))
        .await
        .unwrap();
    assert!(response.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::builder().without_redis().build().await;
    app.state.db.close();
    let (status, body) = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let ready: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(ready["redis"], "not configured");
}

#[tokio::test]
async fn get_serves_queries_but_never_mutations() {
    let app = TestApp::new().await;
    let get = |q: &str| {
        Request::get(format!("/graphql?query={q}"))
            .body(Body::empty())
            .unwrap()
    };
    let (status, body) = app.send(get("%7B__typename%7D")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let mutation = "mutation%7Blogout(input%3A%7BrefreshToken%3A%22x%22%7D)%7Bok%7D%7D";
    let (status, body) = app.send(get(mutation)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(first_code(&body), "BAD_USER_INPUT");
}

/// The introspection query GraphiQL sends (graphql-js `getIntrospectionQuery`), whose type
/// references nest eight `ofType` levels deep: it must pass the depth limit, or GraphiQL has no
/// documentation or completion.
const GRAPHIQL_INTROSPECTION: &str = r#"query IntrospectionQuery { __schema {
  queryType { name } mutationType { name } subscriptionType { name }
  types { ...FullType }
  directives { name description locations args { ...InputValue } } } }
fragment FullType on __Type { kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue } interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }"#;

#[tokio::test]
async fn graphiqls_introspection_fits_the_default_limits() {
    let app = TestApp::new().await;
    let r = app.gql(GRAPHIQL_INTROSPECTION, json!({})).await;
    r.assert_ok();
    assert!(r.data("__schema.types").as_array().unwrap().len() > 50);
}

#[tokio::test]
async fn browsers_from_allowed_origins_may_call_the_api_and_others_get_no_cors_headers() {
    use tower::ServiceExt;
    let preflight = |origin: &str| {
        Request::options("/graphql")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .body(Body::empty())
            .unwrap()
    };
    let allowed = |app: &TestApp, origin: &'static str| {
        let router = app.router.clone();
        async move {
            let response = router.oneshot(preflight(origin)).await.unwrap();
            response
                .headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_owned())
        }
    };
    let app = TestApp::builder()
        .config(|c| c.cors_allowed_origins = vec!["http://dashboard.example".into()])
        .build()
        .await;
    assert_eq!(
        allowed(&app, "http://dashboard.example").await.as_deref(),
        Some("http://dashboard.example")
    );
    assert_eq!(allowed(&app, "http://elsewhere.example").await, None);

    let closed = TestApp::new().await;
    assert_eq!(allowed(&closed, "http://dashboard.example").await, None);
}
