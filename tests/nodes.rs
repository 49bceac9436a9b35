//! Several real `ringcast` processes on one database and one Redis: racing dispatchers, a
//! process killed mid-campaign, and live events crossing from one process to another.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::calling_hours::numbers_open_now;
use crate::helpers::carrier::Carrier;
use crate::helpers::node::Node;
use crate::helpers::{campaign, eventually, TestApp};

fn dial_counts(carrier: &Carrier) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for entry in carrier.emulator.ledger() {
        *counts.entry(entry.to).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn fifty_campaigns_racing_on_two_workers_dial_a_shared_number_no_more_than_the_cap() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(5).await;
    // Two a day with no gap: the race, not the gap, is what must hold the line.
    app.gql_as(
        &admin,
        "mutation { setPlatformCallingCaps(input: {maxPer24h: 2, minGapMinutes: 0}) { caps { maxPer24h } } }",
        json!({}),
    )
    .await
    .assert_ok();
    let numbers = numbers_open_now(101);
    let shared = numbers[0].clone();
    let mut unique = numbers[1..].iter();
    for _user in 0..5 {
        let (token, _, did) = app.user_with_number(&admin, &carrier).await;
        for _ in 0..10 {
            let contacts = vec![
                json!({"phone": shared}),
                json!({"phone": unique.next().unwrap()}),
                json!({"phone": unique.next().unwrap()}),
            ];
            let id = campaign::create(&app, &token, &did, contacts, json!({})).await;
            campaign::start(&app, &token, &id).await;
        }
    }
    let (a, b) = tokio::join!(Node::worker(&app), Node::worker(&app));
    eventually(Duration::from_secs(90), "every contact handled", || async {
        let settled = app
            .count(&format!(
                "campaign_contacts WHERE phone <> '{shared}' AND state IN ('DONE', 'FAILED', 'OPTED_OUT')"
            ))
            .await;
        let shared_handled = app
            .count(&format!(
                "campaign_contacts WHERE phone = '{shared}' AND (state = 'DONE' OR skip_reason = 'CAP')"
            ))
            .await;
        (settled == 100 && shared_handled == 50).then_some(())
    })
    .await;
    let counts = dial_counts(&carrier);
    assert_eq!(
        counts.get(&shared),
        Some(&2),
        "the carrier rang the shared number exactly as often as the cap allows"
    );
    assert_eq!(counts.len(), 101);
    assert!(counts.values().all(|n| *n <= 2));
    // A contact the other node is still turning back counts as handled a moment before it is
    // back in the queue; give that moment, then show whichever contact is not waiting.
    let waiting_sql = format!("campaign_contacts WHERE phone = '{shared}' AND state = 'PENDING' AND skip_reason = 'CAP' AND next_attempt_at > now() + interval '23 hours'");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut waiting = app.count(&waiting_sql).await;
    while waiting != 48 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waiting = app.count(&waiting_sql).await;
    }
    assert_eq!(
        waiting,
        48,
        "the other 48 wait for the cap to reopen tomorrow; those that do not: {:?}",
        app.rows_as_json(&format!("SELECT id, state, skip_reason, attempts, next_attempt_at, now() AS db_now FROM campaign_contacts WHERE phone = '{shared}' AND NOT (state = 'PENDING' AND skip_reason = 'CAP' AND next_attempt_at > now() + interval '23 hours')")).await
    );
    tokio::join!(a.stop(), b.stop());
    // Whatever the stopped nodes left in the queue.
    app.drain_jobs().await;
}

