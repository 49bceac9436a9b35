//! `callUpdated` without a campaign: each tenant's socket carries its own calls' events and
//! never another tenant's, though every event reaches every subscriber's filter.

use std::time::Duration;

use ringcast::events::Event;
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
