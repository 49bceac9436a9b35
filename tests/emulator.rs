//! Our Twilio client against the emulator over HTTP: every resource, errors, call progress,
//! TwiML execution and signed callbacks.

use std::time::Duration;

use ringcast::emulator::{Faults, Scenario};
use ringcast::twilio::types::{CallFilter, CreateCall, NumberWebhooks};
use ringcast::twilio::TwilioError;

use crate::helpers::carrier::{Carrier, Customer};
use crate::helpers::eventually;

fn call_to(to: &str, from: &str, customer: &Customer) -> CreateCall {
    CreateCall {
        to: to.into(),
        from: from.into(),
        url: Some(format!("{}/voice", customer.base)),
        status_callback: Some(format!("{}/status", customer.base)),
        status_callback_events: ["initiated", "ringing", "answered", "completed"]
            .map(String::from)
            .to_vec(),
        ..CreateCall::default()
    }
}

async fn final_status(carrier: &Carrier, sid: &str) -> String {
    let client = carrier.client();
    eventually(Duration::from_secs(10), "the call to end", || async {
        let call = client.fetch_call(sid).await.unwrap();
        (!matches!(call.status.as_str(), "queued" | "ringing" | "in-progress"))
            .then_some(call.status)
    })
    .await
}

#[tokio::test]
async fn account_balance_and_bad_credentials() {
    let carrier = Carrier::start(2).await;
    let client = carrier.client();
    let account = client.fetch_account().await.unwrap();
    assert_eq!(account.sid, carrier.account_sid);
    assert_eq!(account.status.as_deref(), Some("active"));
    let balance = client.balance().await.unwrap();
    assert_eq!(balance.currency, "USD");
    assert!(balance.balance.parse::<f64>().is_ok());

    let wrong = ringcast::twilio::TwilioClient::new(
        ringcast::twilio::TwilioClient::http_client(),
        &carrier.base,
        &carrier.account_sid,
        ringcast::config::Secret::new("wrong"),
    );
    let err = wrong.fetch_account().await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(401), Some(20003)));
}

#[tokio::test]
async fn numbers_search_buy_update_release() {
    let carrier = Carrier::start(0).await;
    let client = carrier.client();
    let vn = client
        .search_local_numbers("VN", Some("28"), None)
        .await
        .unwrap();
    assert!(!vn.is_empty() && vn.iter().all(|n| n.phone_number.starts_with("+8428")));
    let us = client
        .search_local_numbers("us", None, Some("1415*"))
        .await
        .unwrap();
    assert!(!us.is_empty() && us.iter().all(|n| n.phone_number.starts_with("+1415")));

    let hooks = NumberWebhooks {
        voice_url: Some("http://127.0.0.1:9/voice".into()),
        ..NumberWebhooks::default()
    };
    let bought = client
        .buy_number(&vn[0].phone_number, &hooks)
        .await
        .unwrap();
    assert!(bought.sid.starts_with("PN") && bought.sid.len() == 34);
    assert_eq!(
        bought.voice_url.as_deref(),
        Some("http://127.0.0.1:9/voice")
    );
    let again = client
        .buy_number(&vn[0].phone_number, &hooks)
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some(21422), "a number is sold once");

    let listed = client.list_numbers().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|n| n.phone_number.as_str())
            .collect::<Vec<_>>(),
        vec![vn[0].phone_number.as_str()]
    );

    let moved = NumberWebhooks {
        voice_url: Some("https://ringcast.example/webhooks/twilio/inbound".into()),
        status_callback: Some("https://ringcast.example/status".into()),
        ..NumberWebhooks::default()
    };
    let updated = client.update_number(&bought.sid, &moved).await.unwrap();
    assert_eq!(updated.voice_url, moved.voice_url);
    assert_eq!(updated.status_callback, moved.status_callback);

    client.release_number(&bought.sid).await.unwrap();
    assert!(client.list_numbers().await.unwrap().is_empty());
    client.release_number(&bought.sid).await.unwrap();
}

