//! The IncomingPhoneNumbers and AvailablePhoneNumbers resources: buy, list, update, release, search.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::Utc;
use serde_json::{json, Value};

use super::{envelope, err, is_e164, not_found, page_args, param, Params};
use crate::emulator::{render, Emulator};

pub(super) async fn list_numbers(
    State(emu): State<Emulator>,
    Path(account): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let (size, page) = page_args(&q);
    let filter = param(&q, "PhoneNumber").map(|p| p.replace('*', ""));
    let (items, total) = emu.with(|w| {
        let mut numbers: Vec<_> = w
            .numbers
            .values()
            .filter(|n| n.account_sid == account)
            .filter(|n| filter.as_deref().is_none_or(|f| n.phone_number.contains(f)))
            .collect();
        numbers.sort_by(|a, b| a.created.cmp(&b.created).then(a.sid.cmp(&b.sid)));
        let total = numbers.len();
        (
            numbers
                .into_iter()
                .skip(page * size)
                .take(size)
                .map(render::number)
                .collect::<Vec<_>>(),
            total,
        )
    });
    let path = format!("/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json");
    Json(envelope(
        "incoming_phone_numbers",
        &path,
        &q,
        items,
        total,
        page,
        size,
    ))
    .into_response()
}

pub(super) async fn buy_number(
    State(emu): State<Emulator>,
    Path(account): Path<String>,
    Form(p): Form<Params>,
) -> Response {
    let Some(phone) = param(&p, "PhoneNumber").map(str::to_owned) else {
        return err(
            StatusCode::BAD_REQUEST,
            21421,
            "PhoneNumber is required (AreaCode purchases are not emulated)",
        );
    };
    if !is_e164(&phone) {
        return err(
            StatusCode::BAD_REQUEST,
            21421,
            &format!("PhoneNumber {phone} is invalid"),
        );
    }
    let bought = emu.with(|w| {
        let pos = w.available.iter().position(|a| a.phone_number == phone)?;
        w.available.remove(pos);
        let mut number = w.own_number(
            &account,
            &phone,
            param(&p, "VoiceUrl").map(str::to_owned),
            param(&p, "StatusCallback").map(str::to_owned),
        );
        if let Some(name) = param(&p, "FriendlyName") {
            number.friendly_name = name.to_owned();
            w.numbers.insert(number.sid.clone(), number.clone());
        }
        Some(render::number(&number))
    });
    match bought {
        Some(v) => (StatusCode::CREATED, Json(v)).into_response(),
        None => err(
            StatusCode::BAD_REQUEST,
            21422,
            &format!("PhoneNumber {phone} is not available"),
        ),
    }
}

fn number_sid(segment: &str) -> &str {
    segment.strip_suffix(".json").unwrap_or_default()
}

pub(super) async fn fetch_number(
    State(emu): State<Emulator>,
    Path((account, number)): Path<(String, String)>,
) -> Response {
    let sid = number_sid(&number);
    emu.with(|w| {
        w.numbers
            .get(sid)
            .filter(|n| n.account_sid == account)
            .map(render::number)
    })
    .map_or_else(|| not_found(&number), |v| Json(v).into_response())
}

pub(super) async fn update_number(
    State(emu): State<Emulator>,
    Path((account, number)): Path<(String, String)>,
    Form(p): Form<Params>,
) -> Response {
    let sid = number_sid(&number).to_owned();
    let updated = emu.with(|w| {
        let n = w
            .numbers
            .get_mut(&sid)
            .filter(|n| n.account_sid == account)?;
        if let Some(v) = param(&p, "VoiceUrl") {
            n.voice_url = Some(v.to_owned());
        }
        if let Some(v) = param(&p, "VoiceMethod") {
            n.voice_method = v.to_ascii_uppercase();
        }
        if let Some(v) = param(&p, "StatusCallback") {
            n.status_callback = Some(v.to_owned());
        }
        if let Some(v) = param(&p, "StatusCallbackMethod") {
            n.status_callback_method = v.to_ascii_uppercase();
        }
        if let Some(v) = param(&p, "FriendlyName") {
            n.friendly_name = v.to_owned();
        }
        n.updated = Utc::now();
        Some(render::number(n))
    });
    updated.map_or_else(|| not_found(&number), |v| Json(v).into_response())
}

pub(super) async fn release_number(
    State(emu): State<Emulator>,
    Path((account, number)): Path<(String, String)>,
) -> Response {
    let sid = number_sid(&number).to_owned();
    let removed = emu.with(|w| {
        let n = w
            .numbers
            .get(&sid)
            .filter(|n| n.account_sid == account)?
            .clone();
        w.numbers.remove(&sid);
        Some(n)
    });
    match removed {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(&number),
    }
}

pub(super) async fn search_numbers(
    State(emu): State<Emulator>,
    Path((account, country)): Path<(String, String)>,
    Query(q): Query<Params>,
) -> Response {
    let country = country.to_ascii_uppercase();
    let area = param(&q, "AreaCode").map(str::to_owned);
    let contains = param(&q, "Contains").map(str::to_owned);
    let items: Vec<Value> = emu.with(|w| {
        w.available
            .iter()
            .filter(|a| a.iso_country == country)
            .filter(|a| {
                let national = a
                    .phone_number
                    .trim_start_matches('+')
                    .trim_start_matches(if country == "US" { "1" } else { "84" });
                area.as_deref().is_none_or(|ac| national.starts_with(ac))
            })
            .filter(|a| {
                contains
                    .as_deref()
                    .is_none_or(|c| wildcard_contains(&a.phone_number, c))
            })
            .take(30)
            .map(render::available)
            .collect()
    });
    let uri = format!("/2010-04-01/Accounts/{account}/AvailablePhoneNumbers/{country}/Local.json");
    Json(json!({"uri": uri, "available_phone_numbers": items})).into_response()
}

/// `Contains` digits where `*` matches any one digit.
pub(super) fn wildcard_contains(number: &str, pattern: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let digits: Vec<char> = number.chars().collect();
    !pattern.is_empty()
        && digits
            .windows(pattern.len())
            .any(|w| w.iter().zip(&pattern).all(|(d, p)| *p == '*' || d == p))
}
