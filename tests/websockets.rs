//! Websockets keep no identity the server would no longer grant, and one client cannot hold
//! the server down with sockets, operations or progress subscriptions.

use std::time::Duration;

use ringcast::events::Event;
use serde_json::{json, Value};

use crate::helpers::carrier::Carrier;
use crate::helpers::ws::{Init, WsClient};
use crate::helpers::{eventually, TestApp};

const USER_UPDATED: &str = "subscription { userUpdated { id name } }";
const UPDATE_USER: &str =
    "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id } } }";

async fn signed_in(addr: std::net::SocketAddr, token: &str) -> WsClient {
    match WsClient::connect(addr, json!({"authorization": format!("Bearer {token}")})).await {
        Init::Ack(socket) => *socket,
        Init::Closed { code, reason } => panic!("refused with {code}: {reason}"),
    }
}

/// Fires `trigger` until the socket shows a `next` for subscription `id` (subscriptions
/// register asynchronously); returns its payload.
async fn until_seen<F, Fut>(socket: &mut WsClient, id: &str, mut trigger: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..50 {
        trigger().await;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
        while let Ok(msg) =
            tokio::time::timeout_at(deadline, socket.next_message(Duration::from_secs(5))).await
        {
            if msg["type"] == "next" && msg["id"] == id {
                return msg["payload"].clone();
            }
        }
    }
    panic!("subscription {id} never saw an event");
}

async fn rename(app: &TestApp, admin: &str, user: &str, name: &str) {
    app.gql_as(admin, UPDATE_USER, json!({"i": {"id": user, "name": name}}))
        .await
        .assert_ok();
}

fn claims(app: &TestApp, token: &str) -> ringcast::auth::tokens::AccessClaims {
    ringcast::auth::tokens::decode_access_token(&app.jwt_secret, token).unwrap()
}

async fn sleep_until_unix(secs: f64) {
    let now = chrono::Utc::now().timestamp_micros() as f64 / 1e6;
    if secs > now {
        tokio::time::sleep(Duration::from_secs_f64(secs - now)).await;
    }
}

#[tokio::test]
async fn a_socket_that_sends_no_connection_init_is_closed_with_4408() {
    let app = TestApp::builder()
        .config(|c| c.websockets.init_timeout = Duration::from_millis(300))
        .build()
        .await;
    let addr = app.serve().await;
    let mut silent = WsClient::open(addr).await;
    let started = std::time::Instant::now();
    assert_eq!(silent.close_code(Duration::from_secs(5)).await, Some(4408));
    assert!(started.elapsed() >= Duration::from_millis(250));
    // A socket that does say hello in time is not closed by the timer.
    let (_, _, token, _) = app.user().await;
    let mut greeted = signed_in(addr, &token).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    greeted.send(json!({"type": "ping"})).await;
    assert_eq!(
        greeted.next_message(Duration::from_secs(5)).await["type"],
        "pong"
    );
}

#[tokio::test]
async fn a_demoted_admin_stops_receiving_other_users_events_and_is_closed_with_4403() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let admin = app.admin_token().await;
    let (email, password, _, second_admin) = app.user().await;
    app.gql_as(
        &admin,
        UPDATE_USER,
        json!({"i": {"id": second_admin, "role": "ADMIN"}}),
    )
    .await
    .assert_ok();
    let (token, _) = app.tokens(&email, &password).await;
    let (_, _, _, bob) = app.user().await;
    let carrier = Carrier::start(1).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let from = carrier.numbers()[0].clone();
    let bobs_call = app.call_row(&bob, &account, &from, "+84912345671", 0).await;
    let call_updated = |call: uuid::Uuid| {
        let mut event = Event::new(
            ringcast::calls::status::EVENT_CALL_UPDATED,
            bob.parse().unwrap(),
        );
        event.call_id = Some(call);
        event
    };

    let mut socket = signed_in(addr, &token).await;
    socket
        .subscribe("calls", "subscription { callUpdated { id } }")
        .await;
    socket
        .subscribe(
            "money",
            &format!("subscription {{ balanceChanged(userId: \"{bob}\") {{ available }} }}"),
        )
        .await;
    // As an admin they see bob's call and bob's money.
    let seen = until_seen(&mut socket, "calls", || {
        app.state.events.publish(call_updated(bobs_call))
    })
    .await;
    assert_eq!(seen["data"]["callUpdated"]["id"], bobs_call.to_string());
    until_seen(&mut socket, "money", || app.credit(&bob, 1)).await;

    app.gql_as(
        &admin,
        UPDATE_USER,
        json!({"i": {"id": second_admin, "role": "USER"}}),
    )
    .await
    .assert_ok();
    let later_call = app.call_row(&bob, &account, &from, "+84912345672", 0).await;
    app.state.events.publish(call_updated(later_call)).await;
    app.credit(&bob, 777).await;

    let (seen, code) = socket.until_close(Duration::from_secs(10)).await;
    assert_eq!(code, Some(4403), "{seen:?}");
    let leaked: Vec<&Value> = seen.iter().filter(|m| m["type"] == "next").collect();
    assert!(
        !leaked
            .iter()
            .any(|m| m["payload"]["data"]["callUpdated"]["id"] == later_call.to_string()),
        "bob's later call reached a USER: {leaked:?}"
    );
    assert!(
        !leaked.iter().any(|m| m["id"] == "money"),
        "bob's later balance reached a USER: {leaked:?}"
    );
}