#[tokio::test]
async fn a_worker_killed_mid_campaign_dials_no_attempt_twice_and_loses_no_contact() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let numbers = numbers_open_now(300);
    let contacts: Vec<Value> = numbers.iter().map(|n| json!({"phone": n})).collect();
    let id = campaign::create(
        &app,
        &token,
        &did,
        contacts,
        // Paced below the claim rate, so the worker always has recorded attempts waiting for
        // their slot when it dies, however fast or slow this machine is.
        json!({"pacing": {"callsPerSecond": 10, "maxConcurrent": 25}}),
    )
    .await;
    campaign::start(&app, &token, &id).await;

    let first = Node::worker(&app).await;
    eventually(
        Duration::from_secs(60),
        "the first worker to be mid-campaign",
        || async { (carrier.emulator.ledger().len() >= 60).then_some(()) },
    )
    .await;
    first.kill().await;
    // What the dead worker recorded but never confirmed: some requests reached the carrier,
    // some never left. Ten minutes pass for them (reconciliation's grace period).
    app.execute_sql(
        "UPDATE calls SET created_at = created_at - interval '11 minutes', updated_at = updated_at - interval '11 minutes'
         WHERE twilio_sid IS NULL AND status = 'QUEUED'",
    )
    .await;
    let orphans = ringcast::calls::reconcile::run(&app.state)
        .await
        .ok()
        .unwrap();
    assert!(
        orphans.never_placed + orphans.adopted > 0,
        "the kill left recorded attempts behind: {orphans:?}"
    );
    let second = Node::worker(&app).await;
    let done = eventually(Duration::from_secs(90), "the campaign to complete", || async {
        let c = app
            .gql_as(&token, "query($id: ID!) { campaign(id: $id) { status contactCounts { total done failed optedOut pending calling } } }", json!({"id": id}))
            .await;
        (c.str("campaign.status") == "COMPLETED").then(|| c.data("campaign").clone())
    })
    .await;
    second.stop().await;
    // Whatever the stopped nodes left in the queue.
    app.drain_jobs().await;

    let counts = dial_counts(&carrier);
    assert!(
        counts.values().all(|n| *n == 1),
        "a number was dialed twice: {orphans:?}"
    );
    assert_eq!(
        counts.len(),
        300,
        "every contact was dialed ({orphans:?}): {done}"
    );
    assert_eq!(done["contactCounts"]["done"], 300, "{done}");
    // Every call the carrier placed is ours, with its SID.
    assert_eq!(app.count("calls WHERE twilio_sid IS NOT NULL").await, 300);
}

