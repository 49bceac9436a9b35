//! The event bus over Redis and in-process, and GraphQL subscriptions over websockets.

use std::time::Duration;

use ringcast::events::{Event, EventBus};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::ws::{Init, WsClient};
use crate::helpers::{redis_url, TestApp};

#[tokio::test]
async fn redis_carries_events_between_nodes() {
    let channel = format!("ringcast:test:{}", uuid::Uuid::new_v4().simple());
    let shutdown = CancellationToken::new();
    let node_a = EventBus::redis(&redis_url(), &channel, shutdown.clone())
        .await
        .unwrap();
    let node_b = EventBus::redis(&redis_url(), &channel, shutdown.clone())
        .await
        .unwrap();
    let mut on_b = node_b.subscribe();
    let event = Event::new("test.ping", uuid::Uuid::now_v7());
    node_a.publish(event.clone()).await;
    let received = tokio::time::timeout(Duration::from_secs(5), on_b.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received, event);
    assert_eq!(node_a.backend(), "redis");
    assert!(matches!(node_a.ping().await, Some(Ok(()))));
    shutdown.cancel();
}

#[tokio::test]
async fn the_in_process_bus_has_the_same_interface() {
    let bus = EventBus::in_process();
    let mut rx = bus.subscribe();
    let event = Event::new("test.ping", uuid::Uuid::now_v7());
    bus.publish(event.clone()).await;
    assert_eq!(rx.recv().await.unwrap(), event);
    assert!(bus.ping().await.is_none());
}

#[tokio::test]
async fn user_updated_reaches_the_users_websocket_and_no_one_elses() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let admin = app.admin_token().await;
    let (_, _, alice_token, alice_id) = app.user().await;
    let (_, _, bob_token, bob_id) = app.user().await;

    let Init::Ack(mut alice) = WsClient::connect(
        addr,
        json!({"authorization": format!("Bearer {alice_token}")}),
    )
    .await
    else {
        panic!("alice's connection was refused");
    };
    alice
        .subscribe("1", "subscription { userUpdated { id name } }")
        .await;
    let Init::Ack(mut bob) = WsClient::connect(
        addr,
        json!({"authorization": format!("Bearer {bob_token}")}),
    )
    .await
    else {
        panic!("bob's connection was refused");
    };
    bob.subscribe("1", "subscription { userUpdated { id name } }")
        .await;

    let alices = updates_until_seen(&app, &admin, &alice_id, &mut alice).await;
    assert_eq!(alices["data"]["userUpdated"]["id"], alice_id.as_str());
    // Bob's first event is his own, though alice's updates were published before it.
    let bobs = updates_until_seen(&app, &admin, &bob_id, &mut bob).await;
    assert_eq!(
        bobs["data"]["userUpdated"]["id"],
        bob_id.as_str(),
        "bob only sees his own updates"
    );
}

/// Subscriptions register asynchronously: keep updating until the client sees an event.
async fn updates_until_seen(
    app: &TestApp,
    admin: &str,
    id: &str,
    client: &mut WsClient,
) -> serde_json::Value {
    let update = "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id } } }";
    for attempt in 0..50 {
        app.gql_as(
            admin,
            update,
            json!({"i": {"id": id, "name": format!("Name {attempt}")}}),
        )
        .await
        .assert_ok();
        if let Ok(payload) = tokio::time::timeout(
            Duration::from_millis(200),
            client.next_payload(Duration::from_secs(1)),
        )
        .await
        {
            return payload;
        }
    }
    panic!("no userUpdated event arrived for {id}");
}

/// graphql-transport-ws: a server that rejects `connection_init` closes with 4403 Forbidden.
const FORBIDDEN: u16 = 4403;

#[tokio::test]
async fn websocket_connections_without_a_valid_token_are_closed() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    for payload in [
        json!({}),
        json!({"authorization": "Bearer not-a-token"}),
        json!({"authorization": "Basic abc"}),
    ] {
        match WsClient::connect(addr, payload.clone()).await {
            Init::Ack(_) => panic!("accepted {payload}"),
            Init::Closed { code, reason } => assert_eq!(code, FORBIDDEN, "{payload}: {reason}"),
        }
    }
}