/// The re-check after a `viewer.changed` is held up (no one can read `users`); an event
/// published after the change must wait for it, and never reach the demoted admin.
#[tokio::test]
async fn nothing_published_after_a_viewer_change_is_delivered_before_the_recheck() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let admin = app.admin_token().await;
    let (email, password, _, second_admin) = app.user().await;
    app.gql_as(
        &admin,
        UPDATE_USER,
        json!({"i": {"id": second_admin, "role": "ADMIN"}}),
    )
    .await
    .assert_ok();
    let (token, _) = app.tokens(&email, &password).await;
    let (_, _, bob_token, bob) = app.user().await;
    let carrier = Carrier::start(1).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let from = carrier.numbers()[0].clone();
    let first = app.call_row(&bob, &account, &from, "+84912345671", 0).await;
    let later = app.call_row(&bob, &account, &from, "+84912345672", 0).await;
    let call_updated = |call: uuid::Uuid| {
        let mut event = Event::new(
            ringcast::calls::status::EVENT_CALL_UPDATED,
            bob.parse().unwrap(),
        );
        event.call_id = Some(call);
        event
    };
    let mut socket = signed_in(addr, &token).await;
    socket
        .subscribe("calls", "subscription { callUpdated { id } }")
        .await;
    let mut witness = signed_in(addr, &bob_token).await;
    witness
        .subscribe("calls", "subscription { callUpdated { id } }")
        .await;
    until_seen(&mut socket, "calls", || {
        app.state.events.publish(call_updated(first))
    })
    .await;
    until_seen(&mut witness, "calls", || {
        app.state.events.publish(call_updated(first))
    })
    .await;

    let mut lock = app.state.db.get().await.unwrap();
    diesel::sql_query("BEGIN").execute(&mut lock).await.unwrap();
    diesel::sql_query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        .execute(&mut lock)
        .await
        .unwrap();
    app.state
        .events
        .publish(Event::viewer_changed(second_admin.parse().unwrap()))
        .await;
    app.state.events.publish(call_updated(later)).await;
    // Bob's socket, whose viewer did not change, gets the later call: the event is out.
    loop {
        let msg = witness.next_message(Duration::from_secs(10)).await;
        if msg["payload"]["data"]["callUpdated"]["id"] == later.to_string() {
            break;
        }
    }
    diesel::sql_query(format!(
        "UPDATE users SET role = 'USER' WHERE id = '{second_admin}'"
    ))
    .execute(&mut lock)
    .await
    .unwrap();
    diesel::sql_query("COMMIT")
        .execute(&mut lock)
        .await
        .unwrap();

    let (seen, code) = socket.until_close(Duration::from_secs(10)).await;
    assert_eq!(code, Some(4403), "{seen:?}");
    assert!(
        !seen
            .iter()
            .any(|m| m["payload"]["data"]["callUpdated"]["id"] == later.to_string()),
        "the later call reached the demoted admin: {seen:?}"
    );
}

#[tokio::test]
async fn a_suspended_users_socket_is_closed_with_4403() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let admin = app.admin_token().await;
    let (_, _, token, id) = app.user().await;
    let mut socket = signed_in(addr, &token).await;
    socket.subscribe("1", USER_UPDATED).await;
    until_seen(&mut socket, "1", || rename(&app, &admin, &id, "before")).await;
    app.gql_as(
        &admin,
        UPDATE_USER,
        json!({"i": {"id": id, "status": "SUSPENDED"}}),
    )
    .await
    .assert_ok();
    let (seen, code) = socket.until_close(Duration::from_secs(10)).await;
    assert_eq!(code, Some(4403), "{seen:?}");
}

