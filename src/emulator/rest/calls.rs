//! The Calls resource: create, fetch, update (redirect or hang up), delete and list with filters.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::{DateTime, NaiveDate, Utc};

use super::{envelope, err, is_e164, is_http_url, not_found, page_args, param, Params};
use crate::emulator::state::{sid, EmuCall, LedgerEntry};
use crate::emulator::{progress, render, Emulator};

pub(super) async fn create_call(
    State(emu): State<Emulator>,
    Path(account): Path<String>,
    Form(p): Form<Params>,
) -> Response {
    let bad = |code, message: &str| err(StatusCode::BAD_REQUEST, code, message);
    let Some(to) = param(&p, "To") else {
        return bad(21201, "No 'To' number is specified");
    };
    let Some(from) = param(&p, "From") else {
        return bad(21213, "No 'From' number is specified");
    };
    if !is_e164(to) {
        return bad(
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    if !is_e164(from) {
        return bad(21212, &format!("The 'From' number {from} is not a valid phone number, shortcode, or alphanumeric sender ID."));
    }
    let url = param(&p, "Url");
    let twiml = param(&p, "Twiml");
    match (url, twiml) {
        (None, None) => {
            return bad(
                21205,
                "Url parameter is required (or Twiml, or ApplicationSid).",
            )
        }
        (Some(u), _) if !is_http_url(u) => {
            return bad(21205, &format!("Url is not a valid URL: {u}"))
        }
        _ => {}
    }
    if let Some(cb) = param(&p, "StatusCallback") {
        if !is_http_url(cb) {
            return bad(21205, &format!("StatusCallback is not a valid URL: {cb}"));
        }
    }
    let created = emu.with(|w| {
        let number_sid = w.owns(&account, from).map(|n| n.sid.clone())?;
        let now = Utc::now();
        let call = EmuCall {
            sid: sid("CA", &mut w.rng),
            account_sid: account.clone(),
            to: to.to_owned(),
            from: from.to_owned(),
            phone_number_sid: Some(number_sid),
            status: "queued".into(),
            answered_by: None,
            created: now,
            updated: now,
            start_time: None,
            end_time: None,
            duration: None,
            // Twilio ignores Twiml when Url is given.
            url: url.map(str::to_owned),
            method: param(&p, "Method").unwrap_or("POST").to_ascii_uppercase(),
            twiml: if url.is_some() {
                None
            } else {
                twiml.map(str::to_owned)
            },
            status_callback: param(&p, "StatusCallback").map(str::to_owned),
            status_callback_method: param(&p, "StatusCallbackMethod")
                .unwrap_or("POST")
                .to_ascii_uppercase(),
            status_callback_events: p
                .iter()
                .filter(|(k, _)| k == "StatusCallbackEvent")
                .map(|(_, v)| v.clone())
                .collect(),
            timeout_secs: param(&p, "Timeout")
                .and_then(|t| t.parse().ok())
                .unwrap_or(60)
                .min(600),
            machine_detection: param(&p, "MachineDetection").map(str::to_owned),
            async_amd: param(&p, "AsyncAmd") == Some("true"),
            async_amd_callback: param(&p, "AsyncAmdStatusCallback").map(str::to_owned),
            end_requested: None,
            direction: "outbound-api".into(),
            parent_call_sid: None,
            transcript: Vec::new(),
        };
        w.ledger.push(LedgerEntry {
            sid: call.sid.clone(),
            account_sid: account.clone(),
            to: call.to.clone(),
            from: call.from.clone(),
            created_at: now,
            status: call.status.clone(),
            duration: None,
            answered_by: None,
        });
        w.call_order.push(call.sid.clone());
        w.calls.insert(call.sid.clone(), call.clone());
        Some(call)
    });
    let Some(call) = created else {
        return bad(
            21210,
            &format!(
                "The source phone number provided, {from}, is not yet verified for your account."
            ),
        );
    };
    tokio::spawn(progress::run(emu.clone(), call.sid.clone()));
    (StatusCode::CREATED, Json(render::call(&call))).into_response()
}

fn call_sid(segment: &str) -> Option<&str> {
    segment
        .strip_suffix(".json")
        .filter(|s| s.starts_with("CA"))
}

pub(super) async fn fetch_call(
    State(emu): State<Emulator>,
    Path((account, call)): Path<(String, String)>,
) -> Response {
    let sid = call_sid(&call).unwrap_or_default();
    emu.with(|w| {
        w.calls
            .get(sid)
            .filter(|c| c.account_sid == account)
            .map(render::call)
    })
    .map_or_else(|| not_found(&call), |v| Json(v).into_response())
}

pub(super) async fn update_call(
    State(emu): State<Emulator>,
    Path((account, call)): Path<(String, String)>,
    Form(p): Form<Params>,
) -> Response {
    let sid = call_sid(&call).unwrap_or_default().to_owned();
    let status = param(&p, "Status").map(str::to_owned);
    if let Some(s) = &status {
        if s != "canceled" && s != "completed" {
            return err(
                StatusCode::BAD_REQUEST,
                21218,
                "Status must be canceled or completed",
            );
        }
    }
    let updated = emu.with(|w| {
        let call = w.calls.get_mut(&sid).filter(|c| c.account_sid == account)?;
        if let Some(s) = status {
            call.end_requested = Some(s);
        }
        call.updated = Utc::now();
        Some(render::call(call))
    });
    updated.map_or_else(|| not_found(&call), |v| Json(v).into_response())
}

pub(super) async fn delete_call(
    State(emu): State<Emulator>,
    Path((account, call)): Path<(String, String)>,
) -> Response {
    let sid = call_sid(&call).unwrap_or_default().to_owned();
    // Only the record goes; the ledger keeps the fact that the call was placed.
    let removed = emu.with(|w| {
        let owned = w.calls.get(&sid).is_some_and(|c| c.account_sid == account);
        owned.then(|| w.calls.remove(&sid)).flatten()
    });
    match removed {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(&call),
    }
}

/// `YYYY-MM-DD` (midnight UTC) or a full RFC 3339 timestamp, as the SDK sends.
pub(super) fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
                .map(|d| d.and_utc())
        })
}

pub(super) async fn list_calls(
    State(emu): State<Emulator>,
    Path(account): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let (size, page) = page_args(&q);
    let after = param(&q, "StartTime>")
        .or_else(|| param(&q, "StartTime>="))
        .and_then(parse_time);
    let before = param(&q, "StartTime<")
        .or_else(|| param(&q, "StartTime<="))
        .and_then(parse_time);
    let on = param(&q, "StartTime").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let (items, total) = emu.with(|w| {
        let matching: Vec<&EmuCall> = w
            .call_order
            .iter()
            .rev()
            .filter_map(|sid| w.calls.get(sid))
            .filter(|c| c.account_sid == account)
            .filter(|c| param(&q, "To").is_none_or(|v| c.to == v))
            .filter(|c| param(&q, "From").is_none_or(|v| c.from == v))
            .filter(|c| param(&q, "Status").is_none_or(|v| c.status == v))
            .filter(|c| {
                let t = c.start_time.unwrap_or(c.created);
                after.is_none_or(|a| t >= a)
                    && before.is_none_or(|b| t <= b)
                    && on.is_none_or(|d| t.date_naive() == d)
            })
            .collect();
        let total = matching.len();
        let items = matching
            .into_iter()
            .skip(page * size)
            .take(size)
            .map(render::call)
            .collect::<Vec<_>>();
        (items, total)
    });
    let path = format!("/2010-04-01/Accounts/{account}/Calls.json");
    Json(envelope("calls", &path, &q, items, total, page, size)).into_response()
}
