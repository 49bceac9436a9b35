//! Strangers cannot take the server down: half-open connections are closed and capped (over
//! real TCP, against the real binary), and a query's cost counts every row a page may return.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::node::Node;
use crate::helpers::TestApp;

fn address(node: &Node) -> SocketAddr {
    node.base
        .as_deref()
        .and_then(|b| b.strip_prefix("http://"))
        .and_then(|a| a.parse().ok())
        .unwrap()
}

/// Reads until the server closes the connection; `None` if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()
    .map(|()| seen)
}

async fn healthz(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: ringcast\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = closed_within(&mut stream, Duration::from_secs(5))
        .await
        .expect("/healthz answered and closed within 5 s");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn half_a_request_line_a_silent_connection_an_idle_keep_alive_and_a_trickled_body_are_closed()
{
    let app = TestApp::new().await;
    let node = Node::serve_with(&app, &[("HTTP_HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let addr = address(&node);

    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /healthz HT").await.unwrap();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: ringcast\r\n\r\n")
        .await
        .unwrap();
    // A complete head, then a body that stops after a few bytes (slow POST).
    let mut trickle = TcpStream::connect(addr).await.unwrap();
    trickle
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: ringcast\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"query\": ",
        )
        .await
        .unwrap();
    let started = Instant::now();

    let (half, silent, idle, trickle) = tokio::join!(
        closed_within(&mut half, Duration::from_secs(5)),
        closed_within(&mut silent, Duration::from_secs(5)),
        closed_within(&mut idle, Duration::from_secs(5)),
        closed_within(&mut trickle, Duration::from_secs(5)),
    );
    let trickle =
        String::from_utf8(trickle.expect("a trickled body still open after 5 s")).unwrap();
    assert!(trickle.starts_with("HTTP/1.1 400"), "{trickle}");
    assert!(half.is_some(), "half a request line still open after 5 s");
    assert!(silent.is_some(), "a silent connection still open after 5 s");
    let idle = String::from_utf8(idle.expect("an idle keep-alive still open after 5 s")).unwrap();
    assert!(idle.starts_with("HTTP/1.1 200"), "{idle}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed before the timeout"
    );
    assert!(healthz(addr).await.starts_with("HTTP/1.1 200"));
    node.stop().await;
}

#[tokio::test]
async fn a_flood_of_half_open_connections_is_capped_and_healthz_still_answers() {
    let app = TestApp::new().await;
    // A long header timeout: the cap, not the timeout, must hold this flood.
    let node = Node::serve_with(
        &app,
        &[
            ("HTTP_MAX_CONNECTIONS", "50"),
            ("HTTP_HEADER_READ_TIMEOUT_SECS", "120"),
        ],
    )
    .await;
    let addr = address(&node);

    let mut flood = Vec::new();
    for _ in 0..300 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"POST /graphql HT").await.unwrap();
        flood.push(stream);
    }
    let answer = healthz(addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Whatever the server still holds is at most the cap: the rest were closed.
    let still_open = futures_util::future::join_all(
        flood
            .iter_mut()
            .map(|s| closed_within(s, Duration::from_millis(300))),
    )
    .await
    .into_iter()
    .filter(Option::is_none)
    .count();
    assert!(
        still_open <= 50,
        "{still_open} of 300 half-open connections are still open with a cap of 50"
    );
    // And the server is still whole after the flood.
    assert!(healthz(addr).await.starts_with("HTTP/1.1 200"));
    node.stop().await;
}

const STATS: &str = "stats { attempts answered busy noAnswer failed inProgress cost answerRate \
     contacts { total pending done } skippedByReason { reason contacts } }";

#[tokio::test]
async fn twenty_aliased_pages_of_campaign_stats_are_refused_before_running() {
    let app = TestApp::new().await;
    let (_, _, token, _) = app.user().await;
    let aliases: String = (0..20)
        .map(|i| {
            format!("c{i}: campaigns(first: 500) {{ edges {{ node {{ id name {STATS} }} }} }} ")
        })
        .collect();
    let r = app
        .gql_as(&token, &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    assert!(r.body["data"].is_null(), "nothing ran: {}", r.body);
    assert!(r.message().contains("too expensive"), "{}", r.message());
    let extensions = &r.body["errors"][0]["extensions"];
    assert!(extensions["cost"].as_u64() > extensions["maxCost"].as_u64());

    // One page of 500 with statistics is 500 statistics queries: refused too.
    let one = format!("{{ campaigns(first: 500) {{ nodes {{ id {STATS} }} }} }}");
    let r = app.gql_as(&token, &one, json!({})).await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);

    // The same through variables: `first` is read from them.
    let r = app
        .gql_as(
            &token,
            &format!("query($n: Int) {{ campaigns(first: $n) {{ nodes {{ id {STATS} }} }} }}"),
            json!({"n": 500}),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
}

#[tokio::test]
async fn normal_pages_pass_the_cost_limit() {
    let app = TestApp::new().await;
    let (_, _, token, _) = app.user().await;
    for query in [
        // The default page of campaigns with their statistics.
        format!("{{ campaigns {{ edges {{ cursor node {{ id name status {STATS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"),
        // The largest page of calls with every plain field.
        "{ calls(first: 500) { nodes { id to from status attempt durationSecs answeredBy twilioSid createdAt answeredAt endedAt } pageInfo { hasNextPage endCursor } } }".to_owned(),
        // The largest page of the ledger, numbers and top-ups together.
        "{ ledger(first: 500) { nodes { id amount } } myDids(first: 100) { nodes { id phoneNumber } } topUps(first: 100) { nodes { id status } } me { id balance { available } } }".to_owned(),
    ] {
        app.gql_as(&token, &query, json!({})).await.assert_ok();
    }
}

/// Every query a client example or the dashboard sends, with what it costs: a limit of 0
/// makes the server refuse each one, before authentication, with its cost.
#[tokio::test]
async fn every_client_example_and_the_dashboard_cost_less_than_the_default_limit() {
    let app = TestApp::builder()
        .config(|c| c.graphql.max_complexity = 0)
        .build()
        .await;
    let limit = ringcast::config::Config::default().graphql.max_complexity;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/client-examples");

    let mut queries: Vec<(String, String, Value)> = Vec::new();
    for entry in std::fs::read_dir(format!("{root}/graphql")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "graphql") {
            let variables = std::fs::read_to_string(path.with_extension("variables.json"))
                .ok()
                .and_then(|v| serde_json::from_str(&v).ok())
                .unwrap_or(json!({}));
            queries.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
                variables,
            ));
        }
    }
    for (i, query) in dashboard_queries(&format!("{root}/dashboard/index.html"))
        .into_iter()
        .enumerate()
    {
        queries.push((format!("dashboard #{i}"), query, json!({"id": "x"})));
    }
    assert!(queries.len() > 20, "found only {} queries", queries.len());

    for (name, query, variables) in queries {
        let r = app.gql(&query, variables).await;
        if r.message().contains("\"Upload\"") {
            // An upload needs a multipart request; its query is a single mutation anyway.
            continue;
        }
        let cost = r.body["errors"][0]["extensions"]["cost"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: no cost in {}", r.body));
        println!("{cost:>6}  {name}");
        assert!(
            cost <= limit as u64,
            "{name} costs {cost}, over the default limit {limit}"
        );
    }
}

/// The dashboard's queries and subscriptions, with its field lists spliced in.
fn dashboard_queries(path: &str) -> Vec<String> {
    let html = std::fs::read_to_string(path).unwrap();
    let constant = |name: &str| {
        let start = html.find(&format!("const {name} = ")).unwrap() + name.len() + 9;
        let quote = html[start..].chars().next().unwrap();
        let end = html[start + 1..].find(quote).unwrap();
        html[start + 1..start + 1 + end].to_owned()
    };
    let fields = [
        ("${STATS_FIELDS}", constant("STATS_FIELDS")),
        ("${CALL_FIELDS}", constant("CALL_FIELDS")),
        ("${AUTH_FIELDS}", constant("AUTH_FIELDS")),
    ];
    let mut queries = Vec::new();
    for opener in ["gql(`", "subscribe(`"] {
        for (at, _) in html.match_indices(opener) {
            let start = at + opener.len();
            let end = html[start..].find('`').unwrap();
            let mut query = html[start..start + end].to_owned();
            for (placeholder, value) in &fields {
                query = query.replace(placeholder, value);
            }
            queries.push(query);
        }
    }
    queries
}