#[tokio::test]
async fn call_creation_is_validated_like_twilio() {
    let carrier = Carrier::start(2).await;
    let client = carrier.client();
    let customer = Customer::start(&carrier.auth_token).await;
    let from = carrier.numbers()[0].clone();
    let cases = [
        (call_to("0912345678", &from, &customer), 21211),
        (call_to("+84912345670", "+84999", &customer), 21212),
        (call_to("+84912345670", "+14155550000", &customer), 21210),
        (
            CreateCall {
                url: None,
                ..call_to("+84912345670", &from, &customer)
            },
            21205,
        ),
        (
            CreateCall {
                url: Some("not a url".into()),
                ..call_to("+84912345670", &from, &customer)
            },
            21205,
        ),
        (
            CreateCall {
                to: String::new(),
                ..call_to("+84912345670", &from, &customer)
            },
            21201,
        ),
    ];
    for (request, code) in cases {
        let err = client.create_call(&request).await.unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (Some(400), Some(code)),
            "{request:?}"
        );
    }
    assert!(
        carrier.emulator.ledger().is_empty(),
        "rejected calls are never placed"
    );
    let missing = client
        .fetch_call("CA00000000000000000000000000000000")
        .await
        .unwrap_err();
    assert_eq!((missing.status(), missing.code()), (Some(404), Some(20404)));
}

