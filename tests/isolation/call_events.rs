//! `callUpdated` without a campaign: each tenant's socket carries its own calls' events and
//! never another tenant's, though every event reaches every subscriber's filter.

use std::time::Duration;

use ringcast::events::{Event, Route};
use serde_json::{json, Value};

use super::{settle, tenant, Kind, Tenant};
use crate::helpers::carrier::Carrier;
use crate::helpers::ws::{Init, WsClient};
use crate::helpers::TestApp;

const SUBSCRIPTION: &str = "subscription { callUpdated { id campaignId to } }";

/// The `call.updated` event the status code publishes for the tenant's call.
fn call_updated(tenant: &Tenant) -> Event {
    let uuid = |kind: Kind| uuid::Uuid::parse_str(&tenant.ids[&kind]).unwrap();
    let mut event = Event::new("call.updated", uuid(Kind::User));
    event.campaign_id = Some(uuid(Kind::Campaign));
    event.call_id = Some(uuid(Kind::Call));
    event.status = Some("completed".into());
    event
}

async fn subscribed(addr: std::net::SocketAddr, tenant: &Tenant) -> Box<WsClient> {
    let Init::Ack(mut socket) = WsClient::connect(
        addr,
        json!({"authorization": format!("Bearer {}", tenant.token)}),
    )
    .await
    else {
        panic!("the tenant's socket was refused");
    };
    socket.subscribe("1", SUBSCRIPTION).await;
    socket
}

/// The next event on the socket, if one comes soon.
async fn next_call(socket: &mut WsClient) -> Option<Value> {
    tokio::time::timeout(
        Duration::from_millis(200),
        socket.next_payload(Duration::from_secs(1)),
    )
    .await
    .ok()
    .map(|payload| payload["data"]["callUpdated"].clone())
}

#[tokio::test]
async fn call_updated_without_a_campaign_carries_no_other_tenants_calls() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    let alice = tenant(&app, &admin, &carrier, "0912000011").await;
    let bob = tenant(&app, &admin, &carrier, "0912000021").await;
    let addr = app.serve().await;
    let mut alices = subscribed(addr, &alice).await;
    let mut bobs = subscribed(addr, &bob).await;
    let own_call = |who: &Tenant, call: &Value| {
        call["id"] == who.ids[&Kind::Call].as_str()
            && call["campaignId"] == who.ids[&Kind::Campaign].as_str()
    };

    // Subscriptions register asynchronously: publish both tenants' events until each socket
    // has seen its own, checking everything that arrives on the way.
    let (mut alice_saw, mut bob_saw) = (false, false);
    for _ in 0..50 {
        app.state.events.publish(call_updated(&alice)).await;
        app.state.events.publish(call_updated(&bob)).await;
        while let Some(call) = next_call(&mut alices).await {
            assert!(own_call(&alice, &call), "alice received {call}");
            alice_saw = true;
        }
        while let Some(call) = next_call(&mut bobs).await {
            assert!(own_call(&bob, &call), "bob received {call}");
            bob_saw = true;
        }
        if alice_saw && bob_saw {
            break;
        }
    }
    assert!(alice_saw && bob_saw, "each socket sees its own calls");

    // Both are subscribed now: a burst of alice's events before one of bob's, and bob's next
    // event is his own (events reach a subscriber in the order they were published).
    for _ in 0..5 {
        app.state.events.publish(call_updated(&alice)).await;
    }
    app.state.events.publish(call_updated(&bob)).await;
    let call = bobs.next_payload(Duration::from_secs(5)).await["data"]["callUpdated"].clone();
    assert!(own_call(&bob, &call), "bob received {call}");
    for _ in 0..5 {
        let call = alices.next_payload(Duration::from_secs(5)).await["data"]["callUpdated"].clone();
        assert!(own_call(&alice, &call), "alice received {call}");
    }
    settle(&app).await;
}

/// Waits until `done` holds, or fails after a few seconds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn an_event_wakes_only_its_owners_and_campaigns_streams_and_every_admins() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    let alice = tenant(&app, &admin, &carrier, "0912000031").await;
    let bob = tenant(&app, &admin, &carrier, "0912000041").await;
    let addr = app.serve().await;
    let uuid = |who: &Tenant, kind: Kind| uuid::Uuid::parse_str(&who.ids[&kind]).unwrap();
    let (alice_campaign, bob_id) = (uuid(&alice, Kind::Campaign), uuid(&bob, Kind::User));

    let connect = |token: String| async move {
        let Init::Ack(socket) =
            WsClient::connect(addr, json!({"authorization": format!("Bearer {token}")})).await
        else {
            panic!("the socket was refused");
        };
        socket
    };
    let mut alices = connect(alice.token.clone()).await;
    let query = "subscription($c: ID) { callUpdated(campaignId: $c) { id } }";
    alices
        .subscribe_with("1", query, json!({"c": alice.ids[&Kind::Campaign]}))
        .await;
    let mut bobs = subscribed(addr, &bob).await;
    let mut admins = connect(admin.clone()).await;
    admins.subscribe("1", SUBSCRIPTION).await;
    let events = &app.state.events;
    until("every stream is registered", || {
        events.listeners(Route::Campaign(alice_campaign)) == 1
            && events.listeners(Route::Owner(bob_id)) == 1
            && events.listeners(Route::Everything) == 1
    })
    .await;

    // Alice's call: her campaign's stream and the admin's, not bob's.
    let before = events.deliveries();
    events.publish(call_updated(&alice)).await;
    until("alice's event is queued", || {
        events.deliveries() >= before + 2
    })
    .await;
    let call = alices.next_payload(Duration::from_secs(5)).await["data"]["callUpdated"].clone();
    assert_eq!(call["id"], alice.ids[&Kind::Call].as_str());
    let call = admins.next_payload(Duration::from_secs(5)).await["data"]["callUpdated"].clone();
    assert_eq!(call["id"], alice.ids[&Kind::Call].as_str());
    assert_eq!(
        next_call(&mut bobs).await,
        None,
        "bob's stream is not woken"
    );
    assert_eq!(events.deliveries(), before + 2);

    // Bob's call: his stream and the admin's, which gets every tenant's.
    events.publish(call_updated(&bob)).await;
    until("bob's event is queued", || {
        events.deliveries() >= before + 4
    })
    .await;
    let call = bobs.next_payload(Duration::from_secs(5)).await["data"]["callUpdated"].clone();
    assert_eq!(call["id"], bob.ids[&Kind::Call].as_str());
    let call = admins.next_payload(Duration::from_secs(5)).await["data"]["callUpdated"].clone();
    assert_eq!(call["id"], bob.ids[&Kind::Call].as_str());
    assert_eq!(next_call(&mut alices).await, None);
    assert_eq!(events.deliveries(), before + 4);
    settle(&app).await;
}