#[tokio::test]
async fn a_password_change_closes_the_socket_with_4403() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let (_, password, token, _) = app.user().await;
    let mut socket = signed_in(addr, &token).await;
    socket.subscribe("1", USER_UPDATED).await;
    app.gql_as(
        &token,
        "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { accessToken } }",
        json!({"i": {"currentPassword": password, "newPassword": "another good password"}}),
    )
    .await
    .assert_ok();
    assert_eq!(socket.close_code(Duration::from_secs(10)).await, Some(4403));
}

#[tokio::test]
async fn logout_closes_the_sockets_of_that_sign_in_only() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let admin = app.admin_token().await;
    let (email, password, _, id) = app.user().await;
    let (phone, phone_refresh) = app.tokens(&email, &password).await;
    let (laptop, _) = app.tokens(&email, &password).await;
    let mut on_phone = signed_in(addr, &phone).await;
    let mut on_laptop = signed_in(addr, &laptop).await;
    on_laptop.subscribe("1", USER_UPDATED).await;
    until_seen(&mut on_laptop, "1", || rename(&app, &admin, &id, "warm")).await;
    app.gql(
        "mutation($i: LogoutInput!) { logout(input: $i) { ok } }",
        json!({"i": {"refreshToken": phone_refresh}}),
    )
    .await
    .assert_ok();
    assert_eq!(
        on_phone.close_code(Duration::from_secs(10)).await,
        Some(4403)
    );
    until_seen(&mut on_laptop, "1", || {
        rename(&app, &admin, &id, "still here")
    })
    .await;
}

#[tokio::test]
async fn a_change_the_bus_never_announced_is_caught_by_the_periodic_recheck() {
    let app = TestApp::builder()
        .config(|c| c.websockets.recheck_interval = Duration::from_secs(1))
        .build()
        .await;
    let addr = app.serve().await;
    let (_, _, token, id) = app.user().await;
    let mut socket = signed_in(addr, &token).await;
    // Behind the server's back: no event is published.
    app.execute_sql(&format!(
        "UPDATE users SET status = 'SUSPENDED' WHERE id = '{id}'"
    ))
    .await;
    assert_eq!(socket.close_code(Duration::from_secs(10)).await, Some(4403));
}

#[tokio::test]
async fn an_expired_token_closes_the_socket_with_4401() {
    let app = TestApp::builder()
        .config(|c| c.access_token_ttl = Duration::from_secs(3))
        .build()
        .await;
    let addr = app.serve().await;
    let (email, password, _, _) = app.user().await;
    let (token, _) = app.tokens(&email, &password).await;
    let expires = claims(&app, &token).exp;
    let mut socket = signed_in(addr, &token).await;
    socket.subscribe("1", USER_UPDATED).await;
    assert_eq!(socket.close_code(Duration::from_secs(10)).await, Some(4401));
    assert!(
        chrono::Utc::now().timestamp() >= expires,
        "closed before the token expired"
    );
}

#[tokio::test]
async fn a_ping_with_a_newer_token_keeps_the_socket_open_until_that_one_expires() {
    let app = TestApp::builder()
        .config(|c| c.access_token_ttl = Duration::from_secs(3))
        .build()
        .await;
    let addr = app.serve().await;
    let (email, password, _, id) = app.user().await;
    let (first, _) = app.tokens(&email, &password).await;
    let first_expires = claims(&app, &first).exp;
    let mut socket = signed_in(addr, &first).await;
    socket.subscribe("1", USER_UPDATED).await;

    sleep_until_unix(first_expires as f64 - 1.0).await;
    let (second, _) = app.tokens(&email, &password).await;
    let second_expires = claims(&app, &second).exp;
    assert!(second_expires >= first_expires + 2);
    socket
        .send(json!({"type": "ping", "payload": {"authorization": format!("Bearer {second}")}}))
        .await;
    let pong = socket.next_message(Duration::from_secs(5)).await;
    assert_eq!(pong["type"], "pong", "{pong}");
    assert!(pong["payload"]["expiresAt"].is_string(), "{pong}");

    // Past the first token's expiry the socket still delivers.
    sleep_until_unix(first_expires as f64 + 0.5).await;
    let admin = app.admin_token().await;
    let seen = until_seen(&mut socket, "1", || rename(&app, &admin, &id, "renewed")).await;
    assert_eq!(seen["data"]["userUpdated"]["id"], id.as_str());
    assert_eq!(socket.close_code(Duration::from_secs(10)).await, Some(4401));
    assert!(chrono::Utc::now().timestamp() >= second_expires);
}