#[tokio::test]
async fn an_answered_call_runs_our_twiml_and_the_digits_reach_the_gather_url() {
    let carrier = Carrier::start(2).await;
    let client = carrier.client();
    let customer = Customer::start(&carrier.auth_token).await;
    let from = carrier.numbers()[0].clone();
    let call = client
        .create_call(&call_to("+84912345671", &from, &customer))
        .await
        .unwrap();
    assert_eq!(call.status, "queued");
    assert!(call.sid.starts_with("CA") && call.sid.len() == 34);
    assert_eq!(final_status(&carrier, &call.sid).await, "completed");

    let voice = customer.hits("voice");
    assert_eq!(voice.len(), 1);
    assert!(voice[0].signed, "the TwiML fetch is signed");
    assert_eq!(voice[0].get("CallStatus"), Some("in-progress"));
    let gather = customer.hits("gather");
    assert_eq!(gather.len(), 1);
    assert_eq!(gather[0].get("Digits"), Some("1"));
    assert!(gather[0].signed);

    let statuses = eventually(
        Duration::from_secs(10),
        "the completed callback",
        || async {
            let hits = customer.hits("status");
            hits.iter()
                .any(|h| h.get("CallStatus") == Some("completed"))
                .then_some(hits)
        },
    )
    .await;
    let seen: Vec<(&str, &str)> = statuses
        .iter()
        .map(|h| {
            (
                h.get("SequenceNumber").unwrap(),
                h.get("CallStatus").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("0", "initiated"),
            ("1", "ringing"),
            ("2", "in-progress"),
            ("3", "completed")
        ]
    );
    assert!(statuses
        .iter()
        .all(|h| h.signed && h.get("CallbackSource") == Some("call-progress-events")));
    let completed = statuses.last().unwrap();
    assert!(
        completed
            .get("CallDuration")
            .unwrap()
            .parse::<u32>()
            .unwrap()
            > 0
    );
    assert!(completed
        .get("Timestamp")
        .is_some_and(|t| ringcast::twilio::types::parse_rfc2822(t).is_some()));

    let record = carrier.emulator.call(&call.sid).unwrap();
    let said: Vec<&str> = record
        .transcript
        .iter()
        .filter(|l| l.kind == "say")
        .map(|l| l.detail.as_str())
        .collect();
    assert_eq!(said, vec!["Xin chào", "Nhấn 1", "Cảm ơn"]);
    let fetched = client.fetch_call(&call.sid).await.unwrap();
    assert!(fetched.duration_secs().unwrap() > 0);
    assert!(fetched.start_time.is_some() && fetched.end_time.is_some());
}

#[tokio::test]
async fn busy_no_answer_failed_and_machine_outcomes() {
    let carrier = Carrier::start(2).await;
    let client = carrier.client();
    let customer = Customer::start(&carrier.auth_token).await;
    let from = carrier.numbers()[0].clone();
    for (to, expected) in [
        ("+84912345673", "busy"),
        ("+84912345674", "no-answer"),
        ("+84912345675", "failed"),
    ] {
        let call = client
            .create_call(&CreateCall {
                timeout_secs: Some(10),
                ..call_to(to, &from, &customer)
            })
            .await
            .unwrap();
        assert_eq!(final_status(&carrier, &call.sid).await, expected, "{to}");
        let fetched = client.fetch_call(&call.sid).await.unwrap();
        assert_eq!(fetched.duration.as_deref(), Some("0"));
    }
    let machine = client
        .create_call(&CreateCall {
            machine_detection: Some("Enable".into()),
            ..call_to("+84912345676", &from, &customer)
        })
        .await
        .unwrap();
    assert_eq!(final_status(&carrier, &machine.sid).await, "completed");
    assert_eq!(
        client
            .fetch_call(&machine.sid)
            .await
            .unwrap()
            .answered_by
            .as_deref(),
        Some("machine_end_beep")
    );
    assert_eq!(
        customer.hits("voice").last().unwrap().get("AnsweredBy"),
        Some("machine_end_beep")
    );
}

#[tokio::test]
async fn list_filters_and_pagination_follow_next_page_uri() {
    let carrier = Carrier::start(2).await;
    let client = carrier.client();
    let customer = Customer::start(&carrier.auth_token).await;
    let from = carrier.numbers()[0].clone();
    let started = chrono::Utc::now() - chrono::Duration::seconds(5);
    for to in [
        "+84912345670",
        "+84912345670",
        "+84912345670",
        "+84912345673",
    ] {
        client
            .create_call(&call_to(to, &from, &customer))
            .await
            .unwrap();
    }
    let filter = CallFilter {
        to: Some("+84912345670".into()),
        started_after: Some(started),
        page_size: Some(2),
        ..CallFilter::default()
    };
    let calls = client.list_calls(&filter).await.unwrap();
    assert_eq!(
        calls.len(),
        3,
        "three pages of two, followed through next_page_uri"
    );
    assert!(calls
        .iter()
        .all(|c| c.to.as_deref() == Some("+84912345670")));
    let future = CallFilter {
        started_after: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        ..CallFilter::default()
    };
    assert!(client.list_calls(&future).await.unwrap().is_empty());
    assert_eq!(carrier.emulator.ledger().len(), 4);
}

#[tokio::test]
async fn a_ringing_call_can_be_canceled() {
    let carrier = Carrier::start(2).await;
    // Slow enough that the cancel lands while it rings: 60 s ring = 30 ms at this scale.
    let client = carrier.client();
    let customer = Customer::start(&carrier.auth_token).await;
    let from = carrier.numbers()[0].clone();
    let call = client
        .create_call(&CreateCall {
            timeout_secs: Some(600),
            ..call_to("+84912345674", &from, &customer)
        })
        .await
        .unwrap();
    client.end_call(&call.sid, "canceled").await.unwrap();
    assert_eq!(final_status(&carrier, &call.sid).await, "canceled");
    assert!(customer.hits("voice").is_empty());
}

#[tokio::test]
async fn rest_faults_are_retried_on_reads_and_never_double_place_a_call() {
    let carrier = Carrier::start(2).await;
    let client = carrier.client();
    let customer = Customer::start(&carrier.auth_token).await;
    let from = carrier.numbers()[0].clone();
    carrier.emulator.set_faults(Faults {
        rest_429: 100.0,
        ..Faults::default()
    });
    let err = client.fetch_account().await.unwrap_err();
    assert_eq!(err.code(), Some(20429));
    let err = client
        .create_call(&call_to("+84912345670", &from, &customer))
        .await
        .unwrap_err();
    assert!(err.was_not_processed(), "{err}");
    carrier.emulator.set_faults(Faults {
        rest_500: 100.0,
        ..Faults::default()
    });
    let err = client
        .create_call(&call_to("+84912345670", &from, &customer))
        .await
        .unwrap_err();
    assert!(matches!(err, TwilioError::Api { status: 500, .. }) && !err.was_not_processed());
    assert!(
        carrier.emulator.ledger().is_empty(),
        "faulted requests were not processed"
    );

    // One request in five fails: reads get through by retrying.
    carrier.emulator.set_faults(Faults {
        rest_500: 20.0,
        ..Faults::default()
    });
    for _ in 0..5 {
        client.fetch_account().await.unwrap();
    }
    carrier.emulator.set_faults(Faults::default());
    carrier.emulator.set_scenario(Scenario::ByLastDigit);
}