#[tokio::test]
async fn a_subscriber_on_one_process_sees_the_calls_another_process_places() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let numbers = numbers_open_now(3);
    let contacts: Vec<Value> = numbers.iter().map(|n| json!({"phone": n})).collect();
    let id = campaign::create(&app, &token, &did, contacts, json!({})).await;

    // This process only serves the subscription; the other dials and takes the webhooks.
    let mut socket = app
        .subscribe_as(
            &token,
            &format!("subscription {{ callUpdated(campaignId: \"{id}\") {{ to status }} }}"),
        )
        .await;
    let other = Node::serve(&app).await;
    // The start goes to the other process too, as a load balancer might send it.
    let started: Value = reqwest::Client::new()
        .post(format!("{}/graphql", other.base.as_deref().unwrap()))
        .bearer_auth(&token)
        .json(&json!({"query": "mutation($i: StartCampaignInput!) { startCampaign(input: $i) { campaign { status } } }", "variables": {"i": {"id": id}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        started["data"]["startCampaign"]["campaign"]["status"], "RUNNING",
        "{started}"
    );
    let mut completed = Vec::new();
    while completed.len() < 3 {
        let event = socket.next_payload(Duration::from_secs(30)).await;
        let update = &event["data"]["callUpdated"];
        if update["status"] == "COMPLETED" {
            completed.push(update["to"].as_str().unwrap().to_owned());
        }
    }
    completed.sort();
    assert_eq!(completed, numbers);
    other.stop().await;
    // Whatever the stopped nodes left in the queue.
    app.drain_jobs().await;
}

/// SIGTERM while a campaign has many due contacts and a job is mid-run: websockets get 1001,
/// nothing is claimed or placed after the signal, the running job finishes, and the process
/// exits 0.
#[tokio::test]
async fn sigterm_says_goodbye_to_websockets_and_exits_cleanly() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    // A second account on a carrier of its own, which will be slow to answer the account check.
    let slow = Carrier::start(1).await;
    let slow_account = app.add_carrier_account(&admin, &slow).await;
    let contacts: Vec<Value> = numbers_open_now(100)
        .iter()
        .map(|n| json!({"phone": n}))
        .collect();
    // Slow pacing: the campaign is far from done when the signal comes.
    let id = campaign::create(
        &app,
        &token,
        &did,
        contacts,
        json!({"pacing": {"callsPerSecond": 2, "maxConcurrent": 50}}),
    )
    .await;

    let node = Node::serve(&app).await;
    let addr = node
        .base
        .as_deref()
        .and_then(|b| b.strip_prefix("http://"))
        .and_then(|a| a.parse().ok())
        .unwrap();
    let mut socket = match crate::helpers::ws::WsClient::connect(
        addr,
        json!({"authorization": format!("Bearer {admin}")}),
    )
    .await
    {
        crate::helpers::ws::Init::Ack(socket) => socket,
        _ => panic!("websocket refused"),
    };
    socket
        .subscribe("1", "subscription { userUpdated { id } }")
        .await;
    campaign::start(&app, &token, &id).await;
    eventually(
        Duration::from_secs(30),
        "the node to be dialing",
        || async { (carrier.emulator.ledger().len() >= 2).then_some(()) },
    )
    .await;

    // A job that is running when the signal comes: the account check, held by the slow carrier.
    // The node's own periodic check may still be queued or running; wait for it to finish first.
    eventually(
        Duration::from_secs(30),
        "the startup account check to finish",
        || async {
            (app.count("background_jobs WHERE job_type = 'check_twilio_accounts'")
                .await
                == 0)
                .then_some(())
        },
    )
    .await;
    slow.emulator.set_faults(ringcast::emulator::Faults {
        outage_ms: 3_000,
        ..Default::default()
    });
    let mut conn = app.state.db.get().await.unwrap();
    assert!(ringcast::jobs::queue::enqueue(
        &mut conn,
        &ringcast::twilio_accounts::jobs::CheckTwilioAccounts
    )
    .await
    .unwrap());
    drop(conn);
    eventually(Duration::from_secs(10), "the account check to be running", || async {
        // A running job's row is locked by the worker's transaction.
        let waiting = app
            .count("(SELECT id FROM background_jobs WHERE job_type = 'check_twilio_accounts' FOR UPDATE SKIP LOCKED) AS free")
            .await;
        let queued = app
            .count("background_jobs WHERE job_type = 'check_twilio_accounts'")
            .await;
        (queued == 1 && waiting == 0).then_some(())
    })
    .await;

    let (code, signalled) = tokio::join!(socket.close_code(Duration::from_secs(30)), node.stop());
    assert_eq!(
        code,
        Some(1001),
        "a close frame saying the server is going away"
    );

    // Nothing claimed or placed after the signal, though contacts were still due.
    let late: Vec<_> = carrier
        .emulator
        .ledger()
        .into_iter()
        .filter(|entry| entry.created_at > signalled)
        .collect();
    assert!(
        late.is_empty(),
        "placed after SIGTERM at {signalled}: {late:?}"
    );
    assert_eq!(
        app.count(&format!(
            "calls WHERE created_at > '{}'",
            signalled.to_rfc3339()
        ))
        .await,
        0,
        "calls recorded after SIGTERM"
    );
    assert!(
        app.count(&format!(
            "campaign_contacts WHERE campaign_id = '{id}' AND state = 'PENDING'"
        ))
        .await
            > 0,
        "the campaign still had due contacts"
    );
    // What was claimed but still waiting for its pacing slot was canceled unsent (its contact
    // gets another attempt), not left for reconciliation to guess about.
    assert_eq!(
        app.count("calls WHERE twilio_sid IS NULL AND status <> 'CANCELED'")
            .await,
        0,
        "a claimed call was left neither placed nor canceled"
    );
    // The job running at the signal finished: its row is gone and its effect is recorded.
    assert_eq!(
        app.count("background_jobs WHERE job_type = 'check_twilio_accounts'")
            .await,
        0,
        "the running job was abandoned"
    );
    assert_eq!(
        app.count(&format!(
            "twilio_accounts WHERE id = '{}' AND last_checked_at > '{}'",
            slow_account,
            signalled.to_rfc3339()
        ))
        .await,
        1,
        "the running job finished after the signal"
    );
    // What the node left in the queue was never started or failed: no retries, no errors.
    assert_eq!(
        app.count("background_jobs WHERE retries > 0 OR last_error IS NOT NULL")
            .await,
        0
    );
    app.drain_jobs().await;
}
