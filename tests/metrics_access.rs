//! `/metrics` answers loopback (or `METRICS_ALLOW`) peers that reach it directly, and the
//! bearer of `METRICS_TOKEN`; nobody else. `METRICS_BIND` moves it off the public port.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use crate::helpers::TestApp;

/// GET /metrics through the real router as a client at `peer`.
async fn metrics_from(
    app: &TestApp,
    peer: [u8; 4],
    headers: &[(&str, &str)],
) -> (StatusCode, String) {
    let router = ringcast::server::router(app.state.clone())
        .layer(MockConnectInfo(SocketAddr::from((peer, 40000))));
    let mut request = Request::get("/metrics");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A plain HTTP/1.1 GET over TCP; returns the status line and the rest.
async fn get_over_tcp(addr: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .unwrap()
    .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

const STRANGER: [u8; 4] = [203, 0, 113, 9];
const LOOPBACK: [u8; 4] = [127, 0, 0, 1];

#[tokio::test]
async fn metrics_answer_loopback_by_default_and_nobody_else() {
    let app = TestApp::new().await;
    // Over a real socket from 127.0.0.1.
    let addr = app.serve().await;
    let answer = get_over_tcp(addr, "/metrics").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("db_pool_connections"), "{answer}");

    let (status, body) = metrics_from(&app, STRANGER, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("db_pool"), "{body}");
    // A proxy on the same host relays strangers from loopback: relayed is never local.
    for header in ["x-forwarded-for", "forwarded", "x-real-ip"] {
        let (status, _) = metrics_from(&app, LOOPBACK, &[(header, "127.0.0.1")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "relayed with {header}");
    }
    // A token that is not configured opens nothing.
    let (status, _) = metrics_from(&app, STRANGER, &[("authorization", "Bearer x")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_metrics_token_opens_metrics_from_anywhere() {
    let app = TestApp::builder()
        .config(|c| c.metrics.token = Some(ringcast::config::Secret::new("scrape-me-please")))
        .build()
        .await;
    let (status, _) = metrics_from(&app, STRANGER, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = metrics_from(
        &app,
        STRANGER,
        &[("authorization", "Bearer scrape-me-pleas")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = metrics_from(
        &app,
        STRANGER,
        &[
            ("authorization", "Bearer scrape-me-please"),
            ("x-forwarded-for", "198.51.100.1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("db_pool_connections"), "{body}");
}

#[tokio::test]
async fn metrics_allow_names_the_networks_that_may_scrape() {
    let app = TestApp::builder()
        .config(|c| c.metrics.allow = vec!["203.0.113.0/24".parse().unwrap()])
        .build()
        .await;
    assert_eq!(metrics_from(&app, STRANGER, &[]).await.0, StatusCode::OK);
    assert_eq!(
        metrics_from(&app, [198, 51, 100, 1], &[]).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        metrics_from(&app, LOOPBACK, &[]).await.0,
        StatusCode::FORBIDDEN,
        "loopback is allowed only by default"
    );
}

#[tokio::test]
async fn metrics_bind_serves_metrics_on_its_own_listener_only() {
    let app = TestApp::builder()
        .config(|c| c.metrics.bind = Some("127.0.0.1:0".into()))
        .build()
        .await;
    let (status, _) = metrics_from(&app, LOOPBACK, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not on the public port");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(ringcast::connections::serve(
        listener,
        ringcast::server::metrics_router(app.state.clone()),
        ringcast::connections::Limits::new(std::time::Duration::from_secs(5), Some(8)),
        stop.clone(),
    ));
    let answer = get_over_tcp(addr, "/metrics").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(get_over_tcp(addr, "/graphiql")
        .await
        .starts_with("HTTP/1.1 404"));
    stop.cancel();
}