#[tokio::test]
async fn a_ping_with_another_users_token_closes_the_socket_with_4403() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let (_, _, alice, _) = app.user().await;
    let (_, _, bob, _) = app.user().await;
    let mut socket = signed_in(addr, &alice).await;
    socket
        .send(json!({"type": "ping", "payload": {"authorization": format!("Bearer {bob}")}}))
        .await;
    let (_, code) = socket.until_close(Duration::from_secs(10)).await;
    assert_eq!(code, Some(4403));
}

#[tokio::test]
async fn the_51st_operation_on_one_socket_is_refused_on_its_own_id() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let admin = app.admin_token().await;
    let (_, _, token, id) = app.user().await;
    let mut socket = signed_in(addr, &token).await;
    for n in 0..51 {
        socket.subscribe(&format!("s{n}"), USER_UPDATED).await;
    }
    let refused = socket.next_message(Duration::from_secs(5)).await;
    assert_eq!(refused["type"], "next", "{refused}");
    assert_eq!(refused["id"], "s50", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{refused}"
    );
    let done = socket.next_message(Duration::from_secs(5)).await;
    assert_eq!(
        (done["type"].as_str(), done["id"].as_str()),
        (Some("complete"), Some("s50"))
    );

    // Completing one frees its slot; the socket stayed open.
    socket.send(json!({"id": "s0", "type": "complete"})).await;
    socket.subscribe("again", USER_UPDATED).await;
    until_seen(&mut socket, "again", || rename(&app, &admin, &id, "slot")).await;
}

#[tokio::test]
async fn a_user_holds_at_most_the_configured_number_of_sockets() {
    let app = TestApp::builder()
        .config(|c| c.websockets.max_sockets_per_user = 3)
        .build()
        .await;
    let addr = app.serve().await;
    let (_, _, token, _) = app.user().await;
    let (_, _, other, _) = app.user().await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(signed_in(addr, &token).await);
    }
    let auth = json!({"authorization": format!("Bearer {token}")});
    match WsClient::connect(addr, auth.clone()).await {
        Init::Closed { code, .. } => assert_eq!(code, 4429),
        Init::Ack(_) => panic!("a fourth socket was accepted"),
    }
    // Someone else is not affected.
    signed_in(addr, &other).await;
    // A closed socket gives its place back.
    drop(held.pop());
    eventually(Duration::from_secs(10), "a freed socket place", || async {
        match WsClient::connect(addr, auth.clone()).await {
            Init::Ack(socket) => Some(socket),
            Init::Closed { .. } => None,
        }
    })
    .await;
}

#[tokio::test]
async fn campaign_progress_subscribers_share_one_computation() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, user, did) = app.user_with_number(&admin, &carrier).await;
    let contacts = vec![json!({"phone": "+84912345671", "name": "An", "vars": {"time": "9h"}})];
    let campaign = crate::helpers::campaign::create(&app, &token, &did, contacts, json!({})).await;
    let progress = ringcast::campaigns::progress::ProgressFeeds::of(&app.state);
    let before = progress.computations();

    let mut socket = signed_in(addr, &token).await;
    let query = format!(
        "subscription {{ campaignProgress(campaignId: \"{campaign}\") {{ contacts {{ total }} }} }}"
    );
    for n in 0..20 {
        socket.subscribe(&format!("p{n}"), &query).await;
    }
    let mut first = std::collections::HashSet::new();
    while first.len() < 20 {
        let msg = socket.next_message(Duration::from_secs(10)).await;
        assert_eq!(msg["type"], "next", "{msg}");
        assert_eq!(
            msg["payload"]["data"]["campaignProgress"]["contacts"]["total"], 1,
            "{msg}"
        );
        first.insert(msg["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        progress.computations() - before,
        1,
        "20 subscribers, one computation"
    );
    assert_eq!(progress.feeds(), 1);

    let mut event = Event::new("campaign.test", user.parse().unwrap());
    event.campaign_id = Some(campaign.parse().unwrap());
    app.state.events.publish(event).await;
    let mut again = std::collections::HashSet::new();
    while again.len() < 20 {
        let msg = socket.next_message(Duration::from_secs(10)).await;
        again.insert(msg["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        progress.computations() - before,
        2,
        "one more computation for all 20"
    );

    drop(socket);
    eventually(Duration::from_secs(10), "the feed to stop", || async {
        (progress.feeds() == 0).then_some(())
    })
    .await;
}
